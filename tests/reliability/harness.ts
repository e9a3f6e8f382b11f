/**
 * Processes for the reliability suite and the send benchmark: the sandbox and graphile-worker
 * each in their own process (the worker is the one killed), seeded rows, and the sandbox ledger.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { WORKER_NODE_FLAGS } from '#app/lib/launcher.server'
import { sql } from '#db/client'
import { maxInWindow } from '#tests/support/rate-window'

const root = path.resolve(import.meta.dirname, '../..')

export type LedgerEntry = {
	wamid: string
	phoneNumberId: string
	to: string
	callbackData: string | null
	acceptedAt: string
	/** The message's last status in the sandbox: accepted, sent, delivered, read or failed. */
	status: string
}

/**
 * Starts `file` under tsx and resolves on its first JSON line. With `onLine`, every later JSON
 * line goes there (how a worker reports its job start delays); other output is discarded.
 */
function spawnChild(
	file: string,
	args: string[],
	env: NodeJS.ProcessEnv,
	onLine?: (line: Record<string, unknown>) => void,
	nodeFlags: string[] = [],
) {
	return new Promise<{ child: ChildProcess; first: Record<string, unknown> }>((resolve, reject) => {
		const child = spawn(
			process.execPath,
			[...nodeFlags, '--import', 'tsx', path.join(root, file), ...args],
			{
				cwd: root,
				env,
				stdio: ['ignore', 'pipe', 'inherit'],
			},
		)
		let output = ''
		const onData = (chunk: Buffer) => {
			output += chunk.toString()
			const line = output.split('\n').find((l) => l.startsWith('{'))
			if (line) {
				child.stdout!.off('data', onData)
				if (onLine) followJsonLines(child, output.slice(output.indexOf(line) + line.length), onLine)
				else if (process.env.RELIABILITY_VERBOSE) child.stdout!.pipe(process.stderr)
				else child.stdout!.resume()
				child.off('exit', onExit)
				resolve({ child, first: JSON.parse(line) as Record<string, unknown> })
			}
		}
		const onExit = (code: number | null) =>
			reject(new Error(`${file} exited with ${code} before it was ready`))
		child.stdout!.on('data', onData)
		child.once('exit', onExit)
	})
}

function followJsonLines(
	child: ChildProcess,
	rest: string,
	onLine: (line: Record<string, unknown>) => void,
) {
	let buffer = rest
	const flush = () => {
		let newline = buffer.indexOf('\n')
		while (newline !== -1) {
			const line = buffer.slice(0, newline)
			buffer = buffer.slice(newline + 1)
			if (line.startsWith('{')) {
				try {
					onLine(JSON.parse(line) as Record<string, unknown>)
				} catch {
					// A log line that merely starts with a brace.
				}
			} else if (process.env.RELIABILITY_VERBOSE && line) process.stderr.write(`${line}\n`)
			newline = buffer.indexOf('\n')
		}
	}
	child.stdout!.on('data', (chunk: Buffer) => {
		buffer += chunk.toString()
		flush()
	})
	flush()
}

/** The parts of `GET /_sandbox/stats` the suites read. */
export type SandboxStats = {
	accepted: number
	rejectedByCode: Record<string, number>
	duplicates: { callbackDataExtraSends: number; phoneTemplateExtraSends: number }
	statuses: Record<string, number>
	replies: { text: number; button: number; optOut: number }
	webhooks: {
		enqueued: number
		delivered: number
		failedAttempts: number
		abandoned: number
		dropped: number
		duplicated: number
		pending: number
	}
	retained: { ledger: number; messages: number; conversations: number }
	pruned: { messages: number; conversations: number }
}

/**
 * The sandbox stamps arrivals from its event loop, and it keeps every accepted message: with the
 * default young generation its collections stopped the loop for over 12 ms 78 times in 40 s at
 * 1,000/s, each stop stamping calls that arrived apart together; with 64 MB, 18 times.
 */
const SANDBOX_NODE_FLAGS = ['--max-semi-space-size=64']

/**
 * The sandbox stands in for Meta's servers, which do not share our two cores: it stamps each
 * send as its event loop reads it, so when the worker and PostgreSQL keep it off the CPU, calls
 * that arrived apart are stamped together and a one-second window counts more than arrived in
 * it. Measured at 80/s, at normal priority it counted 81–83 in a second in two of four runs of
 * 4,800 sends; raised, 80 in all six. Raising needs CAP_SYS_NICE (root here and in CI); without
 * it the sandbox runs at normal priority and its one-second counts may read a few sends high.
 */
function raisePriority(child: ChildProcess) {
	try {
		os.setPriority(child.pid!, -10)
	} catch {
		// Not permitted for this user: measure at normal priority.
	}
}

export type SandboxProcess = Awaited<ReturnType<typeof startSandboxProcess>>

