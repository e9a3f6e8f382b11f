import http from 'node:http'
import { type AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { createKapsoGateway, type KapsoGateway } from '#app/lib/kapso/gateway.server'
import { createKapsoPlatform } from '#app/lib/kapso/platform.server'
import { verifyKapsoSignature, verifyMetaSignature } from '#app/lib/kapso/signatures'
import { createSandboxServer, type SandboxServer } from './server'

const PHONE = '100000000000001'
const SECRET = 'test-webhook-secret'
const META_SECRET = 'test-meta-app-secret'

type Received = {
	path: string
	metaSignatureOk: boolean
	event: string
	key: string
	signatureOk: boolean
	body: {
		entry?: Array<{ id: string; changes: Array<{ field: string; value: Record<string, unknown> }> }>
		contact?: { wa_id: string }
		marketing_preference?: { status: string; previous_status: string | null; sequence: number }
		message?: {
			id: string
			type: string
			from?: string
			context?: { id: string }
			text?: { body: string }
			button?: { payload: string; text: string }
			kapso: {
				direction: string
				status: string
				statuses?: Array<{
					status: string
					biz_opaque_callback_data?: string
					errors?: Array<{ code: number }>
				}>
			}
		}
		phone_number_id?: string
	}
}

let receiver: http.Server
let received: Received[] = []
/** How the tiny receiver answers: 401 for bad signatures, like the app; a hook for failures. */
let failNext = 0

let sandbox: SandboxServer
let gateway: KapsoGateway

const promo = {
	name: 'promo',
	language: 'es',
	category: 'MARKETING' as const,
	components: [
		{ type: 'BODY', text: 'Hola {{1}}, hoy 20% de descuento.', example: { body_text: [['Ana']] } },
		{
			type: 'BUTTONS',
			buttons: [
				{ type: 'QUICK_REPLY', text: 'Me interesa' },
				{ type: 'QUICK_REPLY', text: 'Parar promociones' },
			],
		},
	],
}

function sendPromo(to: string, callback?: string) {
	return gateway.sendTemplate({
		phoneNumberId: PHONE,
		to,
		bizOpaqueCallbackData: callback,
		template: {
			name: 'promo',
			language: 'es',
			components: [
				{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] },
				{
					type: 'button',
					sub_type: 'quick_reply',
					index: '1',
					parameters: [{ type: 'payload', payload: 'OPT_OUT' }],
				},
			],
		},
	})
}

async function settle() {
	expect(await sandbox.idle(10_000)).toBe(true)
}

function eventsFor(wamid: string) {
	return received.filter((r) => r.body.message?.id === wamid && r.signatureOk)
}

beforeAll(async () => {
	receiver = http.createServer((req, res) => {
		const chunks: Buffer[] = []
		req.on('data', (chunk: Buffer) => chunks.push(chunk))
		req.on('end', () => {
			const raw = Buffer.concat(chunks)
			const signatureOk = verifyKapsoSignature(
				raw,
				req.headers['x-webhook-signature'] as string,
				SECRET,
			)
			received.push({
				path: req.url ?? '',
				metaSignatureOk: verifyMetaSignature(
					raw,
					req.headers['x-hub-signature-256'] as string,
					META_SECRET,
				),
				event: String(req.headers['x-webhook-event']),
				key: String(req.headers['x-idempotency-key']),
				signatureOk,
				body: JSON.parse(raw.toString('utf8')),
			})
			if (!signatureOk && !req.url?.endsWith('/meta')) {
				res.writeHead(401).end()
				return
			}
			if (failNext > 0) {
				failNext--
				res.writeHead(500).end()
				return
			}
			res.writeHead(200).end('ok')
		})
	})
	await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()))
	const port = (receiver.address() as AddressInfo).port
	sandbox = await createSandboxServer({
		seed: 42,
		webhookUrl: `http://127.0.0.1:${port}/webhooks/kapso`,
		webhookSecret: SECRET,
		metaWebhookUrl: `http://127.0.0.1:${port}/webhooks/meta`,
		metaAppSecret: META_SECRET,
		templates: [{ ...promo, status: 'APPROVED' }],
	})
	gateway = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 2000 })
})

afterAll(async () => {
	await sandbox.close()
	await new Promise((resolve) => receiver.close(resolve))
})

