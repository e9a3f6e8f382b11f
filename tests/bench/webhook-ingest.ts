/**
 * Webhook ingest benchmark: signed Kapso v2 status webhooks (three per message, for messages in
 * a broadcast ledger) posted to the real web server (`app/cli/web.ts`, its own process) while a
 * real worker (`jobs/worker.ts`) processes them. In the same run, the same load generator posts
 * to a bare node:http server answering 200, which is the ceiling of this machine.
 *
 * Usage: DATABASE_URL=<fresh migrated db> npx tsx tests/bench/webhook-ingest.ts [--quick]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import type { BenchFigure } from './types'
import { signKapsoBody } from '#app/lib/kapso/signatures'
import { freePort } from '#tests/support/ports'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const PHONE_NUMBER_ID = '100000000000001'
const STATUSES = ['sent', 'delivered', 'read'] as const


async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs
	while (Date.now() < deadline) {
		if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: the server exited (${child.exitCode ?? child.signalCode})`)
		try {
			const response = await fetch(url)
			if (response.status < 500) return
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 100))
	}
	throw new Error(`${url} did not start`)
}

function startChild(args: string[], env: NodeJS.ProcessEnv) {
	const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] })
	let stderr = ''
	child.stderr?.on('data', (chunk: Buffer) => {
		stderr = (stderr + chunk.toString()).slice(-4000)
	})
	return { child, stderr: () => stderr }
}

async function stopChild(child: ChildProcess) {
	// A process stopped by a signal has a null exitCode and a signalCode.
	if (child.exitCode !== null || child.signalCode !== null) return
	const exited = new Promise((resolve) => child.once('exit', resolve))
	child.kill('SIGTERM')
	const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
	await exited
	clearTimeout(timer)
}

function progress(message: string) {
	process.stderr.write(`[webhook-ingest] ${message}\n`)
}

type Request = { body: Buffer; headers: Record<string, string> }

/** Builds the deliveries up front so that signing costs nothing during the measurement. */
function buildRequests(wamids: string[], secret: string): Request[] {
	const requests: Request[] = []
	const t0 = Math.floor(Date.now() / 1000)
	for (let s = 0; s < STATUSES.length; s++) {
		for (let i = 0; i < wamids.length; i++) {
			const statuses = STATUSES.slice(0, s + 1).map((status, k) => ({
				id: wamids[i],
				status,
				timestamp: String(t0 + k),
				recipient_id: `51900${String(i).padStart(6, '0')}`,
				...(status === 'sent'
					? { pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' } }
					: {}),
			}))
			const body = Buffer.from(
				JSON.stringify({
					message: {
						id: wamids[i],
						timestamp: String(t0),
						type: 'template',
						template: { name: 'promo', language: { code: 'es' } },
						kapso: { direction: 'outbound', status: STATUSES[s], processing_status: 'completed', origin: 'cloud_api', statuses },
					},
					conversation: { id: `conv-${i}`, phone_number_id: PHONE_NUMBER_ID, status: 'active' },
					is_new_conversation: false,
					phone_number_id: PHONE_NUMBER_ID,
				}),
			)
			requests.push({
				body,
				headers: {
					'content-type': 'application/json',
					'content-length': String(body.length),
					'x-webhook-event': `whatsapp.message.${STATUSES[s]}`,
					'x-webhook-signature': signKapsoBody(body, secret),
					'x-idempotency-key': randomBytes(12).toString('hex'),
					'x-webhook-payload-version': 'v2',
				},
			})
		}
	}
	return requests
}

type LoadResult = { rate: number; p50: number; p99: number; errors: number; count: number }

function percentile(sorted: number[], p: number) {
	if (sorted.length === 0) return 0
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** Closed-loop load: `concurrency` keep-alive connections, each posting its next request on answer. */
async function load(url: string, requests: Request[], concurrency: number): Promise<LoadResult> {
	const target = new URL(url)
	const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
	const latencies = new Float64Array(requests.length)
	let next = 0
	let errors = 0
	function post(request: Request) {
		return new Promise<number>((resolve) => {
			const req = http.request(
				{ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: request.headers },
				(res) => {
					res.resume()
					res.on('end', () => resolve(res.statusCode ?? 0))
				},
			)
			req.on('error', () => resolve(0))
			req.end(request.body)
		})
	}
	async function lane() {
		while (next < requests.length) {
			const index = next++
			const started = performance.now()
			const status = await post(requests[index])
			latencies[index] = performance.now() - started
			if (status !== 200) errors++
		}
	}
	const started = performance.now()
	await Promise.all(Array.from({ length: concurrency }, lane))
	const elapsed = (performance.now() - started) / 1000
	agent.destroy()
	const sorted = Array.from(latencies).sort((a, b) => a - b)
	return { rate: requests.length / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), errors, count: requests.length }
}

const BARE_SERVER = `
const http = require('node:http')
const server = http.createServer((req, res) => {
	req.on('data', () => {})
	req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}') })
})
server.keepAliveTimeout = 65000
server.listen(Number(process.env.PORT), '127.0.0.1')
`

async function seedLedger(sql: postgres.Sql, messages: number) {
	const [sender] = await sql<Array<{ id: string }>>`
		insert into senders (phone_number_id, waba_id, display_number, name)
		values (${PHONE_NUMBER_ID}, '200000000000001', '+1 555 010 0001', 'Bench')
		on conflict (phone_number_id) do update set name = excluded.name
		returning id
	`
	const [broadcast] = await sql<Array<{ id: string }>>`
		insert into broadcasts (name, sender_id, status, launched_at)
		values ('Webhook bench', ${sender.id}, 'sending', now()) returning id
	`
	const tag = broadcast.id.slice(0, 8)
	await sql`
		with c as (
			insert into contacts (phone_e164, wa_id)
			select '+51900' || lpad(i::text, 6, '0'), '51900' || lpad(i::text, 6, '0') from generate_series(1, ${messages}) as i
			on conflict (phone_e164) do update set wa_id = excluded.wa_id
			returning id, phone_e164
		)
		insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, state, wamid, sent_at, attempts)
		select ${broadcast.id}, c.id, c.phone_e164, 'sent', 'wamid.bench.' || ${tag} || '.' || c.id, now(), 1 from c
	`
	const rows = await sql<Array<{ wamid: string }>>`
		select wamid from broadcast_recipients where broadcast_id = ${broadcast.id} order by id
	`
	return { broadcastId: broadcast.id, wamids: rows.map((r) => r.wamid) }
}

async function waitProcessed(sql: postgres.Sql, timeoutMs: number) {
	const deadline = Date.now() + timeoutMs
	while (Date.now() < deadline) {
		const [row] = await sql<Array<{ n: number }>>`select count(*)::int as n from webhook_events where processed_at is null`
		if (row.n === 0) return true
		progress(`${row.n} events left to process`)
		await new Promise((resolve) => setTimeout(resolve, 200))
	}
	return false
}

export async function benchWebhookIngest({ quick }: { quick: boolean }): Promise<BenchFigure[]> {
	const databaseUrl = process.env.DATABASE_URL
	if (!databaseUrl) throw new Error('DATABASE_URL must point at a fresh migrated database')
	const messages = quick ? 3000 : 15_000
	const concurrency = 64
	const secret = randomBytes(16).toString('hex')
	const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} })
	const children: ChildProcess[] = []
	try {
		progress(`seeding ${messages} messages`)
		const { broadcastId, wamids } = await seedLedger(sql, messages)
		const requests = buildRequests(wamids, secret)
		const warmup = buildRequests(
			Array.from({ length: 300 }, (_, i) => `wamid.warmup.${i}`),
			secret,
		)

		// Baseline: a bare node:http server in its own process, same generator.
		const barePort = await freePort()
		const bare = startChild(['-e', BARE_SERVER], { ...process.env, PORT: String(barePort) })
		children.push(bare.child)
		await waitForHttp(`http://127.0.0.1:${barePort}/`, bare.child)
		const bareUrl = `http://127.0.0.1:${barePort}/webhooks/kapso`
		progress('baseline: bare node:http')
		await load(bareUrl, warmup, concurrency)
		const baseline = await load(bareUrl, requests, concurrency)
		await stopChild(bare.child)

		// The product: web server and worker, each in its own process, as `npm start` runs them.
		const port = await freePort()
		const env: NodeJS.ProcessEnv = {
			...process.env,
			DATABASE_URL: databaseUrl,
			NODE_ENV: 'production',
			PORT: String(port),
			HOST: '127.0.0.1',
			KAPSO_WEBHOOK_SECRET: secret,
			WORKER_CONCURRENCY: '4',
		}
		const hasBuild = fs.existsSync(path.join(root, 'build/server/index.js'))
		if (!hasBuild) throw new Error('No production build: run `npm run build` first')
		const web = startChild(['--import', 'tsx', 'app/cli/web.ts'], env)
		children.push(web.child)
		const worker = startChild(['--import', 'tsx', 'jobs/worker.ts'], env)
		children.push(worker.child)
		await waitForHttp(`http://127.0.0.1:${port}/healthz`, web.child).catch((error: Error) => {
			throw new Error(`${error.message}\n${web.stderr()}`)
		})
		const url = `http://127.0.0.1:${port}/webhooks/kapso`
		progress(`baseline ${Math.round(baseline.rate)} req/s; now the web server`)
		await load(url, warmup, concurrency)
		const result = await load(url, requests, concurrency)
		const loadEnded = Date.now()
		progress(`ingest ${Math.round(result.rate)} events/s, p99 ${result.p99.toFixed(1)} ms; waiting for processing`)
		const processed = await waitProcessed(sql, 120_000)
		const drainSeconds = (Date.now() - loadEnded) / 1000
		progress(`processed: ${processed} after ${drainSeconds.toFixed(1)} s`)

		const [stored] = await sql<Array<{ n: number }>>`
			select count(*)::int as n from webhook_events where event_type like 'whatsapp.message.%' and payload->'message'->>'id' like 'wamid.bench.%'
		`
		const [read] = await sql<Array<{ n: number }>>`
			select count(*)::int as n from broadcast_recipients where broadcast_id = ${broadcastId} and state = 'read'
		`
		const ok = result.errors === 0 && stored.n === requests.length
		return [
			{
				name: 'webhook ingest: events acknowledged per second (worker running)',
				value: Math.round(result.rate),
				unit: 'events/s',
				target: '>= 3000',
				baseline: Math.round(baseline.rate),
				ratio: Number((result.rate / baseline.rate).toFixed(3)),
				ok: ok && result.rate >= 3000,
			},
			{
				name: 'webhook ingest: p99 acknowledgement',
				value: Number(result.p99.toFixed(1)),
				unit: 'ms',
				target: '< 250',
				baseline: Number(baseline.p99.toFixed(1)),
				ratio: Number((result.p99 / Math.max(baseline.p99, 0.001)).toFixed(2)),
				ok: ok && result.p99 < 250,
			},
			{
				name: 'webhook ingest: p50 acknowledgement',
				value: Number(result.p50.toFixed(1)),
				unit: 'ms',
				target: '<= 50',
				baseline: Number(baseline.p50.toFixed(1)),
				ratio: Number((result.p50 / Math.max(baseline.p50, 0.001)).toFixed(2)),
				ok: ok && result.p50 <= 50,
			},
			{
				name: 'webhook processing: backlog drained after the load (all statuses applied)',
				value: Number(drainSeconds.toFixed(1)),
				unit: 's',
				target: '< 60',
				baseline: null,
				ratio: null,
				ok: processed && read.n === messages,
			},
		]
	} finally {
		for (const child of children) await stopChild(child)
		await sql.end({ timeout: 5 })
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const results = await benchWebhookIngest({ quick: process.argv.includes('--quick') })
	console.table(results)
	process.exit(results.every((r) => r.ok) ? 0 : 1)
}
