import type { Runner } from 'graphile-worker'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
	cancelBroadcast,
	freezeAudience,
	launchBroadcast,
	pauseBroadcast,
	resumeBroadcast,
	scheduleBroadcast,
} from '#app/lib/broadcasts/broadcasts.server'
import { sql } from '#db/client'
import { dispatchSlice, inFlightCap } from './dispatch.server'
import { sweepDeadWorkers } from './heartbeat.server'
import { claimRows, writeResults } from './ledger.server'
import { reconcileUnknown } from './reconcile.server'
import { startSandboxProcess, startWorkerProcess, stopWorker } from '#tests/reliability/harness'
import { maxInWindow } from '#tests/support/rate-window'
import {
	broadcastStatus,
	RECEIVER_JITTER_MS,
	recipientCounts,
	seedBroadcast,
	seedContacts,
	seedSender,
	seedTemplate,
	startTestSandbox,
	startTestWorker,
	TEST_TEMPLATE,
	waitFor,
} from './testing.server'

let sandbox: Awaited<ReturnType<typeof startTestSandbox>>
const runners: Runner[] = []

beforeAll(async () => {
	sandbox = await startTestSandbox({}, 1000)
})
afterEach(async () => {
	await Promise.all(runners.splice(0).map((runner) => runner.stop()))
	sandbox.reset()
})
afterAll(async () => {
	await sandbox.close()
})

let tagCounter = 0
/** A frozen, sending broadcast of `count` contacts on a fresh sender. */
async function sendingBroadcast(count: number, rate = 200, templateName?: string) {
	const tag = `engine-${++tagCounter}`
	const sender = await seedSender(rate)
	const template = await seedTemplate('APPROVED', templateName)
	await seedContacts(count, tag)
	const broadcast = await seedBroadcast({ senderId: sender.id, templateId: template.id, tag })
	await scheduleBroadcast(broadcast.id, { at: null }, null)
	const launched = await launchBroadcast(broadcast.id)
	expect(launched.status).toBe('sending')
	return { broadcast, sender, template }
}

function ledgerFor(phoneNumberId: string) {
	return sandbox.ledger().filter((entry) => entry.phoneNumberId === phoneNumberId)
}

async function wamidsOf(broadcastId: string) {
	const rows = await sql<Array<{ wamid: string; id: string }>>`
		select id, wamid from broadcast_recipients where broadcast_id = ${broadcastId}::uuid and wamid is not null`
	return rows
}

describe('a broadcast end to end, through graphile-worker and the sandbox', () => {
	test('is sent to every queued recipient exactly once and completes', async () => {
		const tag = `engine-${++tagCounter}`
		const sender = await seedSender(200)
		const template = await seedTemplate()
		await seedContacts(300, tag, { optedOutEvery: 10 })
		const broadcast = await seedBroadcast({ senderId: sender.id, templateId: template.id, tag })
		await scheduleBroadcast(broadcast.id, { at: null, timezone: 'America/Lima' }, null)
		// Safe to call twice: the second schedule replaces the keyed launch job.
		await scheduleBroadcast(broadcast.id, { at: null, timezone: 'America/Lima' }, null)
		runners.push(await startTestWorker())
		await waitFor(async () => (await broadcastStatus(broadcast.id)).status === 'completed')

		const counts = await recipientCounts(broadcast.id)
		expect(counts).toEqual({ sent: 270, skipped: 30 })
		const ledger = ledgerFor(sender.phoneNumberId)
		expect(ledger.length).toBe(270)
		expect(new Set(ledger.map((entry) => entry.to)).size).toBe(270)
		const rows = await wamidsOf(broadcast.id)
		const byWamid = new Map(ledger.map((entry) => [entry.wamid, entry]))
		for (const row of rows) {
			const entry = byWamid.get(row.wamid)!
			expect(entry).toBeDefined()
			expect(entry.callbackData).toMatch(new RegExp(`^r:${row.id}:a:[0-9a-f-]{36}$`))
		}
		// A second launch does nothing.
		expect((await launchBroadcast(broadcast.id)).launched).toBe(false)
	})

	test('two worker processes sending on one sender never exceed its rate together', async () => {
		const tag = `engine-${++tagCounter}`
		const sender = await seedSender(40)
		const template = await seedTemplate()
		await seedContacts(200, tag)
		const a = await seedBroadcast({ senderId: sender.id, templateId: template.id, tag })
		const b = await seedBroadcast({ senderId: sender.id, templateId: template.id, tag })
		// The sandbox and both workers in their own processes, as deployed; the sandbox does not
		// enforce a rate here (1000/s), so its ledger shows exactly what arrived.
		const remote = await startSandboxProcess({ templates: [TEST_TEMPLATE] })
		const one = { WORKER_CONCURRENCY: '1' }
		const workers = [
			await startWorkerProcess(remote.url, one),
			await startWorkerProcess(remote.url, one),
		]
		try {
			await scheduleBroadcast(a.id, { at: null }, null)
			await scheduleBroadcast(b.id, { at: null }, null)
			await waitFor(
				async () => {
					const [x, y] = [await broadcastStatus(a.id), await broadcastStatus(b.id)]
					return x.status === 'completed' && y.status === 'completed'
				},
				40_000,
				250,
			)
			const ledger = await remote.ledger(sender.phoneNumberId)
			expect(ledger.length).toBe(400)
			expect(new Set(ledger.map((entry) => entry.callbackData)).size).toBe(400)
			const arrivals = ledger.map((entry) => Date.parse(entry.acceptedAt))
			expect(maxInWindow(arrivals, 1000 - RECEIVER_JITTER_MS)).toBeLessThanOrEqual(40)
			// Both processes did send (the claims were shared, not serialised on one).
			const pools = await sql`select count(distinct claimed_by)::int as n from broadcast_recipients
				where broadcast_id in (${a.id}::uuid, ${b.id}::uuid)`
			expect(pools[0].n).toBeGreaterThanOrEqual(2)
		} finally {
			await Promise.all(workers.map((worker) => stopWorker(worker)))
			await remote.stop()
		}
	}, 60_000)
})