beforeEach(() => {
	sandbox.updateSettings({
		statuses: {
			sentDelayMs: 5,
			deliveredDelayMs: 20,
			readDelayMs: 40,
			jitterMs: 0,
			deliveredShare: 1,
			readShare: 1,
		},
		failures: {},
		chaos: { duplicateShare: 0, shuffle: false, delayShare: 0, dropShare: 0, badSignatureShare: 0 },
		replies: { share: 0, delayMs: 10, buttonShare: 0, optOutShare: 0 },
		webhookRetryDelaysMs: [30, 30, 30],
		retentionMs: null,
	})
	sandbox.reset()
	received = []
	failNext = 0
})

describe('status webhooks', () => {
	test('sent → delivered → read, signed (bare hex), with idempotency keys and the callback data', async () => {
		const result = await sendPromo('+5491122334455', 'r:1:a:1')
		if (!result.ok) throw new Error('send failed')
		await settle()
		const events = eventsFor(result.wamid)
		expect(events.map((e) => e.event)).toEqual([
			'whatsapp.message.sent',
			'whatsapp.message.delivered',
			'whatsapp.message.read',
		])
		expect(received.every((r) => r.signatureOk)).toBe(true)
		expect(new Set(events.map((e) => e.key)).size).toBe(3)
		const read = events[2].body
		expect(read.phone_number_id).toBe(PHONE)
		expect(read.message?.kapso).toMatchObject({ direction: 'outbound', status: 'read' })
		expect(read.message?.kapso.statuses?.map((s) => s.status)).toEqual([
			'sent',
			'delivered',
			'read',
		])
		expect(read.message?.kapso.statuses?.[0].biz_opaque_callback_data).toBe('r:1:a:1')
	})

	test('failures by code arrive as failed with the Meta code in the last status', async () => {
		sandbox.updateSettings({ failures: { '131049': 1 } })
		const result = await sendPromo('+5491122334455')
		if (!result.ok) throw new Error('send failed')
		await settle()
		const events = eventsFor(result.wamid)
		expect(events.map((e) => e.event)).toEqual(['whatsapp.message.sent', 'whatsapp.message.failed'])
		const statuses = events[1].body.message?.kapso.statuses ?? []
		expect(statuses[statuses.length - 1].errors?.[0].code).toBe(131049)
		expect(sandbox.stats().failedByCode).toEqual({ '131049': 1 })
	})

	test('an implausible phone number is accepted, then fails with 131026', async () => {
		const result = await sendPromo('+12')
		if (!result.ok) throw new Error('send failed')
		await settle()
		const events = eventsFor(result.wamid)
		expect(events.map((e) => e.event)).toEqual(['whatsapp.message.failed'])
		expect(events[0].body.message?.kapso.statuses?.[0].errors?.[0].code).toBe(131026)
	})

	test('a failing receiver is retried with the same idempotency key', async () => {
		failNext = 1
		const result = await sendPromo('+5491122334455')
		if (!result.ok) throw new Error('send failed')
		await settle()
		const sent = received.filter((r) => r.event === 'whatsapp.message.sent')
		expect(sent).toHaveLength(2)
		expect(sent[0].key).toBe(sent[1].key)
		expect(sandbox.stats().webhooks).toMatchObject({
			failedAttempts: 1,
			delivered: 3,
			abandoned: 0,
		})
	})
})