export async function startSandboxProcess(settings: Record<string, unknown>) {
	const { child, first } = await spawnChild(
		'tests/reliability/sandbox-process.ts',
		[JSON.stringify(settings)],
		process.env,
		undefined,
		SANDBOX_NODE_FLAGS,
	)
	raisePriority(child)
	const url = first.url as string
	const control = async (method: 'GET' | 'POST', route: string, body?: unknown) => {
		const response = await fetch(`${url}/_sandbox/${route}`, {
			method,
			headers: body ? { 'Content-Type': 'application/json' } : undefined,
			body: body ? JSON.stringify(body) : undefined,
		})
		if (!response.ok) throw new Error(`sandbox ${route}: ${response.status}`)
		return (await response.json()) as Record<string, unknown>
	}
	return {
		url,
		child,
		async ledger(phoneNumberId: string): Promise<LedgerEntry[]> {
			const entries: LedgerEntry[] = []
			for (;;) {
				const page = await control(
					'GET',
					`ledger?phone_number_id=${phoneNumberId}&offset=${entries.length}&limit=100000`,
				)
				const data = page.data as LedgerEntry[]
				entries.push(...data)
				if (data.length === 0 || entries.length >= (page.total as number)) return entries
			}
		},
		async accepted(phoneNumberId: string) {
			const stats = await control('GET', 'stats')
			const phones = stats.phoneNumbers as Record<string, { accepted: number }>
			return phones[phoneNumberId]?.accepted ?? 0
		},
		async rejected(code: number) {
			const stats = await control('GET', 'stats')
			return (stats.rejectedByCode as Record<string, number>)[String(code)] ?? 0
		},
		stats() {
			return control('GET', 'stats') as Promise<SandboxStats>
		},
		/** True once nothing is scheduled or waiting to be posted (false after `timeoutMs`). */
		async idle(timeoutMs: number) {
			const response = await fetch(`${url}/_sandbox/idle?timeoutMs=${timeoutMs}`)
			return response.status === 200
		},
		setFaults(faults: Record<string, unknown>) {
			return control('POST', 'settings', { faults })
		},
		async stop() {
			child.kill('SIGTERM')
			await new Promise((resolve) => child.once('exit', resolve))
		},
	}
}

export type WorkerProcess = { child: ChildProcess; pid: number }

export async function startWorkerProcess(
	sandboxUrl: string,
	extraEnv: Record<string, string> = {},
	onLine?: (line: Record<string, unknown>) => void,
): Promise<WorkerProcess> {
	const { child, first } = await spawnChild(
		'tests/reliability/worker-process.ts',
		[],
		{ ...process.env, SANDBOX_URL: sandboxUrl, ...extraEnv },
		onLine,
		WORKER_NODE_FLAGS,
	)
	return { child, pid: first.pid as number }
}

/** The web server with the app's webhook endpoints; needs the production build (`npm run build`). */
export async function startWebProcess(env: Record<string, string>) {
	if (!fs.existsSync(path.join(root, 'build/server/index.js')))
		throw new Error('No production build: run `npm run build` first')
	const { child, first } = await spawnChild('tests/reliability/web-process.ts', [], {
		...process.env,
		NODE_ENV: 'production',
		HOST: '127.0.0.1',
		...env,
	})
	return { child, pid: first.pid as number, url: first.url as string }
}

export function kill9(worker: WorkerProcess) {
	return new Promise<void>((resolve) => {
		worker.child.once('exit', () => resolve())
		worker.child.kill('SIGKILL')
	})
}

export async function stopWorker(worker: WorkerProcess) {
	if (worker.child.exitCode != null) return
	const exited = new Promise((resolve) => worker.child.once('exit', resolve))
	worker.child.kill('SIGTERM')
	const timer = setTimeout(() => worker.child.kill('SIGKILL'), 10_000)
	await exited
	clearTimeout(timer)
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
		return (Number(fields[11]) + Number(fields[12])) / 100
	} catch {
		return Number.NaN
	}
}

export async function waitUntil<T>(
	probe: () => Promise<T | null | undefined | false>,
	timeoutMs: number,
	everyMs = 100,
) {
	const deadline = Date.now() + timeoutMs
	while (Date.now() < deadline) {
		const value = await probe()
		if (value) return value
		await new Promise((resolve) => setTimeout(resolve, everyMs))
	}
	throw new Error(`Timed out after ${timeoutMs} ms`)
}

export async function statusOf(broadcastId: string) {
	const [row] = await sql<Array<{ status: string; status_reason: string | null }>>`
		select status, status_reason from broadcasts where id = ${broadcastId}::uuid`
	return row
}

export async function countsOf(broadcastId: string) {
	const rows = await sql<Array<{ state: string; n: number }>>`
		select state, count(*)::int as n from broadcast_recipients where broadcast_id = ${broadcastId}::uuid group by state`
	return Object.fromEntries(rows.map((row) => [row.state, row.n])) as Record<string, number>
}

/** Duplicates (extra sends to one recipient) and lost recipients, per the sandbox ledger. */
export async function auditLedger(broadcastId: string, ledger: LedgerEntry[]) {
	const rows = await sql<Array<{ phone_e164: string; state: string }>>`
		select phone_e164, state from broadcast_recipients where broadcast_id = ${broadcastId}::uuid`
	const expected = new Set(
		rows.filter((row) => row.state !== 'skipped').map((row) => row.phone_e164),
	)
	const byRecipient = new Map<string, number>()
	for (const entry of ledger) byRecipient.set(entry.to, (byRecipient.get(entry.to) ?? 0) + 1)
	let duplicates = 0
	for (const count of byRecipient.values()) if (count > 1) duplicates += count - 1
	let lost = 0
	for (const phone of expected) if (!byRecipient.has(phone)) lost++
	const notSent = rows.filter((row) => row.state !== 'sent' && row.state !== 'skipped').length
	return { duplicates, lost, notSent, accepted: ledger.length, expected: expected.size }
}

/** Largest number of sends accepted in any sliding window of `windowMs` (one second). */
export function maxInAnySecond(ledger: LedgerEntry[], windowMs = 1000) {
	return maxInWindow(
		ledger.map((entry) => Date.parse(entry.acceptedAt)),
		windowMs,
	)
}
