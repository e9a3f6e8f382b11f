import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createSandboxServer, type SandboxServer } from '#app/sandbox/server'
import {
	createKapsoGateway,
	getKapsoGateway,
	setKapsoGateway,
	type KapsoGateway,
} from './gateway.server'

const PHONE = '100000000000001'
const WABA = '200000000000001'
const TO = '+5491122334455'

let sandbox: SandboxServer
let gateway: KapsoGateway

const orderUpdate = {
	name: 'order_update',
	language: 'es',
	category: 'UTILITY' as const,
	components: [
		{
			type: 'BODY',
			text: 'Hola {{1}}, tu pedido {{2}} está en camino.',
			example: { body_text: [['Ana', 'A-1']] },
		},
		{ type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'No más promos' }] },
	],
}

function sendOrderUpdate(
	overrides: {
		to?: string
		params?: string[]
		callback?: string
		phone?: string
		via?: KapsoGateway
		signal?: AbortSignal
	} = {},
) {
	return (overrides.via ?? gateway).sendTemplate({
		signal: overrides.signal,
		phoneNumberId: overrides.phone ?? PHONE,
		to: overrides.to ?? TO,
		bizOpaqueCallbackData: overrides.callback,
		template: {
			name: 'order_update',
			language: 'es',
			components: [
				{
					type: 'body',
					parameters: (overrides.params ?? ['Ana', 'A-1']).map((text) => ({ type: 'text', text })),
				},
			],
		},
	})
}

beforeAll(async () => {
	sandbox = await createSandboxServer({
		webhookUrl: null,
		seed: 7,
		review: { delayMs: 0 },
		templates: [{ ...orderUpdate, status: 'APPROVED' }],
	})
	gateway = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 2000 })
})

afterAll(async () => {
	await sandbox.close()
})

beforeEach(() => {
	sandbox.updateSettings({
		review: { delayMs: 0, mode: 'auto' },
		faults: {
			http429Share: 0,
			http409Share: 0,
			http500Share: 0,
			http503Share: 0,
			resetShare: 0,
			timeoutShare: 0,
			slowShare: 0,
			lostResponseShare: 0,
			acceptedTimeoutShare: 0,
		},
		phoneNumbers: {},
	})
	sandbox.reset()
})

