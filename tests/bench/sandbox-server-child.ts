/**
 * A server for the sandbox benchmark, in its own process so the load generator does not share its
 * event loop: `sandbox` (with or without webhooks to a URL) or `bare` (a node:http server that
 * answers every request with a fixed 200, the baseline). Prints `{"url": …}` when listening.
 */
import http from 'node:http'
import { type AddressInfo } from 'node:net'
import { createSandboxServer } from '#app/sandbox/server'

const [mode, webhookUrl] = process.argv.slice(2)

let requests = 0
// A normal exit on a signal, so `--cpu-prof` can write its profile when the benchmark stops us.
process.once('SIGTERM', () => process.exit(0))
process.once('SIGINT', () => process.exit(0))

/** CPU time this process used so far, to compare the cost per request independent of machine load. */
function cpuMicros() {
	const usage = process.cpuUsage()
	return usage.user + usage.system
}

if (mode === 'bare') {
	const answer = JSON.stringify({
		messaging_product: 'whatsapp',
		contacts: [{ input: '+5491100000000', wa_id: '5491100000000' }],
		messages: [{ id: 'wamid.BASELINE', message_status: 'accepted' }],
	})
	const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
		requests++
		req.resume()
		req.on('end', () => {
			res.writeHead(200, {
				'Content-Type': 'application/json',
				'Content-Length': Buffer.byteLength(answer),
			})
			res.end(answer)
		})
	})
	process.on('message', (message) => {
		if (message === 'stats') process.send?.({ cpuMicros: cpuMicros(), requests })
	})
	server.listen(0, '127.0.0.1', () => {
		console.log(
			JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
		)
	})
} else {
	const sandbox = await createSandboxServer({
		seed: 1,
		webhookUrl: webhookUrl && webhookUrl !== 'off' ? webhookUrl : null,
		// The benchmark measures the sandbox, not the per-number throughput limit.
		defaultRatePerSecond: 1_000_000,
		templates: [
			{
				name: 'bench_promo',
				language: 'es',
				category: 'MARKETING',
				status: 'APPROVED',
				components: [
					{
						type: 'BODY',
						text: 'Hola {{1}}, tu código es {{2}} hoy.',
						example: { body_text: [['Ana', 'X']] },
					},
				],
			},
		],
	})
	console.log(JSON.stringify({ url: sandbox.url }))
	process.on('message', (message) => {
		if (message === 'stats')
			process.send?.({
				stats: sandbox.stats(),
				ledger: sandbox.ledger().length,
				cpuMicros: cpuMicros(),
			})
	})
}
