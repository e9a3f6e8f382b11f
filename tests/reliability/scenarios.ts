/**
 * The reliability scenarios (R1 crash, R3 provider faults, R6 pause/resume/cancel), each against a
 * real sandbox process and real graphile-worker processes, on the database in DATABASE_URL.
 * Every figure comes from the sandbox's ledger of accepted messages and the app's ledger.
 */
import {
	cancelBroadcast,
	pauseBroadcast,
	resumeBroadcast,
	scheduleBroadcast,
} from '#app/lib/broadcasts/broadcasts.server'
import {
	RECEIVER_JITTER_MS,
	seedBroadcast,
	seedContacts,
	seedSender,
	seedTemplate,
	TEST_TEMPLATE,
} from '#app/lib/sending/testing.server'
import {
	auditLedger,
	countsOf,
	kill9,
	maxInAnySecond,
	startSandboxProcess,
	startWorkerProcess,
	statusOf,
	stopWorker,
	waitUntil,
	type SandboxProcess,
	type WorkerProcess,
} from './harness'

export type ScenarioResult = {
	name: string
	ok: boolean
	figures: Record<string, number | string>
	failures: string[]
}

export type ScenarioOptions = {
	size: number
	rate: number
	fast: boolean
	log?: (line: string) => void
}

function check(failures: string[], condition: boolean, message: string) {
	if (!condition) failures.push(message)
}

let tagCounter = 0
async function readyBroadcast(size: number, rate: number) {
	const tag = `rel-${process.pid}-${++tagCounter}`
	const sender = await seedSender(rate)
	const template = await seedTemplate()
	await seedContacts(size, tag)
	const broadcast = await seedBroadcast({ senderId: sender.id, templateId: template.id, tag })
	return { broadcast, sender }
}

async function withProcesses<T>(
	options: ScenarioOptions,
	settings: Record<string, unknown>,
	body: (
		sandbox: SandboxProcess,
		workers: { current: WorkerProcess; restart: () => Promise<WorkerProcess> },
	) => Promise<T>,
) {
	const sandbox = await startSandboxProcess({ templates: [TEST_TEMPLATE], ...settings })
	const env: Record<string, string> = options.fast ? { RELIABILITY_FAST_RECOVERY: '1' } : {}
	const workers = {
		current: await startWorkerProcess(sandbox.url, env),
		async restart() {
			workers.current = await startWorkerProcess(sandbox.url, env)
			return workers.current
		},
	}
	try {
		return await body(sandbox, workers)
	} finally {
		await stopWorker(workers.current)
		await sandbox.stop()
	}
}

/**
 * R1: kill -9 the worker five times at random moments while it sends, once while the sandbox is
 * accepting messages whose answers are lost; restart it at once each time.
 */