describe('sending', () => {
	test('an approved template is accepted like Meta answers, and lands in the ledger', async () => {
		const result = await sendOrderUpdate({ callback: 'r:1:a:1' })
		expect(result).toMatchObject({ ok: true, waId: '5491122334455', messageStatus: 'accepted' })
		if (!result.ok) throw new Error('send failed')
		expect(result.wamid).toMatch(/^wamid\./)
		expect(sandbox.ledger()).toEqual([
			expect.objectContaining({
				wamid: result.wamid,
				to: TO,
				template: 'order_update',
				language: 'es',
				callbackData: 'r:1:a:1',
			}),
		])
	})

	test('an unknown template halts the broadcast with 132001', async () => {
		const result = await gateway.sendTemplate({
			phoneNumberId: PHONE,
			to: TO,
			template: { name: 'does_not_exist', language: 'es' },
		})
		expect(result).toMatchObject({
			ok: false,
			class: 'halts_broadcast',
			code: 132001,
			httpStatus: 404,
		})
		expect(sandbox.ledger()).toHaveLength(0)
	})

	test('a wrong language is the same as an unknown template', async () => {
		const result = await gateway.sendTemplate({
			phoneNumberId: PHONE,
			to: TO,
			template: { name: 'order_update', language: 'en_US' },
		})
		expect(result).toMatchObject({ ok: false, code: 132001 })
	})

	test('a parameter count mismatch halts with 132000', async () => {
		const result = await sendOrderUpdate({ params: ['Ana'] })
		expect(result).toMatchObject({ ok: false, class: 'halts_broadcast', code: 132000 })
	})

	test('paused and disabled templates halt with 132015 and 132016', async () => {
		sandbox.setTemplateStatus({ name: 'order_update', language: 'es', status: 'PAUSED' })
		expect(await sendOrderUpdate()).toMatchObject({
			ok: false,
			class: 'halts_broadcast',
			code: 132015,
		})
		sandbox.setTemplateStatus({ name: 'order_update', language: 'es', status: 'DISABLED' })
		expect(await sendOrderUpdate()).toMatchObject({
			ok: false,
			class: 'halts_broadcast',
			code: 132016,
		})
	})

	test('over the number’s throughput the sandbox answers 130429, which is retryable', async () => {
		sandbox.updateSettings({ phoneNumbers: { '100000000000009': { ratePerSecond: 5 } } })
		const results = await Promise.all(
			Array.from({ length: 12 }, (_, i) =>
				sendOrderUpdate({ phone: '100000000000009', to: `+54911000000${10 + i}` }),
			),
		)
		const accepted = results.filter((r) => r.ok)
		const throttled = results.filter((r) => !r.ok)
		expect(accepted).toHaveLength(5)
		expect(throttled).toHaveLength(7)
		for (const result of throttled)
			expect(result).toMatchObject({ class: 'retryable', code: 130429 })
		expect(sandbox.stats().phoneNumbers['100000000000009']).toMatchObject({
			ratePerSecond: 5,
			maxInAnyOneSecond: 5,
		})
	})

	test('a request refused before sending is never ambiguous', async () => {
		expect(await sendOrderUpdate({ to: ' ' })).toMatchObject({
			ok: false,
			class: 'recipient_final',
		})
		const tooLong = await sendOrderUpdate({ callback: 'x'.repeat(513) })
		expect(tooLong).toMatchObject({ ok: false, class: 'halts_broadcast', code: null })
		expect(sandbox.ledger()).toHaveLength(0)
	})

	test('unknown phone number ids are created on first use in the default WABA', async () => {
		const result = await sendOrderUpdate({ phone: '123456789012345' })
		expect(result.ok).toBe(true)
		expect(sandbox.stats().phoneNumbers['123456789012345']).toMatchObject({ wabaId: WABA })
	})

	test('a text reply opens no window by itself: outside 24 h it is accepted, then fails by webhook', async () => {
		const result = await gateway.sendText({ phoneNumberId: PHONE, to: TO, body: 'Hola' })
		expect(result.ok).toBe(true)
		await sandbox.idle()
		expect(sandbox.ledger()[0]).toMatchObject({ type: 'text', status: 'failed', errorCode: 131047 })
	})
})