describe('slice handover', () => {
	test('a slice ends only after firing the slots it booked, so none is lost to the next', async () => {
		const { broadcast, sender } = await sendingBroadcast(400, 100)
		const result = await dispatchSlice(broadcast.id, { sliceMs: 1000 })
		expect(result.next).toBe('continue')
		// The bucket's next free slot follows the last fired one: nothing booked was left unused.
		const [bucket] = await sql<Array<{ ahead_ms: number }>>`
			select (extract(epoch from refilled_at - clock_timestamp()) * 1000)::float8 as ahead_ms
			from sender_rate_buckets where sender_id = ${sender.id}::uuid`
		expect(bucket.ahead_ms).toBeLessThan(15)
		const sentRows = await recipientCounts(broadcast.id)
		expect(ledgerFor(sender.phoneNumberId).length).toBe(sentRows.sent)
		expect(sentRows.sent + (sentRows.queued ?? 0)).toBe(400)
	})
})

describe('each error class moves the row to the right state', () => {
	test('retryable (429 with Retry-After) → retry_wait no sooner than suggested', async () => {
		const { broadcast } = await sendingBroadcast(5)
		sandbox.updateSettings({ faults: { http429Share: 1, retryAfterSeconds: 30 } })
		const result = await dispatchSlice(broadcast.id, { sliceMs: 1000 })
		expect(result.next).toBe('continue')
		expect(await recipientCounts(broadcast.id)).toEqual({ retry_wait: 5 })
		const rows = await sql<Array<{ wait: number; error_code: number; attempts: number }>>`
			select extract(epoch from next_attempt_at - now())::float8 as wait, error_code, attempts
			from broadcast_recipients where broadcast_id = ${broadcast.id}::uuid`
		for (const row of rows) {
			expect(row.error_code).toBe(429)
			expect(row.wait).toBeGreaterThan(25)
			expect(row.attempts).toBe(1)
		}
		// Due rows are claimed again first; the attempt counter grows.
		sandbox.updateSettings({ faults: { http429Share: 0 } })
		await sql`update broadcast_recipients set next_attempt_at = now() where broadcast_id = ${broadcast.id}::uuid`
		expect((await dispatchSlice(broadcast.id, { sliceMs: 1000 })).next).toBe('completed')
		const attempts =
			await sql`select attempts from broadcast_recipients where broadcast_id = ${broadcast.id}::uuid`
		expect(attempts.every((row) => row.attempts === 2)).toBe(true)
	})

	test('a stalled provider gets no more than the in-flight cap of calls', async () => {
		const { broadcast } = await sendingBroadcast(200, 200)
		// Every answer held for 0.9 s (the gateway waits 1 s): the calls pile up as they would at a
		// stalled provider.
		sandbox.updateSettings({ faults: { slowShare: 1, slowMs: 900 } })
		const cap = inFlightCap(100, 200)
		expect(cap).toBe(60)
		const result = await dispatchSlice(broadcast.id, { sliceMs: 500 })
		// 500 ms at 197/s books about 100 slots, all used before the first answer; only 60 fire.
		expect(result.attempted).toBe(cap)
		expect(result.missedSlots).toBeGreaterThan(30)
		// The unused slots gave their rows back; the calls made end sent or unknown (timed out).
		expect((await recipientCounts(broadcast.id)).queued).toBe(200 - cap)
	})

	test('130429 → retry_wait, and the sender bucket slows down', async () => {
		const { broadcast, sender } = await sendingBroadcast(60, 200)
		sandbox.updateSettings({ phoneNumbers: { [sender.phoneNumberId]: { ratePerSecond: 5 } } })
		await dispatchSlice(broadcast.id, { sliceMs: 600 })
		const throttled = await sql`select count(*)::int as n from broadcast_recipients
			where broadcast_id = ${broadcast.id}::uuid and state = 'retry_wait' and error_code = 130429`
		expect(throttled[0].n).toBeGreaterThan(0)
		const [bucket] =
			await sql`select slowed_at, current_rate from sender_rate_buckets where sender_id = ${sender.id}::uuid`
		expect(bucket.slowed_at).not.toBeNull()
		expect(bucket.current_rate).toBeLessThan(200)
	})

	test('final for the recipient (131021) → failed with the code; the others are sent', async () => {
		const { broadcast, sender } = await sendingBroadcast(3)
		const id = sender.phoneNumberId
		const own = `+1555${id.slice(-7, -4)}${id.slice(-4)}`
		const [contact] = await sql`insert into contacts (phone_e164, name, attributes, tags)
			values (${own}, 'Self', '{"code":"S"}', '{}') returning id`
		await sql`insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, variables)
			values (${broadcast.id}::uuid, ${contact.id}, ${own}, '{"body:1":"Self","body:2":"S"}')`
		expect((await dispatchSlice(broadcast.id, { sliceMs: 2000 })).next).toBe('completed')
		expect(await recipientCounts(broadcast.id)).toEqual({ sent: 3, failed: 1 })
		const [failed] = await sql`select error_code, failed_at from broadcast_recipients
			where broadcast_id = ${broadcast.id}::uuid and state = 'failed'`
		expect(failed.error_code).toBe(131021)
		expect(failed.failed_at).not.toBeNull()
	})

	test('halts the broadcast (132001) → paused with the reason; rows stay to be sent on resume', async () => {
		const { broadcast } = await sendingBroadcast(10, 200, 'not_in_sandbox')
		const result = await dispatchSlice(broadcast.id, { sliceMs: 2000 })
		expect(result.next).toBe('stopped')
		const status = await broadcastStatus(broadcast.id)
		expect(status.status).toBe('paused')
		expect(status.status_reason).toContain('132001')
		expect(await recipientCounts(broadcast.id)).toEqual({ queued: 10 })
		const [row] =
			await sql`select max(attempts)::int as attempts from broadcast_recipients where broadcast_id = ${broadcast.id}::uuid`
		expect(row.attempts).toBe(0)
	})

	test('ambiguous (accepted, response lost) → unknown, then reconciled by lookup: adopted, never re-sent', async () => {
		const { broadcast, sender } = await sendingBroadcast(6)
		sandbox.updateSettings({ faults: { lostResponseShare: 1 } })
		const result = await dispatchSlice(broadcast.id, { sliceMs: 1500 })
		expect(result.next).toBe('continue')
		expect(await recipientCounts(broadcast.id)).toEqual({ unknown: 6 })
		sandbox.updateSettings({ faults: { lostResponseShare: 0 } })
		const summary = await reconcileUnknown({
			minAgeMs: 0,
			absentAfterMs: 0,
			broadcastId: broadcast.id,
		})
		expect(summary).toMatchObject({ checked: 6, adopted: 6, requeued: 0 })
		expect(await recipientCounts(broadcast.id)).toEqual({ sent: 6 })
		expect(await broadcastStatus(broadcast.id)).toMatchObject({ status: 'completed' })
		const ledger = ledgerFor(sender.phoneNumberId)
		expect(ledger.length).toBe(6)
		const rows = await wamidsOf(broadcast.id)
		expect(new Set(rows.map((row) => row.wamid))).toEqual(
			new Set(ledger.map((entry) => entry.wamid)),
		)
	})

	test('ambiguous (timed out, never accepted) → unknown, proven absent → queued → sent once', async () => {
		const { broadcast, sender } = await sendingBroadcast(4)
		sandbox.updateSettings({ faults: { timeoutShare: 1, timeoutHoldMs: 60_000 } })
		await dispatchSlice(broadcast.id, { sliceMs: 500 })
		expect(await recipientCounts(broadcast.id)).toEqual({ unknown: 4 })
		// A failing lookup holds the rows: nothing is re-sent on a guess.
		const port = sandbox.port
		await sandbox.close()
		expect(
			await reconcileUnknown({ minAgeMs: 0, absentAfterMs: 0, broadcastId: broadcast.id }),
		).toMatchObject({
			held: 4,
		})
		expect(await recipientCounts(broadcast.id)).toEqual({ unknown: 4 })
		sandbox = await startTestSandbox({}, 1000)
		void port
		const summary = await reconcileUnknown({
			minAgeMs: 0,
			absentAfterMs: 0,
			broadcastId: broadcast.id,
		})
		expect(summary).toMatchObject({ requeued: 4, adopted: 0 })
		expect((await dispatchSlice(broadcast.id, { sliceMs: 2000 })).next).toBe('completed')
		expect(ledgerFor(sender.phoneNumberId).length).toBe(4)
	})
})