describe('chaos', () => {
	test('duplicates: every event is delivered at least twice', async () => {
		sandbox.updateSettings({ chaos: { duplicateShare: 1 } })
		const result = await sendPromo('+5491122334455')
		if (!result.ok) throw new Error('send failed')
		await settle()
		const events = eventsFor(result.wamid)
		expect(events).toHaveLength(6)
		for (const name of ['sent', 'delivered', 'read']) {
			expect(events.filter((e) => e.event === `whatsapp.message.${name}`)).toHaveLength(2)
		}
		expect(sandbox.stats().webhooks.duplicated).toBe(3)
	})

	test('shuffle: statuses of some messages arrive out of order', async () => {
		sandbox.updateSettings({ chaos: { shuffle: true } })
		const wamids: string[] = []
		for (let i = 0; i < 20; i++) {
			const result = await sendPromo(`+54911000000${10 + i}`)
			if (result.ok) wamids.push(result.wamid)
		}
		await settle()
		const rank = { sent: 1, delivered: 2, read: 3 } as Record<string, number>
		const outOfOrder = wamids.filter((wamid) => {
			const order = eventsFor(wamid).map((e) => rank[e.event.split('.').pop()!])
			return order.some((value, i) => i > 0 && value < order[i - 1])
		})
		expect(eventsFor(wamids[0])).toHaveLength(3)
		expect(outOfOrder.length).toBeGreaterThan(0)
	})

	test('bad signatures: forged copies fail verification, the real ones still arrive', async () => {
		sandbox.updateSettings({ chaos: { badSignatureShare: 1 } })
		const result = await sendPromo('+5491122334455')
		if (!result.ok) throw new Error('send failed')
		await settle()
		const forged = received.filter((r) => !r.signatureOk)
		expect(forged).toHaveLength(3)
		expect(eventsFor(result.wamid)).toHaveLength(3)
		expect(sandbox.stats().webhooks).toMatchObject({ forged: 3, abandoned: 0 })
	})

	test('drops: nothing arrives and the drop is counted', async () => {
		sandbox.updateSettings({ chaos: { dropShare: 1 } })
		await sendPromo('+5491122334455')
		await settle()
		expect(received).toHaveLength(0)
		expect(sandbox.stats().webhooks.dropped).toBe(3)
	})

	test('delays: held-back webhooks still arrive', async () => {
		sandbox.updateSettings({ chaos: { delayShare: 1, delayMs: 100 } })
		const result = await sendPromo('+5491122334455')
		if (!result.ok) throw new Error('send failed')
		await settle()
		expect(eventsFor(result.wamid)).toHaveLength(3)
		expect(sandbox.stats().webhooks.delayed).toBe(3)
	})
})

describe('simulated people', () => {
	test('opt-out replies (STOP/BAJA) arrive as message.received from the recipient', async () => {
		sandbox.updateSettings({ replies: { share: 1, optOutShare: 1 } })
		await sendPromo('+5491122334455')
		await settle()
		const replies = received.filter((r) => r.event === 'whatsapp.message.received')
		expect(replies).toHaveLength(1)
		expect(['STOP', 'BAJA']).toContain(replies[0].body.message?.text?.body)
		expect(replies[0].body.message).toMatchObject({
			from: '5491122334455',
			kapso: { direction: 'inbound' },
		})
		expect(sandbox.stats().replies.optOut).toBe(1)
	})

	test('a quick-reply tap carries the payload sent for that button and the template’s wamid', async () => {
		sandbox.updateSettings({ replies: { share: 1, optOutShare: 0, buttonShare: 1 } })
		const results = await Promise.all([sendPromo('+5491122334455'), sendPromo('+5491122334466')])
		await settle()
		const taps = received.filter((r) => r.event === 'whatsapp.message.received')
		expect(taps).toHaveLength(2)
		for (const tap of taps) {
			const message = tap.body.message!
			expect(message.type).toBe('button')
			expect(['Me interesa', 'OPT_OUT']).toContain(message.button?.payload)
			expect(results.map((r) => (r.ok ? r.wamid : null))).toContain(message.context?.id)
		}
	})

	test('a text reply can be triggered over HTTP and opens the 24-hour window', async () => {
		const response = await fetch(`${sandbox.url}/_sandbox/simulate/reply`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ from: '+5491122334455', text: 'Hola!' }),
		})
		expect(response.status).toBe(200)
		const { wamid } = (await response.json()) as { wamid: string }
		const reply = await gateway.sendText({
			phoneNumberId: PHONE,
			to: '+5491122334455',
			body: 'Hola, ¿en qué te ayudo?',
		})
		expect(reply.ok).toBe(true)
		await settle()
		expect(received.find((r) => r.body.message?.id === wamid)?.body.message?.text?.body).toBe(
			'Hola!',
		)
		expect(received.filter((r) => r.event === 'whatsapp.message.failed')).toHaveLength(0)
	})

	test('with replies.share 1 every delivered template gets a text answer from its recipient', async () => {
		sandbox.updateSettings({
			replies: { share: 1, optOutShare: 0, buttonShare: 0, texts: ['Gracias!', '¿Cuándo llega?'] },
		})
		const recipients = ['+5491122334401', '+5491122334402', '+5491122334403']
		for (const to of recipients) expect((await sendPromo(to)).ok).toBe(true)
		await settle()
		const replies = received.filter((r) => r.event === 'whatsapp.message.received')
		expect(replies.every((r) => r.signatureOk)).toBe(true)
		expect(replies.map((r) => r.body.message?.from).sort()).toEqual(
			recipients.map((to) => to.slice(1)),
		)
		for (const reply of replies) {
			expect(reply.body.message).toMatchObject({ type: 'text', kapso: { direction: 'inbound' } })
			expect(['Gracias!', '¿Cuándo llega?']).toContain(reply.body.message?.text?.body)
			expect(reply.body.phone_number_id).toBe(PHONE)
		}
		expect(sandbox.stats().replies).toEqual({ text: 3, button: 0, optOut: 0 })
	})

	test('with replies.share 0 nobody answers, though every message is delivered and read', async () => {
		sandbox.updateSettings({ replies: { share: 0, optOutShare: 0, buttonShare: 0 } })
		const results = await Promise.all([sendPromo('+5491122334401'), sendPromo('+5491122334402')])
		await settle()
		for (const result of results) {
			if (!result.ok) throw new Error('send failed')
			expect(eventsFor(result.wamid).map((r) => r.event)).toContain('whatsapp.message.read')
		}
		expect(received.filter((r) => r.event === 'whatsapp.message.received')).toEqual([])
		expect(sandbox.stats().replies).toEqual({ text: 0, button: 0, optOut: 0 })
	})
})

