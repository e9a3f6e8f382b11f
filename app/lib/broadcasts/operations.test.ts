import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sql } from '#db/client'
import { dispatchSlice } from '#app/lib/sending/dispatch.server'
import {
	recipientCounts,
	seedBroadcast,
	seedContacts,
	seedSender,
	seedTemplate,
	startTestSandbox,
} from '#app/lib/sending/testing.server'
import {
	BroadcastError,
	launchBroadcast,
	retarget,
	scheduleBroadcast,
	testSend,
	unscheduleBroadcast,
	updateBroadcast,
} from './broadcasts.server'
import { preflightBroadcast } from './preflight.server'
import { compactCounterDeltas, getBroadcastProgress } from './progress.server'

let sandbox: Awaited<ReturnType<typeof startTestSandbox>>
beforeAll(async () => {
	sandbox = await startTestSandbox()
})
afterAll(async () => {
	await sandbox.close()
})

describe('broadcast operations', () => {
	test('schedule for later, unschedule (twice is safe), a draft cannot launch', async () => {
		const sender = await seedSender(80)
		const template = await seedTemplate()
		await seedContacts(5, 'ops-a')
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'ops-a',
		})
		const at = new Date(Date.now() + 3600_000)
		const scheduled = await scheduleBroadcast(broadcast.id, { at, timezone: 'America/Lima' }, null)
		expect(scheduled.status).toBe('scheduled')
		const [job] =
			await sql`select run_at from graphile_worker.jobs where key = ${`launch:${broadcast.id}`}`
		expect(new Date(job.run_at).getTime()).toBe(at.getTime())
		await unscheduleBroadcast(broadcast.id, null)
		await unscheduleBroadcast(broadcast.id, null)
		expect(
			await sql`select 1 from graphile_worker.jobs where key = ${`launch:${broadcast.id}`}`,
		).toHaveLength(0)
		expect((await launchBroadcast(broadcast.id)).launched).toBe(false)
		await expect(
			scheduleBroadcast(broadcast.id, { at: null, timezone: 'Mars/Base' }, null),
		).rejects.toThrow(BroadcastError)
	})

	test('a template that is not approved cannot be scheduled', async () => {
		const sender = await seedSender(80)
		const template = await seedTemplate('PAUSED', 'paused_one')
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'ops-x',
		})
		await expect(scheduleBroadcast(broadcast.id, { at: null }, null)).rejects.toThrow(/PAUSED/)
	})

	test('pre-flight: reach, exclusions, tier headroom, duration; a cut fits the headroom', async () => {
		const sender = await seedSender(10)
		await sql`update senders set messaging_limit_tier = 'TIER_50' where id = ${sender.id}::uuid`
		const template = await seedTemplate()
		await seedContacts(80, 'ops-b', { optedOutEvery: 8 })
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'ops-b',
		})
		const before = await preflightBroadcast(broadcast.id)
		expect(before).toMatchObject({
			eligible: 70,
			excluded: { opted_out: 10 },
			template: { approved: true, status: 'APPROVED' },
			sender: { tier: 'TIER_50', limit: 50, usedLast24h: 0, headroom: 50 },
			exceedsHeadroom: true,
			canLaunch: false,
			suggestedCut: 50,
			suggestedDailyCap: 50,
		})
		expect(before.estimatedSeconds).toBe(8)
		// Cut to the headroom: the rest is skipped as over the limit.
		await updateBroadcast(broadcast.id, { audience: { tagsAny: ['ops-b'], limit: 50 } }, null)
		const cut = await preflightBroadcast(broadcast.id)
		expect(cut).toMatchObject({ eligible: 50, exceedsHeadroom: false, canLaunch: true })
		expect(cut.excluded).toMatchObject({ opted_out: 10, over_limit: 20 })
		// Or spread over daily waves of 50: two waves.
		await updateBroadcast(broadcast.id, { audience: { tagsAny: ['ops-b'] }, dailyCap: 50 }, null)
		expect(await preflightBroadcast(broadcast.id)).toMatchObject({
			waves: 2,
			exceedsHeadroom: false,
		})
	})

	test('daily waves: a slice claims no more than the daily cap in 24 h', async () => {
		const sender = await seedSender(200)
		const template = await seedTemplate()
		await seedContacts(30, 'ops-w')
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'ops-w',
			dailyCap: 12,
		})
		await scheduleBroadcast(broadcast.id, { at: null }, null)
		await launchBroadcast(broadcast.id)
		const result = await dispatchSlice(broadcast.id, { sliceMs: 2000 })
		expect(result).toMatchObject({ next: 'continue', reason: 'daily cap' })
		expect(result.runAt!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000)
		expect(await recipientCounts(broadcast.id)).toEqual({ sent: 12, queued: 18 })
	})

	test('progress counts from counters (also after compaction); retarget the unread; test send', async () => {
		const sender = await seedSender(200)
		const template = await seedTemplate()
		await seedContacts(20, 'ops-c')
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'ops-c',
		})
		await scheduleBroadcast(broadcast.id, { at: null }, null)
		await launchBroadcast(broadcast.id)
		expect((await dispatchSlice(broadcast.id, { sliceMs: 3000 })).next).toBe('completed')
		await sql`update broadcast_recipients set state = 'read', read_at = now()
			where id in (select id from broadcast_recipients where broadcast_id = ${broadcast.id}::uuid order by id limit 5)`
		await compactCounterDeltas(broadcast.id)
		const progress = await getBroadcastProgress(broadcast.id)
		expect(progress).toMatchObject({
			status: 'completed',
			total: 20,
			sent: 20,
			read: 5,
			remaining: 0,
			etaSeconds: null,
		})
		expect(progress!.counts).toMatchObject({ sent: 15, read: 5 })

		const next = await retarget(broadcast.id, 'unread', null)
		expect(next.parentBroadcastId).toBe(broadcast.id)
		await scheduleBroadcast(next.id, { at: null }, null)
		const launched = await launchBroadcast(next.id)
		expect(launched).toMatchObject({ launched: true, frozen: 15 })

		// Not a contact, and body:2 (an attribute) has no fallback: refused before any call.
		await expect(testSend(broadcast.id, '+51 999 111 222', null)).rejects.toThrow(/body:2/)
		const [contact] =
			await sql`select phone_e164 from contacts where 'ops-c' = any(tags) order by id limit 1`
		const before = sandbox.ledger().length
		const sent = await testSend(broadcast.id, contact.phone_e164, null)
		expect(sent.ok).toBe(true)
		expect(sandbox.ledger().length).toBe(before + 1)
		expect(sandbox.ledger().at(-1)!.callbackData).toBeNull()
	})
})