export async function crashScenario(options: ScenarioOptions): Promise<ScenarioResult> {
	const { size, rate, log = () => {} } = options
	const failures: string[] = []
	const { broadcast, sender } = await readyBroadcast(size, rate)
	return withProcesses(
		options,
		{ phoneNumbers: { [sender.phoneNumberId]: { ratePerSecond: rate } } },
		async (sandbox, workers) => {
			const startedAt = Date.now()
			await scheduleBroadcast(broadcast.id, { at: null }, null)
			const points = Array.from({ length: 5 }, (_, i) => 0.1 + i * 0.17 + Math.random() * 0.1)
			const resumeMs: number[] = []
			for (const [index, point] of points.entries()) {
				await waitUntil(
					async () => (await sandbox.accepted(sender.phoneNumberId)) >= point * size,
					600_000,
					20,
				)
				const lostResponses = index === 2
				if (lostResponses) {
					// Accepted by the sandbox, answer never received, worker killed before anything is recorded.
					await sandbox.setFaults({ lostResponseShare: 0.5 })
					await new Promise((resolve) => setTimeout(resolve, 300))
				}
				await kill9(workers.current)
				if (lostResponses) await sandbox.setFaults({ lostResponseShare: 0 })
				const acceptedAtKill = await sandbox.accepted(sender.phoneNumberId)
				const restartAt = Date.now()
				await workers.restart()
				if (acceptedAtKill >= size) {
					log(`kill ${index + 1} at ${acceptedAtKill}: nothing left to send`)
					continue
				}
				await waitUntil(
					async () => (await sandbox.accepted(sender.phoneNumberId)) > acceptedAtKill,
					300_000,
					50,
				)
				resumeMs.push(Date.now() - restartAt)
				log(
					`kill ${index + 1} at ${acceptedAtKill}/${size} accepted${lostResponses ? ' (responses lost)' : ''}: resumed after ${Date.now() - restartAt} ms`,
				)
			}
			await waitUntil(
				async () => (await statusOf(broadcast.id)).status === 'completed',
				600_000,
				250,
			)
			const elapsedMs = Date.now() - startedAt
			const audit = await auditLedger(broadcast.id, await sandbox.ledger(sender.phoneNumberId))
			const counts = await countsOf(broadcast.id)
			check(failures, audit.duplicates === 0, `${audit.duplicates} duplicate sends`)
			check(failures, audit.lost === 0, `${audit.lost} recipients never sent`)
			check(failures, audit.notSent === 0, `${audit.notSent} ledger rows not sent`)
			check(failures, counts.sent === size, `sent ${counts.sent} of ${size}`)
			const maxResume = Math.max(0, ...resumeMs)
			check(failures, maxResume < 120_000, `sending resumed only after ${maxResume} ms`)
			return {
				name: 'R1 crash: kill -9 the worker 5 times',
				ok: failures.length === 0,
				figures: {
					recipients: size,
					ratePerSecond: rate,
					kills: points.length,
					duplicates: audit.duplicates,
					lost: audit.lost,
					acceptedBySandbox: audit.accepted,
					maxResumeMs: maxResume,
					meanResumeMs: Math.round(
						resumeMs.reduce((a, b) => a + b, 0) / Math.max(1, resumeMs.length),
					),
					totalSeconds: Math.round(elapsedMs / 100) / 10,
				},
				failures,
			}
		},
	)
}

/**
 * R3: 10% 429 (with Retry-After), 5% 5xx, 5% timeouts of which half were accepted. Every valid
 * recipient ends sent exactly once; no second holds more sends than the rate.
 */
export async function faultScenario(options: ScenarioOptions): Promise<ScenarioResult> {
	const { size, rate, log = () => {} } = options
	const failures: string[] = []
	const { broadcast, sender } = await readyBroadcast(size, rate)
	const faults = {
		http429Share: 0.1,
		retryAfterSeconds: 1,
		http500Share: 0.025,
		http503Share: 0.025,
		timeoutShare: 0.025,
		acceptedTimeoutShare: 0.025,
		timeoutHoldMs: 30_000,
	}
	return withProcesses(
		options,
		{ faults, phoneNumbers: { [sender.phoneNumberId]: { ratePerSecond: rate } } },
		async (sandbox) => {
			const startedAt = Date.now()
			await scheduleBroadcast(broadcast.id, { at: null }, null)
			await waitUntil(
				async () => (await statusOf(broadcast.id)).status === 'completed',
				900_000,
				250,
			)
			const elapsedMs = Date.now() - startedAt
			const ledger = await sandbox.ledger(sender.phoneNumberId)
			const audit = await auditLedger(broadcast.id, ledger)
			const maxPerSecond = maxInAnySecond(ledger)
			// The check allows the sandbox's own stalls (see RECEIVER_JITTER_MS); the strict
			// one-second figure is printed beside it.
			const maxPerWindow = maxInAnySecond(ledger, 1000 - RECEIVER_JITTER_MS)
			const throttled = await sandbox.rejected(130429)
			check(failures, audit.duplicates === 0, `${audit.duplicates} duplicate sends`)
			check(failures, audit.lost === 0, `${audit.lost} recipients never sent`)
			check(
				failures,
				maxPerWindow <= rate,
				`${maxPerWindow} sends in ${1000 - RECEIVER_JITTER_MS} ms (rate ${rate}/s)`,
			)
			check(
				failures,
				throttled === 0,
				`${throttled} sends refused with 130429 (over the rate on arrival)`,
			)
			log(`faults: ${audit.accepted} accepted in ${elapsedMs} ms, max ${maxPerSecond}/s`)
			return {
				name: 'R3 provider faults: 10% 429, 5% 5xx, 5% timeouts (half accepted)',
				ok: failures.length === 0,
				figures: {
					recipients: size,
					ratePerSecond: rate,
					duplicates: audit.duplicates,
					lost: audit.lost,
					maxInAnyOneSecond: maxPerSecond,
					rejected130429: throttled,
					totalSeconds: Math.round(elapsedMs / 100) / 10,
					idealSeconds: Math.round((size / rate) * 10) / 10,
				},
				failures,
			}
		},
	)
}