describe('lookups', () => {
	const WABA = '200000000000001'
	const get = (path: string) =>
		fetch(`${sandbox.url}/meta/whatsapp/v24.0/${path}`, { headers: { 'X-API-Key': 'sandbox' } })

	test('a template read with a narrower `fields` returns only those fields (and the id)', async () => {
		const list = await gateway.listTemplates({ wabaId: WABA, name: 'promo' })
		if (!list.ok || !list.items[0]) throw new Error('promo not found')
		const id = list.items[0].id

		const one = (await (
			await get(`${WABA}/message_templates/${id}?fields=name,status`)
		).json()) as Record<string, unknown>
		expect(one).toEqual({ id, name: 'promo', status: 'APPROVED' })

		const listed = (await (
			await get(
				`${WABA}/message_templates?name=promo&fields=${encodeURIComponent('language, category')}`,
			)
		).json()) as { data: Array<Record<string, unknown>> }
		expect(listed.data).toEqual([{ id, language: 'es', category: 'MARKETING' }])

		const byId = (await (await get(`${id}?fields=components`)).json()) as Record<string, unknown>
		expect(byId).toEqual({ id, components: promo.components })

		// Without `fields`, everything.
		const full = (await (await get(`${WABA}/message_templates/${id}`)).json()) as Record<
			string,
			unknown
		>
		expect(Object.keys(full)).toEqual(
			expect.arrayContaining(['name', 'components', 'quality_score', 'rejected_reason']),
		)
	})

	test('messages by recipient and time on the Meta path: only that recipient’s, only after `since`', async () => {
		const pause = () => new Promise((resolve) => setTimeout(resolve, 15))
		const ana = '+5491122334455'
		const beto = '+5491122334466'
		const before = await sendPromo(ana)
		await pause()
		const since = new Date()
		await pause()
		const after = await sendPromo(ana)
		const other = await sendPromo(beto)
		if (!before.ok || !after.ok || !other.ok) throw new Error('send failed')

		const lookup = async (query: Record<string, string>, phone = PHONE) => {
			const response = await get(`${phone}/messages?${new URLSearchParams(query)}`)
			expect(response.status).toBe(200)
			const body = (await response.json()) as {
				data: Array<{ id: string; kapso: { phone_number: string; direction: string } }>
			}
			return body.data
		}

		const anaSince = await lookup({ phone_number: ana, since: since.toISOString() })
		expect(anaSince.map((m) => m.id)).toEqual([after.wamid])
		expect(anaSince[0].kapso).toMatchObject({ phone_number: ana, direction: 'outbound' })
		// Newest first, and the earlier one is there when `since` does not exclude it.
		expect((await lookup({ phone_number: ana })).map((m) => m.id)).toEqual([
			after.wamid,
			before.wamid,
		])
		expect(
			(await lookup({ phone_number: ana, until: since.toISOString() })).map((m) => m.id),
		).toEqual([before.wamid])
		expect(
			(await lookup({ phone_number: beto, since: since.toISOString() })).map((m) => m.id),
		).toEqual([other.wamid])
		expect(await lookup({ phone_number: '+5491199999999', since: since.toISOString() })).toEqual([])
		// The same recipient seen from another sender has no history there.
		expect(await lookup({ phone_number: ana }, '100000000000002')).toEqual([])
	})
})