describe('claims and attempt guards', () => {
	test('a stale attempt cannot overwrite a newer one, nor a settled row', async () => {
		const { broadcast } = await sendingBroadcast(1)
		const [first] = await claimRows(broadcast.id, 1, 'pool-a')
		// The row is given up (e.g. swept) and claimed again with a new attempt.
		await sql`update broadcast_recipients set state = 'queued' where id = ${first.id}`
		const [second] = await claimRows(broadcast.id, 1, 'pool-b')
		expect(second.id).toBe(first.id)
		expect(second.attemptId).not.toBe(first.attemptId)
		const at = new Date()
		const stale = await writeResults([
			{ row: first, outcome: { state: 'sent', wamid: 'wamid.stale', waId: null }, at },
		])
		expect(stale.size).toBe(0)
		const fresh = await writeResults([
			{ row: second, outcome: { state: 'sent', wamid: 'wamid.fresh', waId: null }, at },
		])
		expect([...fresh]).toEqual([second.id])
		// Once sent, a duplicate write of the same attempt changes nothing.
		const again = await writeResults([
			{ row: second, outcome: { state: 'failed', code: 131026, title: 'x' }, at },
		])
		expect(again.size).toBe(0)
		const [row] =
			await sql`select state, wamid, claimed_by from broadcast_recipients where id = ${first.id}`
		expect(row).toEqual({ state: 'sent', wamid: 'wamid.fresh', claimed_by: 'pool-b' })
	})

	test('131050 (stopped marketing messages) fails the row and opts the contact out', async () => {
		const { broadcast } = await sendingBroadcast(2)
		const [stopped, other] = await claimRows(broadcast.id, 2, 'pool-a')
		const at = new Date()
		await writeResults([
			{ row: stopped, outcome: { state: 'failed', code: 131050, title: 'x' }, at },
			{ row: other, outcome: { state: 'failed', code: 131026, title: 'x' }, at },
		])
		const contacts = await sql<Array<{ id: string; opted: boolean; source: string | null }>>`
			select r.id, c.opted_out_at is not null as opted, c.opt_out_source as source
			from broadcast_recipients r join contacts c on c.id = r.contact_id
			where r.broadcast_id = ${broadcast.id}::uuid order by r.id`
		expect(contacts.map(({ opted, source }) => ({ opted, source }))).toEqual([
			{ opted: true, source: 'meta_preference' },
			{ opted: false, source: null },
		])
	})

	test('concurrent claims never hand out the same row twice', async () => {
		const { broadcast } = await sendingBroadcast(500)
		const claims = await Promise.all(
			Array.from({ length: 8 }, () => claimRows(broadcast.id, 100, null)),
		)
		const ids = claims.flat().map((row) => row.id)
		expect(ids.length).toBe(500)
		expect(new Set(ids).size).toBe(500)
	})
})

