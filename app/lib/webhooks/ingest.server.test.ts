import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql as q } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { signKapsoBody } from '#app/lib/kapso/signatures'
import { db, sql } from '#db/client'
import {
	createEventWriter,
	createWebhookIngest,
	PROCESS_JOB,
	serveMetaVerification,
	serveWebhook,
	WEBHOOK_BODY_LIMIT,
} from './ingest.server'
import {
	kapsoHeaders,
	kapsoStatusPayload,
	metaBody,
	metaHeaders,
	metaMessagesValue,
	metaStatus,
} from './test-fixtures'

const KAPSO_SECRET = 'kapso-test-secret'
const META_SECRET = 'meta-app-secret'
const VERIFY_TOKEN = 'verify-me'

let server: http.Server
let base: string

beforeAll(async () => {
	const ingest = createWebhookIngest(createEventWriter(sql), {
		kapsoSecret: KAPSO_SECRET,
		metaAppSecret: META_SECRET,
		metaVerifyToken: VERIFY_TOKEN,
	})
	server = http.createServer((req, res) => {
		if (req.url?.startsWith('/webhooks/kapso')) void serveWebhook(req, res, ingest.kapso)
		else if (req.method === 'GET') serveMetaVerification(req, res, ingest)
		else void serveWebhook(req, res, ingest.meta)
	})
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
	server.closeAllConnections()
	await new Promise((resolve) => server.close(resolve))
})

beforeEach(async () => {
	await db.execute(q`delete from webhook_events`)
	await db.execute(q`delete from graphile_worker._private_jobs`)
})

async function stored() {
	return db.execute<{ dedupe_key: string; event_type: string; source: string; payload: Record<string, unknown> }>(
		q`select dedupe_key, event_type, source, payload from webhook_events order by id`,
	)
}

async function processingJobs() {
	const rows = await db.execute<{ n: number }>(
		q`select count(*)::int as n from graphile_worker.jobs where task_identifier = ${PROCESS_JOB}`,
	)
	return rows[0].n
}

function postKapso(body: string, headers: Record<string, string>) {
	return fetch(`${base}/webhooks/kapso`, { method: 'POST', headers, body })
}

function postMeta(body: string, headers: Record<string, string>) {
	return fetch(`${base}/webhooks/meta`, { method: 'POST', headers, body })
}

const deliveredBody = JSON.stringify(
	kapsoStatusPayload('wamid.A', [metaStatus('wamid.A', 'sent', 1_700_000_000), metaStatus('wamid.A', 'delivered', 1_700_000_005)]),
)

describe('POST /webhooks/kapso', () => {
	test('a valid signature stores the event once and enqueues the processing job', async () => {
		const response = await postKapso(deliveredBody, kapsoHeaders(deliveredBody, KAPSO_SECRET, 'whatsapp.message.delivered', 'key-1'))
		expect(response.status).toBe(200)
		const rows = await stored()
		expect(rows).toHaveLength(1)
		expect(rows[0]).toMatchObject({ source: 'kapso', dedupe_key: 'kapso:key-1', event_type: 'whatsapp.message.delivered' })
		expect(await processingJobs()).toBe(1)
	})

	test.each([
		['an invalid signature', (body: string) => ({ 'x-webhook-signature': signKapsoBody(`${body} `, KAPSO_SECRET) })],
		['a missing signature', () => ({ 'x-webhook-signature': '' })],
		['the wrong secret', (body: string) => ({ 'x-webhook-signature': signKapsoBody(body, 'another-secret') })],
		['a malformed signature', () => ({ 'x-webhook-signature': 'sha256=zz' })],
	])('%s is refused with 401 and nothing is stored', async (_name, signature) => {
		const headers = { ...kapsoHeaders(deliveredBody, KAPSO_SECRET, 'whatsapp.message.delivered', 'key-x'), ...signature(deliveredBody) }
		const response = await postKapso(deliveredBody, headers)
		expect(response.status).toBe(401)
		expect(await stored()).toHaveLength(0)
		expect(await processingJobs()).toBe(0)
	})

	test('the same idempotency key is stored once; a new key is a new event', async () => {
		const headers = kapsoHeaders(deliveredBody, KAPSO_SECRET, 'whatsapp.message.delivered', 'dup-1')
		const answers = await Promise.all([1, 2, 3].map(() => postKapso(deliveredBody, headers)))
		expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
		await postKapso(deliveredBody, kapsoHeaders(deliveredBody, KAPSO_SECRET, 'whatsapp.message.delivered', 'dup-2'))
		expect((await stored()).map((r) => r.dedupe_key)).toEqual(['kapso:dup-1', 'kapso:dup-2'])
	})

	test('a batched delivery stores each item, deduplicated per item', async () => {
		const items = [1, 2, 3].map((i) => ({
			message: { id: `wamid.in.${i}`, from: '51900000001', type: 'text', text: { body: `hola ${i}` }, timestamp: '1700000000' },
			phone_number_id: '100000000000001',
		}))
		const body = JSON.stringify({ type: 'whatsapp.message.received', batch: true, data: items })
		const headers = kapsoHeaders(body, KAPSO_SECRET, 'whatsapp.message.received', 'batch-1', {
			'x-webhook-batch': 'true',
			'x-batch-size': '3',
		})
		expect((await postKapso(body, headers)).status).toBe(200)
		expect((await postKapso(body, headers)).status).toBe(200)
		const rows = await stored()
		expect(rows.map((r) => r.dedupe_key)).toEqual(['kapso:batch-1:0', 'kapso:batch-1:1', 'kapso:batch-1:2'])
		expect((rows[2].payload.message as { id: string }).id).toBe('wamid.in.3')
	})

	test.each([
		['not JSON', '{"message":'],
		['a message event without message.id', JSON.stringify({ message: { type: 'text' } })],
		['a JSON array', '[1,2]'],
	])('a body that is %s is a 400 and nothing is stored', async (_name, body) => {
		const response = await postKapso(body, kapsoHeaders(body, KAPSO_SECRET, 'whatsapp.message.received', 'bad'))
		expect(response.status).toBe(400)
		expect(await stored()).toHaveLength(0)
	})

	test('a body over the limit is refused with 413', async () => {
		const body = JSON.stringify({ message: { id: 'x', text: 'a'.repeat(WEBHOOK_BODY_LIMIT) } })
		const response = await postKapso(body, kapsoHeaders(body, KAPSO_SECRET, 'whatsapp.message.received', 'big')).catch(
			() => null,
		)
		if (response) expect(response.status).toBe(413)
		expect(await stored()).toHaveLength(0)
	})

	test('a NUL escape in a message does not fail the events stored with it', async () => {
		const body = JSON.stringify({ message: { id: 'wamid.nul', type: 'text', text: { body: 'a\u0000b' } } })
		const response = await postKapso(body, kapsoHeaders(body, KAPSO_SECRET, 'whatsapp.message.received', 'nul'))
		expect(response.status).toBe(200)
		expect(await stored()).toHaveLength(1)
	})
})