describe('control endpoints', () => {
	test('ledger and stats count duplicates by callback data and by phone + template', async () => {
		await sendPromo('+5491122334455', 'r:1:a:1')
		await sendPromo('+5491122334455', 'r:1:a:1')
		await sendPromo('+5491122334466', 'r:2:a:1')
		const ledger = (await (await fetch(`${sandbox.url}/_sandbox/ledger`)).json()) as {
			total: number
		}
		expect(ledger.total).toBe(3)
		const stats = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as {
			accepted: number
			duplicates: Record<string, number>
			duplicateCallbackData: Array<{ key: string; count: number }>
		}
		expect(stats.accepted).toBe(3)
		expect(stats.duplicates).toMatchObject({
			callbackDataKeys: 1,
			callbackDataExtraSends: 1,
			phoneTemplateKeys: 1,
			phoneTemplateExtraSends: 1,
		})
		expect(stats.duplicateCallbackData).toEqual([{ key: 'r:1:a:1', count: 2 }])
	})

	test('settings change at runtime over HTTP; reset clears the ledger', async () => {
		const response = await fetch(`${sandbox.url}/_sandbox/settings`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ faults: { http503Share: 1 } }),
		})
		expect(response.status).toBe(200)
		expect(await sendPromo('+5491122334455')).toMatchObject({
			ok: false,
			class: 'retryable',
			code: 503,
		})
		const invalid = await fetch(`${sandbox.url}/_sandbox/settings`, {
			method: 'POST',
			body: JSON.stringify({ faults: { http503Share: 2 } }),
		})
		expect(invalid.status).toBe(400)
		sandbox.updateSettings({ faults: { http503Share: 0 } })
		await sendPromo('+5491122334455')
		expect(sandbox.ledger()).toHaveLength(1)
		await fetch(`${sandbox.url}/_sandbox/reset`, { method: 'POST' })
		expect(sandbox.ledger()).toHaveLength(0)
	})

	test('retention forgets old messages and conversations but keeps every count', async () => {
		sandbox.updateSettings({ retentionMs: 300 })
		await sendPromo('+5491122330001', 'r:1:a:1')
		await sendPromo('+5491122330001', 'r:1:a:1')
		await sendPromo('+5491122330002', 'r:2:a:1')
		await settle()
		await new Promise((resolve) => setTimeout(resolve, 1100))
		const kept = await sendPromo('+5491122330003', 'r:3:a:1')
		if (!kept.ok) throw new Error('send failed')
		expect(sandbox.ledger().map((entry) => entry.callbackData)).toEqual(['r:3:a:1'])
		const stats = sandbox.stats()
		expect(stats.accepted).toBe(4)
		expect(stats.phoneNumbers[PHONE].accepted).toBe(4)
		expect(stats.duplicates.callbackDataExtraSends).toBe(1)
		expect(stats.retained).toEqual({ ledger: 1, messages: 1, conversations: 1 })
		expect(stats.pruned).toEqual({ messages: 3, conversations: 2 })
		const history = (await (
			await fetch(
				`${sandbox.url}/platform/v1/whatsapp/messages?phone_number_id=${PHONE}&phone_number=5491122330001`,
				{ headers: { 'X-API-Key': 'sandbox' } },
			)
		).json()) as { data: unknown[] }
		expect(history.data).toEqual([])
		await settle()
		// Statuses of the kept message still arrive; nothing was lost for it.
		expect(eventsFor(kept.wamid).map((r) => r.event)).toContain('whatsapp.message.read')
	})

	test('templates can be paused over HTTP', async () => {
		const response = await fetch(`${sandbox.url}/_sandbox/templates/status`, {
			method: 'POST',
			body: JSON.stringify({ name: 'promo', language: 'es', status: 'PAUSED' }),
		})
		expect(response.status).toBe(200)
		expect(await sendPromo('+5491122334455')).toMatchObject({ ok: false, code: 132015 })
	})

	test('the proxy accepts any Graph version and requires X-API-Key', async () => {
		for (const version of ['v23.0', 'v24.0']) {
			const ok = await fetch(
				`${sandbox.url}/meta/whatsapp/${version}/200000000000001/message_templates`,
				{
					headers: { 'X-API-Key': 'sandbox' },
				},
			)
			expect(ok.status).toBe(200)
		}
		const missing = await fetch(
			`${sandbox.url}/meta/whatsapp/v24.0/200000000000001/message_templates`,
		)
		expect(missing.status).toBe(401)
		const platform = await fetch(`${sandbox.url}/platform/v1/whatsapp/phone_numbers`, {
			headers: { 'X-API-Key': 'sandbox' },
		})
		expect(await platform.json()).toMatchObject({
			data: [{ id: PHONE, business_account_id: '200000000000001' }],
		})
	})
})