/** R6: pause at 37% and resume; cancel another at 60%. Exact counts; nothing sent while paused. */
export async function pauseCancelScenario(options: ScenarioOptions): Promise<ScenarioResult> {
	const { size, rate, log = () => {} } = options
	const failures: string[] = []
	const a = await readyBroadcast(size, rate)
	const b = await readyBroadcast(size, rate)
	return withProcesses(options, {}, async (sandbox) => {
		// Pause at 37%, then resume.
		await scheduleBroadcast(a.broadcast.id, { at: null }, null)
		await waitUntil(
			async () => (await sandbox.accepted(a.sender.phoneNumberId)) >= 0.37 * size,
			600_000,
			10,
		)
		await pauseBroadcast(a.broadcast.id, null)
		const atPause = await sandbox.accepted(a.sender.phoneNumberId)
		await waitUntil(async () => !(await countsOf(a.broadcast.id)).sending, 60_000, 50)
		const settled = await sandbox.accepted(a.sender.phoneNumberId)
		await new Promise((resolve) => setTimeout(resolve, 2000))
		const later = await sandbox.accepted(a.sender.phoneNumberId)
		const paused = await countsOf(a.broadcast.id)
		check(failures, later === settled, `${later - settled} sends while paused`)
		check(
			failures,
			paused.sent === settled,
			`paused: ${paused.sent} sent in the ledger, ${settled} accepted`,
		)
		check(
			failures,
			(paused.sent ?? 0) + (paused.queued ?? 0) === size,
			`paused counts ${JSON.stringify(paused)}`,
		)
		log(
			`pause at ${atPause}: ${settled - atPause} in-flight calls finished, then ${later - settled} sends while paused`,
		)
		await resumeBroadcast(a.broadcast.id, null)
		await waitUntil(
			async () => (await statusOf(a.broadcast.id)).status === 'completed',
			600_000,
			250,
		)
		const auditA = await auditLedger(a.broadcast.id, await sandbox.ledger(a.sender.phoneNumberId))
		check(
			failures,
			auditA.duplicates === 0 && auditA.lost === 0,
			`resume: ${JSON.stringify(auditA)}`,
		)

		// Cancel at 60%.
		await scheduleBroadcast(b.broadcast.id, { at: null }, null)
		await waitUntil(
			async () => (await sandbox.accepted(b.sender.phoneNumberId)) >= 0.6 * size,
			600_000,
			10,
		)
		await cancelBroadcast(b.broadcast.id, null)
		await waitUntil(async () => !(await countsOf(b.broadcast.id)).sending, 60_000, 50)
		await new Promise((resolve) => setTimeout(resolve, 1000))
		const acceptedB = await sandbox.accepted(b.sender.phoneNumberId)
		const cancelled = await countsOf(b.broadcast.id)
		check(
			failures,
			cancelled.sent === acceptedB,
			`cancel: ${cancelled.sent} sent in the ledger, ${acceptedB} accepted`,
		)
		check(
			failures,
			cancelled.skipped === size - acceptedB,
			`cancel: ${cancelled.skipped} skipped, expected ${size - acceptedB}`,
		)
		check(
			failures,
			!cancelled.queued && !cancelled.unknown,
			`cancel left ${JSON.stringify(cancelled)}`,
		)
		const auditB = await auditLedger(b.broadcast.id, await sandbox.ledger(b.sender.phoneNumberId))
		check(failures, auditB.duplicates === 0, `cancel: ${auditB.duplicates} duplicates`)
		return {
			name: 'R6 pause at 37% and resume; cancel at 60%',
			ok: failures.length === 0,
			figures: {
				recipients: size,
				pausedAt: atPause,
				inFlightAtPause: settled - atPause,
				sentWhilePaused: later - settled,
				resumedTotal: auditA.accepted,
				duplicatesAfterResume: auditA.duplicates,
				cancelledAtAccepted: acceptedB,
				skippedCancelled: cancelled.skipped ?? 0,
			},
			failures,
		}
	})
}

export async function runAllScenarios(options: ScenarioOptions) {
	const results: ScenarioResult[] = []
	for (const scenario of [crashScenario, faultScenario, pauseCancelScenario]) {
		results.push(await scenario(options))
	}
	return results
}
