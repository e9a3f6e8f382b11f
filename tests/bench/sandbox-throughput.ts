/**
 * How many template sends per second the sandbox accepts, against a bare node:http server that
 * answers 200 (the baseline), measured in the same run with the same keep-alive client. The
 * servers run in child processes so the load generator does not share their event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import http from 'node:http'
import path from 'node:path'
import type { BenchFigure } from './types'

/** Issue 3: at least 3,000 sends/s, and never the bottleneck of a 1,000 messages/s broadcast. */
const TARGET = 3000
const TARGET_WITH_WEBHOOKS = 1000
const CONCURRENCY = 64
const PHONE_NUMBER_IDS = [
	'100000000000001',
	'100000000000002',
	'100000000000003',
	'100000000000004',
]
const root = path.resolve(import.meta.dirname, '../..')

type Child = { url: string; process: ChildProcess }

function startServer(mode: 'sandbox' | 'bare', webhookUrl = 'off'): Promise<Child> {
	return new Promise((resolve, reject) => {
		const child = spawn(
			process.execPath,
			['--import', 'tsx', path.join(root, 'tests/bench/sandbox-server-child.ts'), mode, webhookUrl],
			{ cwd: root, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
		)
		let output = ''
		child.stdout!.on('data', (chunk: Buffer) => {
			output += chunk.toString()
			const line = output.split('\n').find((l) => l.startsWith('{'))
			if (line) resolve({ url: (JSON.parse(line) as { url: string }).url, process: child })
		})
		child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))
	})
}

function stop(child: Child) {
	child.process.removeAllListeners('exit')
	child.process.kill('SIGTERM')
}

type ChildStats = {
	cpuMicros: number
	requests?: number
	ledger?: number
	stats?: { accepted: number; webhooks: Record<string, unknown> }
}

function askStats(child: Child): Promise<ChildStats> {
	return new Promise((resolve) => {
		child.process.once('message', (message) => resolve(message as never))
		child.process.send('stats')
	})
}

/** Keeps CONCURRENCY sends in flight for `durationMs` and counts the 200 answers. */
async function load(url: string, durationMs: number, warmupMs: number) {
	const target = new URL(url)
	const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
	let sequence = 0
	let ok = 0
	let failed = 0
	let counting = false
	const started = Date.now()
	const stopAt = started + warmupMs + durationMs

	function post(): Promise<void> {
		const n = sequence++
		const phoneNumberId = PHONE_NUMBER_IDS[n % PHONE_NUMBER_IDS.length]
		const body = `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+549110${String(n).padStart(7, '0')}","type":"template","biz_opaque_callback_data":"bench:${n}","template":{"name":"bench_promo","language":{"code":"es"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"C${n}"}]}]}}`
		return new Promise((resolve) => {
			const request = http.request(
				{
					host: target.hostname,
					port: target.port,
					path: `/meta/whatsapp/v24.0/${phoneNumberId}/messages`,
					method: 'POST',
					agent,
					headers: {
						'Content-Type': 'application/json',
						'Content-Length': Buffer.byteLength(body),
						'X-API-Key': 'sandbox',
					},
				},
				(response) => {
					response.resume()
					response.on('end', () => {
						if (counting) {
							if (response.statusCode === 200) ok++
							else failed++
						}
						resolve()
					})
				},
			)
			request.on('socket', (socket) => socket.setNoDelay(true))
			request.on('error', () => {
				if (counting) failed++
				resolve()
			})
			request.end(body)
		})
	}

	let measuredFrom = 0
	setTimeout(() => {
		counting = true
		measuredFrom = Date.now()
	}, warmupMs)

	async function worker() {
		while (Date.now() < stopAt) await post()
	}
	await Promise.all(Array.from({ length: CONCURRENCY }, worker))
	const elapsed = (Date.now() - measuredFrom) / 1000
	agent.destroy()
	return { perSecond: ok / elapsed, ok, failed, sent: sequence }
}

export async function benchSandboxThroughput({
	quick,
}: {
	quick: boolean
}): Promise<Array<BenchFigure>> {
	const durationMs = quick ? 2000 : 6000
	const warmupMs = quick ? 500 : 1000

	const bare = await startServer('bare')
	const bareBefore = await askStats(bare)
	const baseline = await load(bare.url, durationMs, warmupMs)
	const bareAfter = await askStats(bare)
	const bareCpuPerRequest = (bareAfter.cpuMicros - bareBefore.cpuMicros) / baseline.sent

	const plain = await startServer('sandbox', 'off')
	const plainBefore = await askStats(plain)
	const withoutWebhooks = await load(plain.url, durationMs, warmupMs)
	const plainLedger = await askStats(plain)
	const sandboxCpuPerRequest =
		(plainLedger.cpuMicros - plainBefore.cpuMicros) / withoutWebhooks.sent
	stop(plain)

	// The bare server doubles as the webhook receiver: ~2.5 signed webhooks per accepted send.
	const signing = await startServer('sandbox', `${bare.url}/webhooks/kapso`)
	const signingBefore = await askStats(signing)
	const withWebhooks = await load(signing.url, durationMs, warmupMs)
	const signingStats = await askStats(signing)
	const signingCpuPerRequest =
		(signingStats.cpuMicros - signingBefore.cpuMicros) / withWebhooks.sent
	const webhooks = signingStats.stats?.webhooks ?? {}
	stop(signing)
	stop(bare)

	const figure = (name: string, value: number, note: string, target = TARGET): BenchFigure => ({
		name,
		value: Math.round(value),
		unit: 'sends/s',
		target: `>= ${target}`,
		baseline: Math.round(baseline.perSecond),
		ratio: Number((value / baseline.perSecond).toFixed(3)),
		ok: value >= target,
		note,
	})
	const ledger = plainLedger.ledger ?? 0
	const losses = withoutWebhooks.sent - ledger
	return [
		figure(
			'Sandbox: template sends accepted per second (webhooks off)',
			withoutWebhooks.perSecond,
			`${CONCURRENCY} keep-alive connections, ${PHONE_NUMBER_IDS.length} sender numbers; baseline = bare node:http 200 server, same client; server CPU per send ${Math.round(sandboxCpuPerRequest)} µs (bare ${Math.round(bareCpuPerRequest)} µs, so one free core would accept about ${Math.round(1e6 / sandboxCpuPerRequest)}/s); ${withoutWebhooks.failed} non-200 answers`,
		),
		figure(
			'Sandbox: template sends accepted per second (signed status webhooks on)',
			withWebhooks.perSecond,
			`~2.5 signed webhooks per send to a bare receiver (the 1,000 messages/s benchmark must not wait on the sandbox), ${String(webhooks.delivered)} delivered and ${String(webhooks.pending)} still queued when measured; server CPU per send incl. its webhooks ${Math.round(signingCpuPerRequest)} µs; ${withWebhooks.failed} non-200 answers`,
			TARGET_WITH_WEBHOOKS,
		),
		{
			name: 'Sandbox: accepted sends missing from the ledger',
			value: Math.max(0, losses),
			unit: 'messages',
			target: '= 0',
			baseline: null,
			ratio: null,
			ok: losses <= 0 && withoutWebhooks.failed === 0,
			note: `${ledger} ledger entries for ${withoutWebhooks.sent} sends`,
		},
	]
}