describe('template status and marketing preferences', () => {
	test('review outcomes and pauses are forwarded in Meta format, signed with the app secret', async () => {
		sandbox.updateSettings({ review: { delayMs: 10 } })
		const created = await gateway.createTemplate({
			wabaId: '200000000000001',
			name: 'flash_sale',
			language: 'es',
			category: 'MARKETING',
			components: [
				{ type: 'BODY', text: '{{1}} tenemos ofertas hoy.', example: { body_text: [['Ana']] } },
			],
		})
		if (!created.ok) throw new Error('create failed')
		sandbox.setTemplateStatus({ name: 'promo', language: 'es', status: 'PAUSED' })
		await settle()
		const forwarded = received.filter((r) => r.path === '/webhooks/meta')
		expect(forwarded.every((r) => r.metaSignatureOk)).toBe(true)
		const values = forwarded.map((r) => r.body.entry?.[0].changes[0].value)
		expect(values).toEqual(
			expect.arrayContaining([
				expect.objectContaining({
					event: 'REJECTED',
					message_template_id: Number(created.id),
					message_template_name: 'flash_sale',
					reason: 'INVALID_FORMAT',
				}),
				expect.objectContaining({
					event: 'PAUSED',
					message_template_name: 'promo',
					other_info: expect.objectContaining({ title: 'FIRST_PAUSE' }),
				}),
			]),
		)
	})

	test('a contact who stops marketing gets a Kapso event, and marketing sends answer 422 (final)', async () => {
		sandbox.setMarketingPreference({ from: '+5491122334455', status: 'stopped' })
		const refused = await sendPromo('+5491122334455')
		expect(refused).toMatchObject({ ok: false, class: 'recipient_final', httpStatus: 422 })
		expect((await sendPromo('+5491122334466')).ok).toBe(true)
		sandbox.setMarketingPreference({ from: '+5491122334455', status: 'resumed' })
		expect((await sendPromo('+5491122334455')).ok).toBe(true)
		await settle()
		const events = received.filter(
			(r) => r.event === 'whatsapp.contact.marketing_preference_changed',
		)
		expect(events.map((e) => e.body.marketing_preference)).toEqual([
			expect.objectContaining({ status: 'stopped', previous_status: null, sequence: 1 }),
			expect.objectContaining({ status: 'resumed', previous_status: 'stopped', sequence: 2 }),
		])
		expect(events.every((e) => e.signatureOk && e.body.contact?.wa_id === '5491122334455')).toBe(
			true,
		)
	})
})

