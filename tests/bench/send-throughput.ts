/**
 * The sending engine's throughput: a broadcast on a sender configured at 1,000 messages/s and one
 * at 80/s, sent by a graphile-worker process to a sandbox process (which does not enforce a rate
 * here, so its ledger shows exactly what arrived); and the audience freeze of a million contacts.
 * Rates and one-second windows are counted from the sandbox's ledger.
 */
import { freezeAudience, scheduleBroadcast } from '#app/lib/broadcasts/broadcasts.server'
import {
	seedBroadcast,
	seedContacts,
	seedSender,
	seedTemplate,
	TEST_TEMPLATE,
} from '#app/lib/sending/testing.server'
import { sql } from '#db/client'
import {
	cpuSeconds,
	maxInAnySecond,
	startSandboxProcess,
	startWorkerProcess,
	statusOf,
	stopWorker,
	waitUntil,
	type LedgerEntry,
} from '#tests/reliability/harness'
import type { BenchFigure } from './types'

let tagCounter = 0

async function sendAt(ratePerSecond: number, count: number) {
	const tag = `bench-${ratePerSecond}-${++tagCounter}`
	const sender = await seedSender(ratePerSecond)
	const template = await seedTemplate()
	await seedContacts(count, tag)
	const broadcast = await seedBroadcast({ senderId: sender.id, templateId: template.id, tag })
	const sandbox = await startSandboxProcess({
		templates: [TEST_TEMPLATE],
		defaultRatePerSecond: 1_000_000,
	})
	const worker = await startWorkerProcess(sandbox.url)
	try {
		const cpuBefore = cpuSeconds(worker.pid)
		const startedAt = Date.now()
		await scheduleBroadcast(broadcast.id, { at: null }, null)
		await waitUntil(
			async () => (await statusOf(broadcast.id)).status === 'completed',
			30 * 60_000,
			500,
		)
		const wallSeconds = (Date.now() - startedAt) / 1000
		const workerCpu = cpuSeconds(worker.pid) - cpuBefore
		const ledger = await sandbox.ledger(sender.phoneNumberId)
		return { ledger, wallSeconds, workerCpu }
	} finally {
		await stopWorker(worker)
		await sandbox.stop()
	}
}

/** Sends per second between the first and the last accepted message. */
function sustainedRate(ledger: LedgerEntry[]) {
	const times = ledger.map((entry) => Date.parse(entry.acceptedAt)).sort((a, b) => a - b)
	return (times.length - 1) / ((times.at(-1)! - times[0]) / 1000)
}

function figure(
	name: string,
	value: number,
	unit: string,
	target: string,
	baseline: number | null,
	ok: boolean,
	note?: string,
): BenchFigure {
	const rounded = Math.round(value * 100) / 100
	return {
		name,
		value: rounded,
		unit,
		target,
		baseline,
		ratio: baseline ? Math.round((value / baseline) * 1000) / 1000 : null,
		ok,
		...(note ? { note } : {}),
	}
}

export async function benchSendThroughput({ quick }: { quick: boolean }): Promise<BenchFigure[]> {
	const figures: BenchFigure[] = []
	// Quick: 5 s of sending at the full rate, enough to see the pacing; the full run holds it 100 s.
	const bigCount = quick ? 5000 : 100_000
	const fast = await sendAt(1000, bigCount)
	const fastRate = sustainedRate(fast.ledger)
	const fastMax = maxInAnySecond(fast.ledger)
	figures.push(
		figure(
			`send ${bigCount} at 1000/s: sustained`,
			fastRate,
			'msg/s',
			'>= 950',
			1000,
			fastRate >= 950,
		),
		figure(
			`send ${bigCount} at 1000/s: most in any one second`,
			fastMax,
			'msg',
			'<= 1000',
			1000,
			fastMax <= 1000,
		),
		figure(
			`send ${bigCount} at 1000/s: worker CPU`,
			(fast.workerCpu / fast.wallSeconds) * 100,
			'% of a core',
			'report',
			null,
			true,
			`${fast.ledger.length} accepted in ${Math.round(fast.wallSeconds)} s`,
		),
	)

	const slowCount = quick ? 800 : 4800
	const slow = await sendAt(80, slowCount)
	const slowRate = sustainedRate(slow.ledger)
	const slowMax = maxInAnySecond(slow.ledger)
	figures.push(
		figure(
			`send ${slowCount} at 80/s: rate`,
			slowRate,
			'msg/s',
			'80 ± 2%',
			80,
			Math.abs(slowRate / 80 - 1) <= 0.02,
		),
		figure(
			`send ${slowCount} at 80/s: most in any one second`,
			slowMax,
			'msg',
			'<= 80',
			80,
			slowMax <= 80,
		),
	)

	const freezeCount = quick ? 100_000 : 1_000_000
	const sender = await seedSender(80)
	const template = await seedTemplate()
	await seedContacts(freezeCount, 'bench-freeze', { optedOutEvery: 50, noCodeEvery: 97 })
	await sql`analyze contacts`
	const broadcast = await seedBroadcast({
		senderId: sender.id,
		templateId: template.id,
		tag: 'bench-freeze',
	})
	const startedAt = performance.now()
	const frozen = await freezeAudience(broadcast.id)
	const seconds = (performance.now() - startedAt) / 1000
	figures.push(
		figure(
			`freeze the audience of ${freezeCount} contacts`,
			seconds,
			's',
			quick ? '< 1 (quick)' : '< 10',
			null,
			seconds < (quick ? 1 : 10),
			`${frozen} rows`,
		),
	)
	return figures
}