describe('pause, resume and cancel', () => {
	test('pause stops new sends; resume sends exactly the rest once; calling them twice is safe', async () => {
		const { broadcast, sender } = await sendingBroadcast(400, 100)
		runners.push(await startTestWorker())
		await waitFor(async () => (await recipientCounts(broadcast.id)).sent >= 150)
		await pauseBroadcast(broadcast.id, null)
		expect((await pauseBroadcast(broadcast.id, null)).changed).toBe(false)
		// In-flight calls settle; then nothing more is sent while paused.
		await waitFor(async () => !(await recipientCounts(broadcast.id)).sending)
		const atPause = ledgerFor(sender.phoneNumberId).length
		await new Promise((resolve) => setTimeout(resolve, 700))
		expect(ledgerFor(sender.phoneNumberId).length).toBe(atPause)
		const paused = await recipientCounts(broadcast.id)
		expect(paused.sent).toBe(atPause)
		expect(paused.sent + paused.queued).toBe(400)
		expect(paused.sent).toBeLessThan(400)

		await resumeBroadcast(broadcast.id, null)
		expect((await resumeBroadcast(broadcast.id, null)).changed).toBe(false)
		await waitFor(async () => (await broadcastStatus(broadcast.id)).status === 'completed')
		const ledger = ledgerFor(sender.phoneNumberId)
		expect(ledger.length).toBe(400)
		expect(new Set(ledger.map((entry) => entry.to)).size).toBe(400)
		expect(await recipientCounts(broadcast.id)).toEqual({ sent: 400 })
	})

	test('cancel marks exactly the unsent rest skipped (cancelled)', async () => {
		const { broadcast, sender } = await sendingBroadcast(400, 100)
		runners.push(await startTestWorker())
		await waitFor(async () => (await recipientCounts(broadcast.id)).sent >= 240)
		const cancelled = await cancelBroadcast(broadcast.id, null)
		expect(cancelled.changed).toBe(true)
		expect((await cancelBroadcast(broadcast.id, null)).changed).toBe(false)
		await waitFor(async () => !(await recipientCounts(broadcast.id)).sending)
		await new Promise((resolve) => setTimeout(resolve, 300))
		const counts = await recipientCounts(broadcast.id)
		const sent = ledgerFor(sender.phoneNumberId).length
		expect(counts.sent).toBe(sent)
		expect(counts.skipped).toBe(400 - sent)
		expect(counts.queued).toBeUndefined()
		const [reasons] = await sql`select count(*)::int as n from broadcast_recipients
			where broadcast_id = ${broadcast.id}::uuid and state = 'skipped' and skip_reason = 'cancelled'`
		expect(reasons.n).toBe(400 - sent)
		expect(await broadcastStatus(broadcast.id)).toMatchObject({ status: 'cancelled' })
	})
})