describe('template edits (Meta’s POST /{template_id})', () => {
	const WABA = '200000000000001'
	const newBody = {
		type: 'BODY',
		text: 'Hola {{1}}, hoy 30% de descuento en todo.',
		example: { body_text: [['Ana']] },
	}

	async function promoId() {
		const list = await gateway.listTemplates({ wabaId: WABA, name: 'promo' })
		if (!list.ok || !list.items[0]) throw new Error('promo not found')
		return list.items[0].id
	}

	function edit(
		id: string,
		body: Record<string, unknown>,
		via: SandboxServer = sandbox,
		version = 'v24.0',
	) {
		return fetch(`${via.url}/meta/whatsapp/${version}/${id}`, {
			method: 'POST',
			headers: { 'X-API-Key': 'sandbox', 'Content-Type': 'application/json' },
			body: JSON.stringify(body),
		})
	}

	async function errorOf(response: Response) {
		const body = (await response.json()) as {
			error: { code: number; error_data: { details: string } }
		}
		return {
			status: response.status,
			code: body.error.code,
			details: body.error.error_data.details,
		}
	}

	test('an approved template gets the new components, goes back to PENDING and through review', async () => {
		// Long enough for the checks made while it is PENDING.
		sandbox.updateSettings({ review: { delayMs: 1000, mode: 'auto' } })
		const id = await promoId()
		const response = await edit(id, { components: [newBody] })
		expect(response.status).toBe(200)
		expect(await response.json()).toEqual({ success: true })
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: id })).toMatchObject({
			ok: true,
			template: { status: 'PENDING', components: [newBody] },
		})
		// Pending review it cannot be sent, nor edited again.
		expect(await sendPromo('+5491122334455')).toMatchObject({ ok: false })
		expect(await errorOf(await edit(id, { components: [newBody] }))).toMatchObject({
			status: 400,
			code: 100,
			details: expect.stringMatching(/PENDING cannot be edited/),
		})
		await settle()
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: id })).toMatchObject({
			ok: true,
			template: { status: 'APPROVED', components: [newBody], rejectedReason: 'NONE' },
		})
		const forwarded = received.filter((r) => r.path === '/webhooks/meta' && r.metaSignatureOk)
		expect(forwarded.map((r) => r.body.entry?.[0].changes[0].value)).toEqual([
			expect.objectContaining({ event: 'APPROVED', message_template_id: Number(id) }),
		])
		expect(sandbox.stats().templatesEdited).toBe(1)
	})

	test('the id-only route does not shadow sends, creates or number lookups', async () => {
		const id = await promoId()
		expect((await sendPromo('+5491122334455')).ok).toBe(true)
		const created = await gateway.createTemplate({
			wabaId: WABA,
			name: 'after_edit_route',
			language: 'es',
			category: 'MARKETING',
			components: [newBody],
		})
		expect(created).toMatchObject({ ok: true, status: 'PENDING' })
		const number = await fetch(`${sandbox.url}/meta/whatsapp/v24.0/${PHONE}`, {
			headers: { 'X-API-Key': 'sandbox' },
		})
		expect(await number.json()).toMatchObject({ id: PHONE, business_account_id: WABA })
		// A phone number id or a WABA id is not a template: Meta's "object does not exist".
		for (const other of [PHONE, WABA, '799999999999999']) {
			expect(await errorOf(await edit(other, { components: [newBody] }))).toMatchObject({
				status: 400,
				code: 100,
				details: expect.stringMatching(/does not exist/),
			})
		}
		expect(await errorOf(await edit(id, {}))).toMatchObject({ status: 400, code: 100 })
		expect(await sandbox.stats().templatesEdited).toBe(0)
	})

	test('edits are checked like creates: malformed ones refused, bad formats rejected in review', async () => {
		sandbox.updateSettings({ review: { delayMs: 0, mode: 'auto' } })
		const id = await promoId()
		const footerOnly = await edit(id, { components: [{ type: 'FOOTER', text: 'Sin cuerpo' }] })
		expect(await errorOf(footerOnly)).toMatchObject({
			status: 400,
			code: 100,
			details: 'exactly one BODY component is required',
		})
		expect(
			await errorOf(await edit(id, { components: [newBody], category: 'SPAM' })),
		).toMatchObject({ status: 400, code: 100 })
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: id })).toMatchObject({
			template: { status: 'APPROVED', components: promo.components },
		})

		const startsWithVariable = {
			type: 'BODY',
			text: '{{1}} tenemos ofertas hoy.',
			example: { body_text: [['Ana']] },
		}
		expect((await edit(id, { components: [startsWithVariable] })).status).toBe(200)
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: id })).toMatchObject({
			template: { status: 'REJECTED', rejectedReason: 'INVALID_FORMAT' },
		})
		// A rejected template may be fixed at once: the daily limit is only for approved ones.
		expect((await edit(id, { components: [newBody], category: 'UTILITY' })).status).toBe(200)
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: id })).toMatchObject({
			template: { status: 'APPROVED', category: 'UTILITY', rejectedReason: 'NONE' },
		})
	})

	test('a paused template can be edited; disabled or pending ones cannot', async () => {
		sandbox.updateSettings({ review: { delayMs: 0, mode: 'auto' } })
		const id = await promoId()
		sandbox.setTemplateStatus({ id, status: 'DISABLED' })
		expect(await errorOf(await edit(id, { components: [newBody] }))).toMatchObject({
			status: 400,
			code: 100,
			details: expect.stringMatching(/DISABLED cannot be edited/),
		})
		sandbox.setTemplateStatus({ id, status: 'PAUSED' })
		expect((await edit(id, { components: [newBody] })).status).toBe(200)
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: id })).toMatchObject({
			template: { status: 'APPROVED' },
		})
	})

	test('an approved template: once per 24 hours and 10 times in 30 days', async () => {
		// Its own sandbox with nothing scheduled, so moving the clock cannot strand a timer.
		const own = await createSandboxServer({
			webhookUrl: null,
			review: { delayMs: 0 },
			templates: [{ ...promo, status: 'APPROVED' }],
		})
		const ownGateway = createKapsoGateway({ baseUrl: own.url, apiKey: 'sandbox', timeoutMs: 2000 })
		const list = await ownGateway.listTemplates({ wabaId: WABA, name: 'promo' })
		const id = list.ok ? list.items[0].id : ''
		const hour = 3600_000
		const start = Date.now()
		vi.useFakeTimers({ toFake: ['Date'] })
		try {
			vi.setSystemTime(start)
			expect((await edit(id, { components: [newBody] }, own)).status).toBe(200)
			vi.setSystemTime(start + 23 * hour)
			expect(await errorOf(await edit(id, { components: [newBody] }, own))).toMatchObject({
				status: 400,
				code: 100,
				details: expect.stringMatching(/once in 24 hours/),
			})
			for (let day = 1; day < 10; day++) {
				vi.setSystemTime(start + day * 25 * hour)
				expect((await edit(id, { components: [newBody] }, own)).status).toBe(200)
			}
			vi.setSystemTime(start + 10 * 25 * hour)
			expect(await errorOf(await edit(id, { components: [newBody] }, own))).toMatchObject({
				status: 400,
				code: 100,
				details: expect.stringMatching(/10 times in 30 days/),
			})
			// The first edit leaves the 30-day window: one more is allowed.
			vi.setSystemTime(start + 30 * 24 * hour + hour)
			expect((await edit(id, { components: [newBody] }, own, 'v23.0')).status).toBe(200)
			expect(own.stats().templatesEdited).toBe(11)
		} finally {
			vi.useRealTimers()
			await own.close()
		}
	})
})