describe('/webhooks/meta', () => {
	const body = metaBody(
		'messages',
		metaMessagesValue({
			statuses: [metaStatus('wamid.M', 'sent', 1_700_000_000), metaStatus('wamid.M', 'delivered', 1_700_000_003)],
			messages: [{ id: 'wamid.IN', from: '51900000009', type: 'text', timestamp: '1700000004', text: { body: 'hi' } }],
		}),
	)

	test('stores one event per status and per message, deduplicated on wamid + status + timestamp', async () => {
		expect((await postMeta(body, metaHeaders(body, META_SECRET))).status).toBe(200)
		// Meta redelivers the same statuses inside a different envelope.
		const again = metaBody('messages', metaMessagesValue({ statuses: [metaStatus('wamid.M', 'delivered', 1_700_000_003)] }))
		expect((await postMeta(again, metaHeaders(again, META_SECRET))).status).toBe(200)
		const rows = await stored()
		expect(rows.map((r) => r.dedupe_key)).toEqual([
			'meta:status:wamid.M:sent:1700000000',
			'meta:status:wamid.M:delivered:1700000003',
			'meta:message:wamid.IN',
		])
		expect(rows.map((r) => r.event_type)).toEqual(['status.sent', 'status.delivered', 'message.text'])
		expect(await processingJobs()).toBe(1)
	})

	test('other fields are stored whole, deduplicated on their content', async () => {
		const update = metaBody('message_template_status_update', {
			event: 'APPROVED',
			message_template_id: 12345,
			message_template_name: 'promo',
			message_template_language: 'es',
			reason: 'NONE',
		})
		await postMeta(update, metaHeaders(update, META_SECRET))
		await postMeta(update, metaHeaders(update, META_SECRET))
		const rows = await stored()
		expect(rows).toHaveLength(1)
		expect(rows[0].event_type).toBe('message_template_status_update')
	})

	test.each([
		['an invalid signature', { 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) }],
		['a missing signature', {}],
		['the wrong secret', { 'x-hub-signature-256': metaHeaders(body, 'not-the-secret')['x-hub-signature-256'] }],
		['a Kapso signature made with the Meta secret', { 'x-webhook-signature': signKapsoBody(body, META_SECRET) }],
	])('%s is refused with 401 and nothing is stored', async (_name, signature) => {
		const response = await postMeta(body, { 'content-type': 'application/json', ...signature })
		expect(response.status).toBe(401)
		expect(await stored()).toHaveLength(0)
	})

	test('a Meta-format delivery forwarded by Kapso is accepted with the Kapso signature', async () => {
		const response = await postMeta(body, { 'content-type': 'application/json', 'x-webhook-signature': signKapsoBody(body, KAPSO_SECRET) })
		expect(response.status).toBe(200)
		expect(await stored()).toHaveLength(3)
	})

	test('a malformed envelope is a 400', async () => {
		const bad = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages' }] }] })
		expect((await postMeta(bad, metaHeaders(bad, META_SECRET))).status).toBe(400)
		expect(await stored()).toHaveLength(0)
	})

	test('GET answers the challenge only for the right verify token', async () => {
		const ok = await fetch(`${base}/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${VERIFY_TOKEN}`)
		expect(ok.status).toBe(200)
		expect(await ok.text()).toBe('1158201444')
		const wrong = await fetch(`${base}/webhooks/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope`)
		expect(wrong.status).toBe(403)
		const noMode = await fetch(`${base}/webhooks/meta?hub.challenge=1&hub.verify_token=${VERIFY_TOKEN}`)
		expect(noMode.status).toBe(403)
	})
})