describe('crash recovery', () => {
	test("the sweep unlocks a silent pool's jobs and turns its in-flight rows unknown", async () => {
		const { broadcast } = await sendingBroadcast(3)
		await sql`insert into worker_heartbeats (pool_id, pid, hostname, last_seen_at)
			values ('pool-dead', 1, 'h', now() - interval '2 minutes'), ('pool-live', 2, 'h', now())`
		await claimRows(broadcast.id, 2, 'pool-dead')
		await claimRows(broadcast.id, 1, 'pool-live')
		await sql`update graphile_worker._private_jobs set locked_by = 'pool-dead', locked_at = now()
			where key = ${`dispatch:${broadcast.id}`}`
		const summary = await sweepDeadWorkers()
		expect(summary.deadPools).toContain('pool-dead')
		expect(summary.unknownRows).toBe(2)
		expect(await recipientCounts(broadcast.id)).toEqual({ unknown: 2, sending: 1 })
		const [job] =
			await sql`select locked_by from graphile_worker._private_jobs where key = ${`dispatch:${broadcast.id}`}`
		expect(job.locked_by).toBeNull()
		const pools = (await sql`select pool_id from worker_heartbeats`).map((p) => p.pool_id)
		expect(pools).toContain('pool-live')
		expect(pools).not.toContain('pool-dead')
	})

	test('freezing is idempotent under a re-run launch', async () => {
		const { broadcast } = await sendingBroadcast(20)
		expect(await freezeAudience(broadcast.id)).toBe(0)
		expect(await recipientCounts(broadcast.id)).toEqual({ queued: 20 })
	})
})