describe('extras routed by the sandbox itself (no front server needed)', () => {
	test('health, number fields, calls, users, assignments, deletes and inbound media', async () => {
		const control = (path: string, body: unknown) =>
			fetch(`${sandbox.url}/_sandbox/${path}`, { method: 'POST', body: JSON.stringify(body) })
		expect(
			(await control('extras/users', { id: 'usr_1', email: 'ana@pregon.test', name: 'Ana' }))
				.status,
		).toBe(200)
		const platform = createKapsoPlatform({
			baseUrl: sandbox.url,
			apiKey: 'sandbox',
			timeoutMs: 2000,
		})
		expect(await platform.getPhoneNumberHealth({ phoneNumberId: PHONE })).toMatchObject({
			ok: true,
			health: { connected: true },
		})
		expect(await platform.getPhoneNumberFields({ phoneNumberId: PHONE })).toMatchObject({
			ok: true,
			fields: { qualityRating: 'GREEN', status: 'CONNECTED' },
		})
		expect(await platform.listCalls({ phoneNumberId: PHONE })).toMatchObject({ ok: true })
		expect(await platform.findProjectUser({ email: 'ANA@pregon.test' })).toMatchObject({
			ok: true,
			user: { id: 'usr_1' },
		})

		const reply = sandbox.simulateReply({ from: '+5491122334455', text: 'Hola' })
		const conversationId = reply.conversation.id
		expect(
			await platform.syncConversationAssignment({ conversationId, userId: 'usr_1' }),
		).toMatchObject({
			ok: true,
			changed: true,
			assignment: { userId: 'usr_1', active: true },
		})
		expect(
			await platform.syncConversationAssignment({ conversationId, userId: null }),
		).toMatchObject({
			ok: true,
			changed: true,
		})

		const sent = await sendPromo('+5491122334455')
		if (!sent.ok) throw new Error('send failed')
		expect(await platform.deleteMessage({ phoneNumberId: PHONE, wamid: sent.wamid })).toEqual({
			ok: true,
			deleted: true,
		})
		expect(
			await platform.deleteMessage({ phoneNumberId: PHONE, wamid: 'wamid.nope' }),
		).toMatchObject({
			ok: false,
		})

		// An inbound image goes through the main sandbox: stored in the conversation and sent as a webhook.
		const image = await control('simulate/message', {
			type: 'image',
			from: '+5491122334455',
			text: 'Foto',
		})
		expect(image.status).toBe(200)
		const { wamid } = (await image.json()) as { wamid: string }
		await settle()
		const delivered = received.find((r) => r.body.message?.id === wamid)
		expect(delivered?.event).toBe('whatsapp.message.received')
		expect(delivered?.body.message).toMatchObject({
			type: 'image',
			from: '5491122334455',
			kapso: { has_media: true },
		})
		const thread = await gateway.listConversationMessages({ phoneNumberId: PHONE, conversationId })
		expect(thread.ok && thread.items.some((m) => m.wamid === wamid && m.type === 'image')).toBe(
			true,
		)
	})
})
