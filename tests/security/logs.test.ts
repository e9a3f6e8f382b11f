import { Readable } from 'node:stream'
import { format } from 'node:util'
import { run, type Runner } from 'graphile-worker'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { db, sql } from '#db/client'
import { contacts, messages } from '#db/schema/index'
import { launchBroadcast, scheduleBroadcast } from '#app/lib/broadcasts/broadcasts.server'
import { createImport, getImport } from '#app/lib/imports/imports.server'
import {
	recipientCounts,
	seedBroadcast,
	seedSender,
	seedTemplate,
	startTestSandbox,
	waitFor,
} from '#app/lib/sending/testing.server'
import { kapsoHeaders, kapsoInboundPayload, PHONE_NUMBER_ID } from '#app/lib/webhooks/test-fixtures'
import { taskList } from '#jobs/task-list'
import { startSecurityServer } from './server'

/**
 * Issue #9: no full phone number or message body in the logs. Runs the flows that handle them —
 * an import, a broadcast sent through the sandbox with its status webhooks, an inbound text
 * webhook — through the real web server and a real graphile-worker with its default logger, with
 * everything written to the console or to stdout/stderr captured, then greps the capture.
 */
const WEBHOOK_SECRET = 'logs-webhook-secret'
const INBOUND_TEXT = 'Hola, soy Rosa y mi pedido 5521 no llegó'
const SANDBOX_REPLY = 'Respuesta privada 8833 de Juan'
const CSV = [
	'phone;name;city',
	'987 654 321;Rosa Quispe;Lima',
	'+51 987 111 222;Juan Mamani;Cusco',
	'(01) 612-3456;Oficina;Lima',
	'12345;Número malo;Arequipa',
	'987 654 321;Rosa Quispe;Lima',
].join('\n')

const captured: string[] = []
const restores: Array<() => void> = []
let server: Awaited<ReturnType<typeof startSecurityServer>>
let sandbox: Awaited<ReturnType<typeof startTestSandbox>>
let worker: Runner

function capture() {
	for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
		const original = console[method]
		console[method] = (...args: unknown[]) => {
			captured.push(format(...args))
			original.apply(console, args)
		}
		restores.push(() => (console[method] = original))
	}
	for (const stream of [process.stdout, process.stderr]) {
		const original = stream.write.bind(stream)
		stream.write = ((chunk: unknown, ...rest: unknown[]) => {
			captured.push(String(chunk))
			return (original as (...args: unknown[]) => boolean)(chunk, ...rest)
		}) as typeof stream.write
		restores.push(() => (stream.write = original))
	}
}

beforeAll(async () => {
	capture()
	server = await startSecurityServer({ KAPSO_WEBHOOK_SECRET: WEBHOOK_SECRET })
	sandbox = await startTestSandbox({
		webhookUrl: `${server.base}/webhooks/kapso`,
		webhookSecret: WEBHOOK_SECRET,
		statuses: { sentDelayMs: 10, deliveredDelayMs: 30, readDelayMs: 60, jitterMs: 10 },
		// The paths that carry a number or a text into an error: an undeliverable number, replies.
		undeliverablePrefixes: ['51987111'],
		replies: { share: 1, delayMs: 20, buttonShare: 0, optOutShare: 0, texts: [SANDBOX_REPLY] },
	})
	// graphile-worker's own console logger, as the production worker has it.
	worker = await run({
		connectionString: process.env.DATABASE_URL!,
		concurrency: 4,
		taskList,
		pollInterval: 100,
		noHandleSignals: true,
	})
})

afterAll(async () => {
	await worker?.stop()
	await sandbox?.close()
	server?.close()
	for (const restore of restores.splice(0)) restore()
})

describe('logs', () => {
	test('an import, a send with its webhooks and an inbound text leave no phone or body in the logs', async () => {
		// Import.
		const upload = await createImport({
			fileName: 'contacts.csv',
			upload: Readable.from([Buffer.from(CSV)]),
			options: { defaultCountry: 'PE', tags: ['logs'] },
		})
		await waitFor(async () => {
			const row = await getImport(upload.id)
			return row && ['completed', 'failed'].includes(row.status)
		})
		expect((await getImport(upload.id))?.status).toBe('completed')
		const phones = (await db.select({ phone: contacts.phoneE164 }).from(contacts)).map(
			(row) => row.phone,
		)
		expect(phones).toContain('+51987654321')

		// Send, with the sandbox's status webhooks coming back through the web server.
		const sender = await seedSender(200, PHONE_NUMBER_ID)
		const template = await seedTemplate()
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'logs',
			mapping: {
				'body:1': { source: 'field', field: 'name', fallback: 'amigo' },
				'body:2': { source: 'text', text: 'PROMO-77' },
			},
		})
		await scheduleBroadcast(broadcast.id, { at: null }, null)
		await launchBroadcast(broadcast.id)
		await waitFor(async () => {
			const counts = await recipientCounts(broadcast.id)
			return (counts.delivered ?? 0) + (counts.read ?? 0) >= 1 && (counts.failed ?? 0) >= 1
		}, 30_000)

		// An inbound text, signed as Kapso signs it.
		const payload = kapsoInboundPayload({
			wamid: 'wamid.LOGS-INBOUND-1',
			from: '51987654321',
			timestamp: Math.floor(Date.now() / 1000),
			text: INBOUND_TEXT,
		})
		const body = JSON.stringify(payload)
		const response = await fetch(`${server.base}/webhooks/kapso`, {
			method: 'POST',
			headers: kapsoHeaders(body, WEBHOOK_SECRET, 'whatsapp.message.received', 'logs-inbound-1'),
			body,
		})
		expect(response.status).toBe(200)
		await waitFor(async () => {
			const rows = await db.select({ body: messages.body }).from(messages)
			return (
				rows.some((row) => row.body === INBOUND_TEXT) &&
				rows.some((row) => row.body === SANDBOX_REPLY)
			)
		})
		// Let the worker finish what the webhooks queued.
		await waitFor(async () => {
			const [{ n }] = await sql<
				Array<{ n: number }>
			>`select count(*)::int as n from graphile_worker.jobs where locked_at is not null`
			return n === 0
		})

		const logs = captured.join('\n')
		// The capture works: graphile-worker announces itself through it.
		expect(logs).toMatch(/Worker connected/)
		const leaks: string[] = []
		for (const phone of phones) {
			if (logs.includes(phone)) leaks.push(`phone ${phone}`)
			if (logs.includes(phone.slice(1))) leaks.push(`phone digits ${phone.slice(1)}`)
		}
		for (const text of [
			INBOUND_TEXT,
			SANDBOX_REPLY,
			'Hola Rosa Quispe',
			'tu código es PROMO-77',
			'PROMO-77',
		]) {
			if (logs.includes(text)) leaks.push(`message text "${text}"`)
		}
		const anyE164 = logs.match(/\+\d{8,15}\b/g) ?? []
		console.log(`logs: ${captured.length} lines captured, ${phones.length} phones looked for`)
		expect(leaks).toEqual([])
		expect(anyE164).toEqual([])
	}, 90_000)
})