describe('faults', () => {
	test('429 is retryable and honours Retry-After', async () => {
		sandbox.updateSettings({ faults: { http429Share: 1, retryAfterSeconds: 7 } })
		expect(await sendOrderUpdate()).toMatchObject({
			ok: false,
			class: 'retryable',
			code: 429,
			httpStatus: 429,
			retryAfterMs: 7000,
		})
		expect(sandbox.ledger()).toHaveLength(0)
	})

	test('409 (another message in flight) is retryable', async () => {
		sandbox.updateSettings({ faults: { http409Share: 1 } })
		expect(await sendOrderUpdate()).toMatchObject({ ok: false, class: 'retryable', code: 409 })
	})

	test('500 with Meta 131000 and a bare 503 are retryable', async () => {
		sandbox.updateSettings({ faults: { http500Share: 1 } })
		expect(await sendOrderUpdate()).toMatchObject({ ok: false, class: 'retryable', code: 131000 })
		sandbox.updateSettings({ faults: { http500Share: 0, http503Share: 1 } })
		expect(await sendOrderUpdate()).toMatchObject({ ok: false, class: 'retryable', code: 503 })
		expect(sandbox.ledger()).toHaveLength(0)
	})

	test('a timeout is ambiguous, whether or not the message was accepted', async () => {
		const quick = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 300 })
		sandbox.updateSettings({ faults: { timeoutShare: 1 } })
		const notAccepted = await sendOrderUpdate({ via: quick })
		expect(notAccepted).toMatchObject({ ok: false, class: 'ambiguous', code: null })
		expect(sandbox.ledger()).toHaveLength(0)

		sandbox.updateSettings({ faults: { timeoutShare: 0, acceptedTimeoutShare: 1 } })
		const accepted = await sendOrderUpdate({ via: quick })
		expect(accepted).toMatchObject({ ok: false, class: 'ambiguous' })
		expect(sandbox.ledger()).toHaveLength(1)
	})

	test('a response lost after acceptance is ambiguous, and the lookup finds the message', async () => {
		sandbox.updateSettings({ faults: { lostResponseShare: 1 } })
		const before = new Date(Date.now() - 1000)
		const result = await sendOrderUpdate({ callback: 'r:9:a:1' })
		expect(result).toMatchObject({ ok: false, class: 'ambiguous' })
		const [accepted] = sandbox.ledger()
		expect(accepted).toMatchObject({ callbackData: 'r:9:a:1' })

		const byRecipient = await gateway.lookupMessages({
			phoneNumberId: PHONE,
			recipient: TO,
			since: before,
		})
		expect(byRecipient).toMatchObject({
			ok: true,
			messages: [{ wamid: accepted.wamid, direction: 'outbound', templateName: 'order_update' }],
		})
		const byWamid = await gateway.lookupMessages({ phoneNumberId: PHONE, wamid: accepted.wamid })
		expect(byWamid).toMatchObject({
			ok: true,
			messages: [{ wamid: accepted.wamid, phoneNumber: TO }],
		})
	})

	test('a lookup proves absence: nothing for another recipient or an unknown wamid', async () => {
		await sendOrderUpdate()
		expect(
			await gateway.lookupMessages({ phoneNumberId: PHONE, recipient: '+5491100000000' }),
		).toEqual({ ok: true, messages: [] })
		expect(await gateway.lookupMessages({ phoneNumberId: PHONE, wamid: 'wamid.nope' })).toEqual({
			ok: true,
			messages: [],
		})
	})

	test('a connection reset before acceptance is ambiguous to the client, and nothing was sent', async () => {
		sandbox.updateSettings({ faults: { resetShare: 1 } })
		expect(await sendOrderUpdate()).toMatchObject({ ok: false, class: 'ambiguous' })
		expect(sandbox.ledger()).toHaveLength(0)
	})

	test('a slow answer within the timeout is still a success', async () => {
		sandbox.updateSettings({ faults: { slowShare: 1, slowMs: 150 } })
		expect(await sendOrderUpdate()).toMatchObject({ ok: true })
	})

	test('the caller’s signal cancels: before sending it is retryable, in flight it is ambiguous', async () => {
		const aborted = AbortSignal.abort()
		const early = await sendOrderUpdate({ signal: aborted })
		expect(early).toMatchObject({ ok: false, class: 'retryable' })

		sandbox.updateSettings({ faults: { slowShare: 1, slowMs: 1000 } })
		const controller = new AbortController()
		setTimeout(() => controller.abort(), 100)
		const late = await sendOrderUpdate({ signal: controller.signal })
		expect(late).toMatchObject({ ok: false, class: 'ambiguous', title: 'Request cancelled' })
	})

	test('a refused connection sent nothing and is retryable', async () => {
		const other = await createSandboxServer({ webhookUrl: null })
		const url = other.url
		await other.close()
		const dead = createKapsoGateway({ baseUrl: url, apiKey: 'sandbox', timeoutMs: 1000 })
		expect(
			await dead.sendTemplate({
				phoneNumberId: PHONE,
				to: TO,
				template: { name: 'hello_world', language: 'en_US' },
			}),
		).toMatchObject({ ok: false, class: 'retryable', title: 'Kapso unreachable' })
	})

	test('a wrong API key halts', async () => {
		const wrong = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'wrong', timeoutMs: 1000 })
		expect(await wrong.listTemplates({ wabaId: WABA })).toMatchObject({
			ok: false,
			class: 'halts_broadcast',
			httpStatus: 401,
		})
	})
})

