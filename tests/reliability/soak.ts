/**
 * Soak mode of the reliability suite (`npm run test:reliability -- --minutes N`): for N minutes,
 * broadcasts one after another (a new one as soon as the previous completes) through a real
 * graphile-worker process, with the sandbox's status and reply webhooks flowing into the real web
 * server. Every few seconds it samples the RSS of the three processes and the job lag; every
 * broadcast is audited against the sandbox ledger as soon as it completes, which is what lets the
 * sandbox forget messages older than a few minutes (`retentionMs`) and stay flat in memory.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { scheduleBroadcast } from '#app/lib/broadcasts/broadcasts.server'
import {
	seedBroadcast,
	seedContacts,
	seedSender,
	seedTemplate,
	TEST_TEMPLATE,
} from '#app/lib/sending/testing.server'
import { sql } from '#db/client'
import {
	auditLedger,
	countsOf,
	maxInAnySecond,
	startSandboxProcess,
	startWebProcess,
	startWorkerProcess,
	statusOf,
	stopWorker,
	waitUntil,
	type SandboxProcess,
	type WorkerProcess,
} from './harness'
import { freePort } from '#tests/support/ports'

export type SoakOptions = {
	minutes: number
	/** Recipients per broadcast. */
	size: number
	/** Sends per second of each broadcast's sender (and the sandbox's limit per number). */
	rate: number
	sampleSeconds: number
	/** The sandbox forgets messages older than this; every broadcast is audited well before. */
	retentionMinutes: number
	log: (line: string) => void
}

type Point = { t: number; value: number }
type Broadcast = {
	index: number
	id: string
	phoneNumberId: string
	recipients: number
	seconds: number
	maxInOneSecond: number
}

const PROCESS_NAMES = ['worker', 'web', 'sandbox'] as const
type ProcessName = (typeof PROCESS_NAMES)[number]

function rssMb(pid: number) {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
		return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024
	} catch {
		return Number.NaN
	}
}

function percentile(sorted: number[], p: number) {
	if (sorted.length === 0) return 0
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** Least-squares slope of the points, in value units per hour. */
function slopePerHour(points: Point[]) {
	if (points.length < 2) return 0
	const n = points.length
	const meanT = points.reduce((a, p) => a + p.t, 0) / n
	const meanV = points.reduce((a, p) => a + p.value, 0) / n
	let num = 0
	let den = 0
	for (const p of points) {
		num += (p.t - meanT) * (p.value - meanV)
		den += (p.t - meanT) ** 2
	}
	return den === 0 ? 0 : (num / den) * 3_600_000
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Graphile-worker's runnable jobs (available, due, queue not locked) and unprocessed webhooks. */
async function sampleDatabase() {
	const [jobs] = await sql<Array<{ runnable: number; oldest_ms: number | null }>>`
		select count(*)::int as runnable,
			(extract(epoch from now() - min(j.run_at)) * 1000)::float8 as oldest_ms
		from graphile_worker._private_jobs j
		left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
		where j.is_available and j.run_at <= now() and (q.id is null or q.locked_at is null)`
	const [events] = await sql<Array<{ unprocessed: number; oldest_ms: number | null }>>`
		select count(*)::int as unprocessed,
			(extract(epoch from now() - min(received_at)) * 1000)::float8 as oldest_ms
		from webhook_events where processed_at is null`
	return {
		runnable: jobs.runnable,
		oldestJobMs: Math.max(0, jobs.oldest_ms ?? 0),
		unprocessed: events.unprocessed,
		oldestEventMs: Math.max(0, events.oldest_ms ?? 0),
	}
}

async function webhookBacklog() {
	const [row] = await sql<Array<{ unprocessed: number; parked: number; errors: number }>>`
		select count(*) filter (where processed_at is null)::int as unprocessed,
			count(*) filter (where pending_wamid is not null)::int as parked,
			count(*) filter (where error is not null)::int as errors
		from webhook_events`
	return row
}

/**
 * Recipients whose state in the app differs from the message's final status in the sandbox: a
 * status webhook lost or misapplied. Only for broadcasts the sandbox still holds in full.
 */
async function statusMismatches(sandbox: SandboxProcess, broadcast: Broadcast) {
	const ledger = await sandbox.ledger(broadcast.phoneNumberId)
	if (ledger.length !== (await sandbox.accepted(broadcast.phoneNumberId))) return null
	const rows = await sql<Array<{ wamid: string; state: string }>>`
		select wamid, state from broadcast_recipients
		where broadcast_id = ${broadcast.id}::uuid and wamid is not null`
	const states = new Map(rows.map((row) => [row.wamid, row.state]))
	let mismatches = 0
	for (const entry of ledger) {
		const expected = entry.status === 'accepted' ? 'sent' : entry.status
		if (states.get(entry.wamid) !== expected) mismatches++
	}
	return mismatches
}

export async function soak(options: SoakOptions) {
	const { size, rate, log } = options
	const failures: string[] = []
	const setupStartedAt = Date.now()
	const secret = randomBytes(16).toString('hex')
	const webPort = await freePort()
	const sandbox = await startSandboxProcess({
		templates: [TEST_TEMPLATE],
		webhookUrl: `http://127.0.0.1:${webPort}/webhooks/kapso`,
		webhookSecret: secret,
		defaultRatePerSecond: rate,
		retentionMs: options.retentionMinutes * 60_000,
		// Some recipients answer (texts, button taps, opt-outs) and a few webhooks arrive twice.
		replies: { share: 0.05, delayMs: 1000 },
		chaos: { duplicateShare: 0.01 },
	})
	const processes: Record<ProcessName, { pid: number; child: WorkerProcess['child'] } | null> = {
		worker: null,
		web: null,
		sandbox: { pid: sandbox.child.pid!, child: sandbox.child },
	}
	const jobStarts: number[] = []
	const slowestStartByTask = new Map<string, number>()
	const jobErrors = new Map<string, number>()
	let stopping = false
	let died = false
	let sampling = true
	// Every Kapso call of the app (sends, and the cron jobs' health checks and imports) goes to it.
	const sandboxPort = new URL(sandbox.url).port
	try {
		const web = await startWebProcess({
			PORT: String(webPort),
			KAPSO_WEBHOOK_SECRET: secret,
			SANDBOX_PORT: sandboxPort,
		})
		processes.web = web
		const worker = await startWorkerProcess(
			sandbox.url,
			{ RELIABILITY_JOB_DELAYS: '1', KAPSO_WEBHOOK_SECRET: secret, SANDBOX_PORT: sandboxPort },
			(line) => {
				for (const [task, ms] of (line.jobStarts as Array<[string, number]> | undefined) ?? []) {
					jobStarts.push(ms)
					slowestStartByTask.set(task, Math.max(ms, slowestStartByTask.get(task) ?? 0))
				}
				for (const [task, message] of (line.jobErrors as Array<[string, string]> | undefined) ??
					[]) {
					const key = `${task}: ${message}`
					jobErrors.set(key, (jobErrors.get(key) ?? 0) + 1)
				}
			},
		)
		processes.worker = worker
		for (const name of PROCESS_NAMES) {
			processes[name]!.child.once('exit', (code, signal) => {
				if (stopping) return
				died = true
				failures.push(`the ${name} process exited (${code ?? signal})`)
			})
		}

		log(
			`sandbox, web server and worker up in ${((Date.now() - setupStartedAt) / 1000).toFixed(1)} s`,
		)
		const startedAt = Date.now()
		const deadline = startedAt + options.minutes * 60_000
		const rss: Record<ProcessName, Point[]> = { worker: [], web: [], sandbox: [] }
		const oldestJob: number[] = []
		const oldestEvent: number[] = []
		const sampler = (async () => {
			while (sampling) {
				const t = Date.now() - startedAt
				for (const name of PROCESS_NAMES) {
					const value = rssMb(processes[name]!.pid)
					if (Number.isFinite(value)) rss[name].push({ t, value })
				}
				const db = await sampleDatabase().catch(() => null)
				if (db) {
					oldestJob.push(db.oldestJobMs)
					oldestEvent.push(db.oldestEventMs)
				}
				await sleep(options.sampleSeconds * 1000)
			}
		})()

		const template = await seedTemplate()
		const broadcasts: Broadcast[] = []
		const totals = { duplicates: 0, lost: 0, unfinished: 0, maxInOneSecond: 0 }
		while (Date.now() < deadline && failures.length === 0) {
			const index = broadcasts.length + 1
			const tag = `soak-${process.pid}-${index}`
			const sender = await seedSender(rate)
			await seedContacts(size, tag)
			const broadcast = await seedBroadcast({
				senderId: sender.id,
				templateId: template.id,
				tag,
			})
			const launchedAt = Date.now()
			await scheduleBroadcast(broadcast.id, { at: null }, null)
			// Generous: a broadcast that stalls is itself a failure, reported below.
			const timeoutMs = Math.max(120_000, (size / rate) * 5000)
			// Stops waiting when a process died: nothing would finish the broadcast.
			const completed = await waitUntil(
				async () =>
					failures.length > 0 ? 'gave up' : (await statusOf(broadcast.id)).status === 'completed',
				timeoutMs,
				250,
			).catch(() => false)
			const seconds = (Date.now() - launchedAt) / 1000
			const accepted = await sandbox.accepted(sender.phoneNumberId)
			const ledger = await sandbox.ledger(sender.phoneNumberId)
			const audit = await auditLedger(broadcast.id, ledger)
			const counts = await countsOf(broadcast.id)
			const unfinished =
				(counts.queued ?? 0) +
				(counts.sending ?? 0) +
				(counts.retry_wait ?? 0) +
				(counts.unknown ?? 0)
			const maxInOneSecond = maxInAnySecond(ledger)
			totals.duplicates += audit.duplicates
			totals.lost += audit.lost
			totals.unfinished += unfinished
			totals.maxInOneSecond = Math.max(totals.maxInOneSecond, maxInOneSecond)
			if (completed !== true)
				failures.push(`broadcast ${index} not completed after ${seconds.toFixed(0)} s`)
			if (ledger.length !== accepted)
				failures.push(
					`broadcast ${index}: the sandbox pruned ${accepted - ledger.length} messages before the audit (raise --retention-minutes)`,
				)
			if (audit.duplicates) failures.push(`broadcast ${index}: ${audit.duplicates} duplicate sends`)
			if (audit.lost) failures.push(`broadcast ${index}: ${audit.lost} recipients never sent`)
			if (unfinished) failures.push(`broadcast ${index}: ${unfinished} recipients left unfinished`)
			if (maxInOneSecond > rate)
				failures.push(`broadcast ${index}: ${maxInOneSecond} sends in one second (rate ${rate})`)
			broadcasts.push({
				index,
				id: broadcast.id,
				phoneNumberId: sender.phoneNumberId,
				recipients: audit.expected,
				seconds,
				maxInOneSecond,
			})
			const latest = (name: ProcessName) => Math.round(rss[name].at(-1)?.value ?? 0)
			log(
				`broadcast ${index}: ${audit.accepted}/${audit.expected} sent in ${seconds.toFixed(1)} s, max ${maxInOneSecond} in one second, ${audit.duplicates} duplicates, ${audit.lost} lost; RSS worker ${latest('worker')} MB, web ${latest('web')} MB, sandbox ${latest('sandbox')} MB; ${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left`,
			)
		}

		// Drain: the sandbox's scheduled statuses and replies, then the app's processing of them.
		const drainStartedAt = Date.now()
		// With a process dead the backlog cannot drain; the figures are reported as they stand.
		const drainMs = died ? 1000 : 120_000
		const sandboxIdle = await sandbox.idle(drainMs)
		const drained = await waitUntil(
			async () => {
				const backlog = await webhookBacklog()
				return backlog.unprocessed === 0 && backlog.parked === 0 ? backlog : null
			},
			drainMs,
			500,
		).catch(() => null)
		const drainSeconds = (Date.now() - drainStartedAt) / 1000
		const backlog = await webhookBacklog()
		if (!sandboxIdle)
			failures.push(`the sandbox still had webhooks to send after ${drainMs / 1000} s`)
		if (!drained)
			failures.push(
				`webhook events left after ${drainMs / 1000} s: ${backlog.unprocessed} unprocessed, ${backlog.parked} parked for an unknown message`,
			)
		let mismatches = 0
		let checked = 0
		for (const broadcast of broadcasts) {
			const result = await statusMismatches(sandbox, broadcast)
			if (result === null) continue
			checked++
			mismatches += result
		}
		if (mismatches)
			failures.push(`${mismatches} recipients whose state differs from the sandbox's last status`)
		sampling = false
		await sampler

		const stats = await sandbox.stats()
		const throttled = stats.rejectedByCode['130429'] ?? 0
		if (throttled) failures.push(`${throttled} sends refused with 130429 (over the rate)`)
		if (stats.duplicates.callbackDataExtraSends)
			failures.push(`${stats.duplicates.callbackDataExtraSends} sends repeated a callback key`)
		if (stats.webhooks.abandoned)
			failures.push(`${stats.webhooks.abandoned} webhooks abandoned after every retry`)
		const [{ events }] = await sql<Array<{ events: number }>>`
			select count(*)::int as events from webhook_events`

		const elapsedMinutes = (drainStartedAt - startedAt) / 60_000
		const warmupMs = Math.min(5 * 60_000, (drainStartedAt - startedAt) / 4)
		const memory = PROCESS_NAMES.map((name) => {
			const points = rss[name]
			const values = points.map((p) => p.value)
			return {
				name,
				start: values[0] ?? 0,
				end: values.at(-1) ?? 0,
				peak: Math.max(0, ...values),
				perHour: slopePerHour(points.filter((p) => p.t >= warmupMs)),
			}
		})
		const sortedStarts = [...jobStarts].sort((a, b) => a - b)
		const sortedJob = [...oldestJob].sort((a, b) => a - b)
		const sortedEvent = [...oldestEvent].sort((a, b) => a - b)
		const slowestTask = [...slowestStartByTask].sort((a, b) => b[1] - a[1])[0]
		const sent = broadcasts.reduce((a, b) => a + b.recipients, 0)

		const mb = (v: number) => `${v.toFixed(0)} MB`
		const ms = (v: number) => `${Math.round(v)} ms`
		const lines = [
			`Soak: ${elapsedMinutes.toFixed(1)} min, ${broadcasts.length} broadcasts of ${size} at ${rate}/s (${sent} sends), ${stats.webhooks.delivered} webhooks delivered to the web server (${events} events stored, ${stats.replies.text + stats.replies.button + stats.replies.optOut} replies), samples every ${options.sampleSeconds} s`,
			'',
			`| process | RSS start | RSS end | RSS peak | growth per hour (fit after ${Math.round(warmupMs / 1000)} s warm-up) |`,
			'|---|---|---|---|---|',
			...memory.map(
				(m) =>
					`| ${m.name} | ${mb(m.start)} | ${mb(m.end)} | ${mb(m.peak)} | ${m.perHour >= 0 ? '+' : ''}${m.perHour.toFixed(0)} MB/h |`,
			),
			...(elapsedMinutes < 30
				? [
						'(Under 30 minutes the growth per hour is mostly garbage-collector swings: a trend needs a longer soak.)',
					]
				: []),
			'',
			'| job lag | p50 | p99 | max | samples |',
			'|---|---|---|---|---|',
			`| oldest runnable job (sampled) | ${ms(percentile(sortedJob, 50))} | ${ms(percentile(sortedJob, 99))} | ${ms(sortedJob.at(-1) ?? 0)} | ${sortedJob.length} |`,
			`| run_at → start, every job | ${ms(percentile(sortedStarts, 50))} | ${ms(percentile(sortedStarts, 99))} | ${ms(sortedStarts.at(-1) ?? 0)} | ${sortedStarts.length}${slowestTask ? ` (slowest: ${slowestTask[0]})` : ''} |`,
			`| oldest unprocessed webhook event (sampled) | ${ms(percentile(sortedEvent, 50))} | ${ms(percentile(sortedEvent, 99))} | ${ms(sortedEvent.at(-1) ?? 0)} | ${sortedEvent.length} |`,
			'',
			'| check | value | must be |',
			'|---|---|---|',
			`| duplicate sends (ledger audit) | ${totals.duplicates} | 0 |`,
			`| recipients never sent (ledger audit) | ${totals.lost} | 0 |`,
			`| recipients left unfinished | ${totals.unfinished} | 0 |`,
			`| most sends in any one second | ${totals.maxInOneSecond} | ≤ ${rate} |`,
			`| sends refused 130429 (over the rate) | ${throttled} | 0 |`,
			`| sends repeating a callback key (sandbox, all time) | ${stats.duplicates.callbackDataExtraSends} | 0 |`,
			`| recipients whose state differs from the sandbox (${checked} broadcasts checked) | ${mismatches} | 0 |`,
			`| webhooks abandoned after retries | ${stats.webhooks.abandoned} | 0 |`,
			`| webhook events unprocessed / parked after drain (${drainSeconds.toFixed(1)} s) | ${backlog.unprocessed} / ${backlog.parked} | 0 / 0 |`,
			`| webhook deliveries refused then retried | ${stats.webhooks.failedAttempts} | report |`,
			`| webhook events with a processing error | ${backlog.errors} | report |`,
			`| sandbox messages retained / pruned | ${stats.retained.messages} / ${stats.pruned.messages} | report |`,
			`| job attempts failed (graphile-worker retries them) | ${[...jobErrors.values()].reduce((a, b) => a + b, 0)} | report |`,
		]
		if (jobErrors.size > 0)
			lines.push(
				'',
				'Failed job attempts:',
				...[...jobErrors].map(([what, n]) => `  ${n} × ${what}`),
			)
		return { ok: failures.length === 0, failures, lines }
	} finally {
		sampling = false
		stopping = true
		if (processes.worker) await stopWorker(processes.worker)
		if (processes.web) await stopWorker(processes.web)
		await sandbox.stop()
	}
}