describe('templates', () => {
	const valid = {
		wabaId: WABA,
		name: 'spring_sale',
		language: 'es_MX',
		category: 'MARKETING' as const,
		components: [
			{
				type: 'BODY',
				text: 'Hola {{1}}, la venta de primavera empieza el {{2}}. ¡Te esperamos!',
				example: { body_text: [['Ana', '1 de abril']] },
			},
		],
	}

	test('review: PENDING first, APPROVED after the configured delay, with quality and reason', async () => {
		sandbox.updateSettings({ review: { delayMs: 100 } })
		const created = await gateway.createTemplate(valid)
		expect(created).toMatchObject({ ok: true, status: 'PENDING', category: 'MARKETING' })
		if (!created.ok) throw new Error('create failed')
		await sandbox.idle()
		const fetched = await gateway.getTemplate({ wabaId: WABA, templateId: created.id })
		expect(fetched).toMatchObject({
			ok: true,
			template: {
				id: created.id,
				status: 'APPROVED',
				qualityScore: 'UNKNOWN',
				rejectedReason: 'NONE',
			},
		})
	})

	test('review rejects what Meta rejects, with the reason', async () => {
		sandbox.updateSettings({ review: { delayMs: 50 } })
		const created = await gateway.createTemplate({
			...valid,
			name: 'gap',
			components: [
				{
					type: 'BODY',
					text: 'Hola {{1}}, tu código es {{3}} hoy.',
					example: { body_text: [['a', 'b']] },
				},
			],
		})
		if (!created.ok) throw new Error('create failed')
		await sandbox.idle()
		const list = await gateway.listTemplates({ wabaId: WABA, name: 'gap' })
		expect(list).toMatchObject({
			ok: true,
			items: [{ name: 'gap', status: 'REJECTED', rejectedReason: 'INVALID_FORMAT' }],
		})
	})

	test('a malformed create is refused outright (not retryable)', async () => {
		const result = await gateway.createTemplate({ ...valid, name: 'Bad Name' })
		expect(result).toMatchObject({ ok: false, code: 100, httpStatus: 400 })
	})

	test('listing pages through every template with a cursor', async () => {
		for (let i = 0; i < 5; i++) await gateway.createTemplate({ ...valid, name: `bulk_${i}` })
		const first = await gateway.listTemplates({ wabaId: WABA, limit: 3 })
		if (!first.ok) throw new Error('list failed')
		expect(first.items).toHaveLength(3)
		expect(first.nextCursor).not.toBeNull()
		const names = first.items.map((t) => t.name)
		let after = first.nextCursor
		let pages = 1
		while (after) {
			const next = await gateway.listTemplates({ wabaId: WABA, limit: 3, after })
			if (!next.ok) throw new Error('list failed')
			names.push(...next.items.map((t) => t.name))
			after = next.nextCursor
			pages++
		}
		expect(pages).toBe(2)
		expect(names.sort()).toEqual(['bulk_0', 'bulk_1', 'bulk_2', 'bulk_3', 'bulk_4', 'order_update'])
	})

	test('edit: new components go to review like a create; what Meta refuses comes back classified', async () => {
		const created = await gateway.createTemplate(valid)
		if (!created.ok) throw new Error('create failed')
		const components = [
			{
				type: 'BODY',
				text: 'Hola {{1}}, la venta de verano empieza el {{2}}. ¡Te esperamos!',
				example: { body_text: [['Ana', '1 de enero']] },
			},
			{ type: 'FOOTER', text: 'Responde BAJA para no recibir más' },
		]
		const edited = await gateway.editTemplate({
			wabaId: WABA,
			templateId: created.id,
			components,
			category: 'UTILITY',
		})
		expect(edited).toEqual({ ok: true, success: true })
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: created.id })).toMatchObject({
			ok: true,
			template: { status: 'APPROVED', category: 'UTILITY', components },
		})
		expect(sandbox.stats().templatesEdited).toBe(1)

		// Approved less than 24 hours ago: refused, and not worth retrying.
		const again = await gateway.editTemplate({ wabaId: WABA, templateId: created.id, components })
		expect(again).toMatchObject({ ok: false, code: 100, httpStatus: 400 })
		expect(again.ok || again.class).not.toBe('retryable')
		expect(
			await gateway.editTemplate({ wabaId: WABA, templateId: '799999999999999', components }),
		).toMatchObject({ ok: false, code: 100, httpStatus: 400 })
		expect(sandbox.stats().templatesEdited).toBe(1)

		const aborted = new AbortController()
		aborted.abort()
		expect(
			await gateway.editTemplate({
				wabaId: WABA,
				templateId: created.id,
				components,
				signal: aborted.signal,
			}),
		).toMatchObject({ ok: false, class: 'retryable' })
	})

	test('delete with a template id removes only that language', async () => {
		const es = await gateway.createTemplate(valid)
		const en = await gateway.createTemplate({ ...valid, language: 'en_US' })
		if (!es.ok || !en.ok) throw new Error('create failed')
		expect(
			await gateway.deleteTemplate({ wabaId: WABA, name: valid.name, templateId: es.id }),
		).toEqual({
			ok: true,
			deleted: true,
		})
		const left = await gateway.listTemplates({ wabaId: WABA, name: valid.name })
		expect(left).toMatchObject({ ok: true, items: [{ id: en.id, language: 'en_US' }] })
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: es.id })).toEqual({
			ok: true,
			template: null,
		})
	})
})

describe('inbox', () => {
	test('conversations, their messages, replies inside the window, read marks and status updates', async () => {
		const reply = sandbox.simulateReply({ from: TO, text: 'Hola, ¿tienen envío?' })
		const conversations = await gateway.listConversations({
			phoneNumberId: PHONE,
			status: 'active',
		})
		expect(conversations).toMatchObject({
			ok: true,
			items: [{ id: reply.conversation.id, phoneNumber: TO, status: 'active' }],
		})
		expect(await gateway.markRead({ phoneNumberId: PHONE, wamid: reply.wamid })).toEqual({
			ok: true,
		})
		const answer = await gateway.sendText({
			phoneNumberId: PHONE,
			to: TO,
			body: 'Sí, a todo el país',
			contextWamid: reply.wamid,
		})
		expect(answer.ok).toBe(true)
		const thread = await gateway.listConversationMessages({
			phoneNumberId: PHONE,
			conversationId: reply.conversation.id,
		})
		expect(thread).toMatchObject({
			ok: true,
			items: [
				{ direction: 'outbound', text: 'Sí, a todo el país' },
				{ direction: 'inbound', text: 'Hola, ¿tienen envío?', wamid: reply.wamid },
			],
		})
		expect(
			await gateway.updateConversationStatus({
				conversationId: reply.conversation.id,
				status: 'ended',
			}),
		).toEqual({ ok: true, updated: true })
		expect(
			await gateway.listConversations({ phoneNumberId: PHONE, status: 'active' }),
		).toMatchObject({
			ok: true,
			items: [],
		})
		await sandbox.idle()
		// Inside the 24-hour window the reply is not refused with 131047.
		expect(sandbox.ledger()[0]).toMatchObject({ type: 'text', errorCode: null })
		expect(sandbox.ledger()[0].status).not.toBe('failed')
	})
})

describe('production wiring', () => {
	test('getKapsoGateway() builds the real-Kapso gateway from the environment; only URL and key differ', async () => {
		const saved = { key: process.env.KAPSO_API_KEY, url: process.env.KAPSO_BASE_URL }
		sandbox.updateSettings({ apiKey: 'kapso_live_like_key' })
		process.env.KAPSO_API_KEY = 'kapso_live_like_key'
		process.env.KAPSO_BASE_URL = sandbox.url
		try {
			setKapsoGateway(null)
			const production = getKapsoGateway()
			expect(production.config).toEqual({ baseUrl: sandbox.url, graphVersion: 'v24.0' })
			expect(getKapsoGateway()).toBe(production)
			const result = await sendOrderUpdate({ via: production })
			expect(result).toMatchObject({ ok: true, waId: '5491122334455' })
			expect(await production.listTemplates({ wabaId: WABA, status: 'APPROVED' })).toMatchObject({
				ok: true,
			})
		} finally {
			sandbox.updateSettings({ apiKey: 'sandbox' })
			process.env.KAPSO_API_KEY = saved.key
			process.env.KAPSO_BASE_URL = saved.url
			if (saved.key === undefined) delete process.env.KAPSO_API_KEY
			if (saved.url === undefined) delete process.env.KAPSO_BASE_URL
			setKapsoGateway(null)
		}
	})
})
