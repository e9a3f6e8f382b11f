import net from 'node:net'
import { eq, like } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { db, sql } from '#db/client'
import {
	appSettings,
	broadcastRecipients,
	broadcasts,
	contacts,
	conversations,
	messages,
	senders,
	templates,
	users,
} from '#db/schema/index'
import { createKapsoGateway, type KapsoGateway } from '#app/lib/kapso/gateway.server'
import { createSandboxServer, type SandboxServer } from '#app/sandbox/server'
import { createEventWriter } from '#app/lib/webhooks/ingest.server'
import { processWebhookEvents } from '#app/lib/webhooks/process.server'
import { kapsoStatusPayload } from '#app/lib/webhooks/test-fixtures'
import {
	addContactNote,
	getContactPanel,
	getConversationView,
	listConversations,
	listRepliedBroadcasts,
	storedMessages,
} from './conversations.server'
import { getLastHistoryImports, importInboxHistory } from './import.server'
import {
	endConversation,
	gatewayProblem,
	retryReply,
	listReplyTemplates,
	markConversationRead,
	sendTemplateReply,
	sendTextReply,
} from './replies.server'
import { applyMessageStatus, recordInboundMessage, setConversationStatus } from './store.server'
import { SERVICE_WINDOW_MS } from './window'

const PHONE = '100000000000001'
const WABA = '200000000000001'
const HOUR = 3600_000

let sandbox: SandboxServer
let gateway: KapsoGateway
let senderId: string
const marketer = { id: '', role: 'marketer' as const }
const analyst = { id: '', role: 'analyst' as const }

const promo = {
	name: 'promo_dia',
	language: 'es',
	category: 'MARKETING' as const,
	components: [
		{ type: 'HEADER', format: 'TEXT', text: 'Hola {{1}}', example: { header_text: ['Ana'] } },
		{ type: 'BODY', text: 'Tu código *{{1}}* vence hoy.', example: { body_text: [['A-1']] } },
		{ type: 'FOOTER', text: 'Responde BAJA para salir' },
		{ type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'No más promos' }] },
	],
}

/** A port nothing listens on, so connections are refused (never sent). */
async function closedPort() {
	const server = net.createServer()
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
	const { port } = server.address() as net.AddressInfo
	await new Promise((resolve) => server.close(resolve))
	return port
}

function inbound(
	from: string,
	wamid: string,
	text: string,
	at = new Date(),
	extra: Record<string, unknown> = {},
) {
	return db.transaction((tx) =>
		recordInboundMessage(tx, {
			phoneNumberId: PHONE,
			from,
			profileName: `Name ${from.slice(-2)}`,
			wamid,
			type: 'text',
			payload: {
				from: from.replace('+', ''),
				id: wamid,
				type: 'text',
				text: { body: text },
				...extra,
			},
			occurredAt: at,
		}),
	)
}

beforeAll(async () => {
	sandbox = await createSandboxServer({ webhookUrl: null, seed: 7, templates: [promo] })
	gateway = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 5000 })
	const [sender] = await db
		.insert(senders)
		.values({ phoneNumberId: PHONE, wabaId: WABA, displayNumber: '+1 555 010 0001', name: 'Main' })
		.returning()
	senderId = sender.id
	const people = await db
		.insert(users)
		.values([
			{ email: 'm@inbox.test', name: 'Marta', role: 'marketer', passwordHash: 'x' },
			{ email: 'a@inbox.test', name: 'Ana', role: 'analyst', passwordHash: 'x' },
		])
		.returning()
	marketer.id = people[0].id
	analyst.id = people[1].id
})

afterAll(async () => {
	await sandbox.close()
})

beforeEach(async () => {
	await db.delete(conversations)
	await db.delete(broadcastRecipients)
	await db.delete(broadcasts)
	await db.delete(contacts)
	await db.delete(templates)
	sandbox.reset()
})

describe('storing and threading', () => {
	test('inbound and outbound messages of a number thread into one conversation, with unread counts', async () => {
		const first = await inbound('+5491100000001', 'wamid.in1', 'Hola')
		const second = await inbound('+5491100000001', 'wamid.in2', '¿Precio?')
		expect(second.conversationId).toBe(first.conversationId)
		const [conversation] = await db
			.select()
			.from(conversations)
			.where(eq(conversations.id, first.conversationId))
		expect(conversation.unreadCount).toBe(2)
		expect(conversation.lastInboundAt).not.toBeNull()

		// The same webhook delivered again changes nothing.
		const again = await inbound('+5491100000001', 'wamid.in2', '¿Precio?')
		expect(again.inserted).toBe(false)
		const [after] = await db
			.select()
			.from(conversations)
			.where(eq(conversations.id, first.conversationId))
		expect(after.unreadCount).toBe(2)

		sandbox.simulateReply({ from: '5491100000001', text: 'abre la ventana' })
		const reply = await sendTextReply(
			{ conversationId: first.conversationId, body: 'Cuesta 10 €' },
			marketer,
			gateway,
		)
		expect(reply.ok).toBe(true)
		const stored = await storedMessages(first.conversationId)
		expect(stored.map((m) => [m.direction, m.body, m.status])).toEqual([
			['inbound', 'Hola', 'received'],
			['inbound', '¿Precio?', 'received'],
			['outbound', 'Cuesta 10 €', 'sent'],
		])
		expect(stored[2].wamid).toMatch(/^wamid\./)
		expect(stored[2].sentBy).toBe(marketer.id)

		// Statuses only move forward, and failed never overrides delivered.
		const wamid = stored[2].wamid as string
		await applyMessageStatus(db, { wamid, status: 'read' })
		await applyMessageStatus(db, { wamid, status: 'delivered' })
		await applyMessageStatus(db, { wamid, status: 'failed', errorCode: 131026, errorTitle: 'x' })
		const [final] = await db.select().from(messages).where(eq(messages.wamid, wamid))
		expect(final.status).toBe('read')
		expect(await applyMessageStatus(db, { wamid: 'wamid.nobody', status: 'sent' })).toBe(false)

		await markConversationRead(first.conversationId, marketer, gateway)
		const [read] = await db
			.select()
			.from(conversations)
			.where(eq(conversations.id, first.conversationId))
		expect(read.unreadCount).toBe(0)
		const inboundStatuses = (await storedMessages(first.conversationId))
			.filter((m) => m.direction === 'inbound')
			.map((m) => m.status)
		expect(inboundStatuses).toEqual(['read', 'read'])
	})

	test('marking a conversation read sends Kapso a read receipt for the newest inbound message', async () => {
		const from = '5491155550000'
		const older = sandbox.simulateReply({ from, text: 'Hola' })
		const newer = sandbox.simulateReply({ from, text: '¿Siguen abiertos?' })
		const { conversationId } = await inbound(
			`+${from}`,
			older.wamid,
			'Hola',
			new Date(Date.now() - 60_000),
		)
		await inbound(`+${from}`, newer.wamid, '¿Siguen abiertos?')

		expect(await markConversationRead(conversationId, marketer, gateway)).toEqual({ ok: true })
		const receipt = {
			phoneNumberId: PHONE,
			wamid: newer.wamid,
			known: true,
			receivedAt: expect.any(String),
		}
		expect(sandbox.readReceipts()).toEqual([receipt])

		// Analysts read without telling the contact.
		const later = sandbox.simulateReply({ from, text: '¿Hola?' })
		await inbound(`+${from}`, later.wamid, '¿Hola?')
		expect(await markConversationRead(conversationId, analyst, gateway)).toEqual({ ok: true })
		expect(sandbox.readReceipts()).toEqual([receipt])
	})

	test('a status webhook that beats the send result is applied as soon as the wamid is recorded', async () => {
		const { conversationId } = await inbound('+5491199990000', 'wamid.race', 'hola')
		sandbox.simulateReply({ from: '5491199990000', text: 'hola' })
		const writer = createEventWriter(sql)
		// Kapso answers the send, but its "delivered" webhook is processed before the app stores the wamid.
		const racing = {
			...gateway,
			async sendText(input: Parameters<KapsoGateway['sendText']>[0]) {
				const result = await gateway.sendText(input)
				if (result.ok) {
					const status = {
						id: result.wamid,
						status: 'delivered',
						timestamp: String(Math.floor(Date.now() / 1000)),
						recipient_id: '5491199990000',
					}
					await writer.write([
						{
							source: 'kapso',
							dedupeKey: `race:${result.wamid}`,
							eventType: 'whatsapp.message.delivered',
							payload: JSON.stringify(kapsoStatusPayload(result.wamid, [status])),
						},
					])
					expect((await processWebhookEvents()).pending).toBe(1)
				}
				return result
			},
		}
		expect((await sendTextReply({ conversationId, body: '¿Qué tal?' }, marketer, racing)).ok).toBe(
			true,
		)
		const [reply] = (await storedMessages(conversationId)).filter((m) => m.direction === 'outbound')
		expect(reply.status).toBe('delivered')
	})

	test('the list searches name, phone and message text, filters, masks numbers for analysts and pages by keyset', async () => {
		const base = Date.now() - 10 * HOUR
		for (let i = 0; i < 35; i++) {
			await inbound(
				`+549110000${String(i).padStart(4, '0')}`,
				`wamid.l${i}`,
				i === 3 ? 'quiero la oferta naranja' : `hola ${i}`,
				new Date(base + i * 60_000),
			)
		}
		const page1 = await listConversations(marketer, {})
		expect(page1.items).toHaveLength(30)
		expect(page1.items[0].phone).toBe('+5491100000034')
		expect(page1.items[0].unreadCount).toBe(1)
		expect(page1.items[0].preview).toMatchObject({ direction: 'inbound', text: 'hola 34' })
		const page2 = await listConversations(marketer, { cursor: page1.nextCursor ?? undefined })
		expect(page2.items).toHaveLength(5)
		expect(page2.nextCursor).toBeNull()
		expect(new Set([...page1.items, ...page2.items].map((c) => c.id)).size).toBe(35)

		expect((await listConversations(marketer, { q: 'naranja' })).items.map((c) => c.phone)).toEqual(
			['+5491100000003'],
		)
		expect((await listConversations(marketer, { q: '0000012' })).items.map((c) => c.phone)).toEqual(
			['+5491100000012'],
		)
		expect((await listConversations(marketer, { q: 'Name 07' })).items.map((c) => c.phone)).toEqual(
			['+5491100000007'],
		)
		expect((await listConversations(marketer, { status: 'ended' })).items).toEqual([])

		const masked = await listConversations(analyst, { q: 'naranja' })
		expect(masked.items[0].phone).not.toContain('91100000003')
		expect(masked.items[0].phone).toBe('+54••••••••003')
	})

	test('a reply to a broadcast links to its recipient row and shows under "replied to broadcast"', async () => {
		const [template] = await db
			.insert(templates)
			.values({ ...promo, wabaId: WABA, metaStatus: 'APPROVED', reviewState: 'submitted' })
			.returning()
		const [broadcast] = await db
			.insert(broadcasts)
			.values({ name: 'Black Friday', senderId, templateId: template.id, status: 'completed' })
			.returning()
		const [contact] = await db
			.insert(contacts)
			.values({ phoneE164: '+5491122220000', name: 'Lucía' })
			.returning()
		await db.insert(broadcastRecipients).values({
			broadcastId: broadcast.id,
			contactId: contact.id,
			phoneE164: contact.phoneE164,
			variables: { 'header:1': 'Lucía', 'body:1': 'BF-77' },
			state: 'read',
			wamid: 'wamid.bcast1',
			sentAt: new Date(Date.now() - HOUR),
		})
		const reply = await inbound('+5491122220000', 'wamid.r1', 'me interesa', new Date(), {
			context: { id: 'wamid.bcast1' },
		})
		await inbound('+5491133330000', 'wamid.other', 'otra cosa')

		expect(await listRepliedBroadcasts()).toEqual([{ id: broadcast.id, name: 'Black Friday' }])
		const filtered = await listConversations(marketer, { broadcast: broadcast.id })
		expect(filtered.items.map((c) => c.id)).toEqual([reply.conversationId])

		const view = await getConversationView(reply.conversationId, marketer)
		expect(view?.contact.name).toBe('Lucía')
		const [sent, answer] = view?.messages ?? []
		expect(sent).toMatchObject({
			direction: 'outbound',
			type: 'template',
			status: 'read',
			broadcast: { name: 'Black Friday' },
		})
		expect(sent.content).toMatchObject({
			kind: 'template',
			template: {
				header: { text: 'Hola Lucía' },
				body: 'Tu código *BF-77* vence hoy.',
				footer: 'Responde BAJA para salir',
			},
		})
		expect(answer).toMatchObject({ direction: 'inbound', broadcast: { name: 'Black Friday' } })

		await addContactNote(contact.id, marketer.id, { body: 'Quiere factura' })
		const panel = await getContactPanel(contact.id, analyst)
		expect(panel?.notes.map((n) => [n.body, n.author])).toEqual([['Quiere factura', 'Marta']])
		expect(panel?.broadcasts).toMatchObject([{ name: 'Black Friday', state: 'read' }])
		expect(panel?.contact.phone).not.toBe('+5491122220000')
	})
})

describe('the 24-hour window', () => {
	test('a text reply is refused once 24 hours have passed since the last inbound message', async () => {
		const old = new Date(Date.now() - SERVICE_WINDOW_MS - 60_000)
		const { conversationId } = await inbound('+5491144440000', 'wamid.old', 'hace mucho', old)
		const refused = await sendTextReply({ conversationId, body: 'hola' }, marketer, gateway)
		expect(refused).toMatchObject({ ok: false, reason: 'window_closed' })
		expect(sandbox.ledger()).toHaveLength(0)
		expect((await getConversationView(conversationId, marketer))?.window.open).toBe(false)

		// A template is still possible: it is offered with its variables, and sends.
		await db
			.insert(templates)
			.values({ ...promo, wabaId: WABA, metaStatus: 'APPROVED', reviewState: 'submitted' })
		const [offered] = await listReplyTemplates(conversationId)
		expect(offered.slots.map((s) => s.key)).toEqual(['header:1', 'body:1'])
		const missing = await sendTemplateReply(
			{ conversationId, templateId: offered.id, variables: { 'header:1': 'Ana' } },
			marketer,
			gateway,
		)
		expect(missing).toMatchObject({
			ok: false,
			reason: 'invalid',
			fieldErrors: { 'body:1': 'Fill in this variable' },
		})
		const sent = await sendTemplateReply(
			{ conversationId, templateId: offered.id, variables: { 'header:1': 'Ana', 'body:1': 'Z-9' } },
			marketer,
			gateway,
		)
		expect(sent.ok).toBe(true)
		expect(sandbox.ledger()).toMatchObject([{ type: 'template', template: 'promo_dia' }])
		const view = await getConversationView(conversationId, marketer)
		expect(view?.messages.at(-1)?.content).toMatchObject({
			kind: 'template',
			template: { body: 'Tu código *Z-9* vence hoy.' },
		})

		// Within the window the same reply goes out.
		await inbound('+5491144440000', 'wamid.new', 'sigo aquí')
		sandbox.simulateReply({ from: '5491144440000', text: 'sigo aquí' })
		expect((await sendTextReply({ conversationId, body: 'hola' }, marketer, gateway)).ok).toBe(true)
	})

	test('analysts cannot answer, and a Kapso failure is recorded on the message with a clear reason', async () => {
		const { conversationId } = await inbound('+5491155550000', 'wamid.a1', 'hola')
		expect(await sendTextReply({ conversationId, body: 'x' }, analyst, gateway)).toMatchObject({
			ok: false,
			reason: 'forbidden',
		})
		const badKey = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'wrong', timeoutMs: 5000 })
		const failed = await sendTextReply({ conversationId, body: 'hola' }, marketer, badKey)
		expect(failed).toMatchObject({ ok: false, reason: 'provider' })
		expect(!failed.ok && failed.message).toContain('API key')
		const down = createKapsoGateway({
			baseUrl: `http://127.0.0.1:${await closedPort()}`,
			apiKey: 'sandbox',
			timeoutMs: 2000,
		})
		const unreachable = await sendTextReply({ conversationId, body: 'otra' }, marketer, down)
		expect(!unreachable.ok && unreachable.message).toContain('could not be reached')
		const outbound = (await storedMessages(conversationId)).filter(
			(m) => m.direction === 'outbound',
		)
		expect(outbound.map((m) => m.status)).toEqual(['failed', 'failed'])
		expect(outbound[0].errorTitle).toContain('API key')

		// Sending again reuses the failed row once Kapso answers; a sent message cannot be retried.
		sandbox.simulateReply({ from: '5491155550000', text: 'abre la ventana' })
		expect(
			await retryReply({ conversationId, messageId: outbound[0].id }, marketer, gateway),
		).toMatchObject({ ok: true })
		const [retried] = await db.select().from(messages).where(eq(messages.id, outbound[0].id))
		expect(retried).toMatchObject({ status: 'sent', errorTitle: null })
		expect(retried.wamid).toMatch(/^wamid\./)
		expect(
			await retryReply({ conversationId, messageId: outbound[0].id }, marketer, gateway),
		).toMatchObject({ ok: false, reason: 'invalid' })
		expect(
			(await storedMessages(conversationId)).filter((m) => m.direction === 'outbound'),
		).toHaveLength(2)
		const view = await getConversationView(conversationId, marketer)
		expect(view?.messages.filter((m) => m.retryable).map((m) => m.id)).toEqual([outbound[1].id])
	})
})

describe('gateway problems in words', () => {
	test('each kind of Kapso failure reads differently', () => {
		const base = { ok: false as const, retryAfterMs: null }
		expect(
			gatewayProblem({
				...base,
				class: 'halts_broadcast',
				code: 401,
				title: 'Not authorised',
				httpStatus: 401,
			}),
		).toContain('API key')
		expect(
			gatewayProblem({
				...base,
				class: 'retryable',
				code: null,
				title: 'Kapso unreachable',
				httpStatus: null,
			}),
		).toContain('could not be reached')
		expect(
			gatewayProblem({
				...base,
				class: 'ambiguous',
				code: null,
				title: 'No answer in time',
				httpStatus: null,
			}),
		).toContain('may or may not have been sent')
		expect(
			gatewayProblem({
				...base,
				class: 'retryable',
				code: 503,
				title: 'Provider server error',
				httpStatus: 503,
			}),
		).toContain('HTTP 503')
		expect(
			gatewayProblem({
				...base,
				class: 'retryable',
				code: 429,
				title: 'Rate limited',
				httpStatus: 429,
			}),
		).toContain('slow down')
		expect(
			gatewayProblem({
				...base,
				class: 'recipient_final',
				code: 131026,
				title: 'Message undeliverable',
				httpStatus: 400,
			}),
		).toMatch(/^Message undeliverable \(WhatsApp error 131026\)\. \S/)
	})
})

describe('history import', () => {
	beforeEach(async () => {
		await db.delete(appSettings).where(like(appSettings.key, 'inbox_history_import_%'))
	})

	test('imports conversations and messages from Kapso once, however often it runs, and can end them', async () => {
		sandbox.simulateReply({ from: '5491166660000', text: 'Hola, ¿abren mañana?' })
		sandbox.simulateReply({
			from: '5491177770000',
			button: { text: 'No más promos', payload: 'STOP' },
		})
		await gateway.sendText({ phoneNumberId: PHONE, to: '+5491166660000', body: 'Sí, de 9 a 18' })

		const first = await importInboxHistory({}, gateway)
		expect(first).toMatchObject({ ok: true, conversations: 2, inserted: 3, skipped: 0 })
		const second = await importInboxHistory({}, gateway)
		expect(second).toMatchObject({ ok: true, conversations: 2, inserted: 0, skipped: 3 })
		expect(await db.$count(messages)).toBe(3)
		expect(await db.$count(conversations)).toBe(2)

		const list = await listConversations(marketer, {})
		const ana = list.items.find((c) => c.phone === '+5491166660000')
		expect(ana).toMatchObject({
			unreadCount: 0,
			preview: { direction: 'outbound', text: 'Sí, de 9 a 18' },
		})
		const view = await getConversationView(ana?.id as string, marketer)
		expect(view?.messages.map((m) => m.content.kind)).toEqual(['text', 'text'])
		expect(view?.window.open).toBe(true)
		const button = await getConversationView(
			list.items.find((c) => c.phone === '+5491177770000')?.id as string,
			marketer,
		)
		expect(button?.messages[0].content).toMatchObject({
			kind: 'button',
			text: 'No más promos',
			payload: 'STOP',
		})

		// A webhook for a message the import already stored is a no-op, and vice versa.
		const [stored] = await db
			.select()
			.from(messages)
			.where(eq(messages.body, 'Hola, ¿abren mañana?'))
		expect(
			(await inbound('+5491166660000', stored.wamid as string, 'Hola, ¿abren mañana?')).inserted,
		).toBe(false)

		// Kapso's conversation events move the status both ways.
		const [imported] = await db
			.select()
			.from(conversations)
			.where(eq(conversations.id, ana?.id as string))
		const kapsoId = imported.kapsoConversationId as string
		expect(await setConversationStatus(db, { kapsoConversationId: kapsoId, status: 'ended' })).toBe(
			true,
		)
		expect(
			await setConversationStatus(db, { kapsoConversationId: kapsoId, status: 'active' }),
		).toBe(true)
		expect(
			await setConversationStatus(db, { kapsoConversationId: 'unknown', status: 'ended' }),
		).toBe(false)

		expect(await endConversation(ana?.id as string, marketer, gateway)).toEqual({ ok: true })
		const [ended] = await db
			.select()
			.from(conversations)
			.where(eq(conversations.id, ana?.id as string))
		expect(ended.status).toBe('ended')
		const third = await importInboxHistory({}, gateway)
		expect(third.inserted).toBe(0)
		const [still] = await db
			.select()
			.from(conversations)
			.where(eq(conversations.id, ana?.id as string))
		expect(still.status).toBe('ended')
	})

	test('a broadcast message found in history is linked to its ledger row, rendered with its variables, and shown once', async () => {
		const [template] = await db
			.insert(templates)
			.values({ ...promo, wabaId: WABA, metaStatus: 'APPROVED', reviewState: 'submitted' })
			.returning()
		const [broadcast] = await db
			.insert(broadcasts)
			.values({ name: 'Cyber Monday', senderId, templateId: template.id, status: 'completed' })
			.returning()
		const [contact] = await db
			.insert(contacts)
			.values({ phoneE164: '+5491188880000', name: 'Tomás' })
			.returning()
		const sent = await gateway.sendTemplate({
			phoneNumberId: PHONE,
			to: contact.phoneE164,
			template: {
				name: 'promo_dia',
				language: 'es',
				components: [
					{ type: 'header', parameters: [{ type: 'text', text: 'Tomás' }] },
					{ type: 'body', parameters: [{ type: 'text', text: 'CM-5' }] },
				],
			},
		})
		if (!sent.ok) throw new Error(sent.title)
		const [recipient] = await db
			.insert(broadcastRecipients)
			.values({
				broadcastId: broadcast.id,
				contactId: contact.id,
				phoneE164: contact.phoneE164,
				variables: { 'header:1': 'Tomás', 'body:1': 'CM-5' },
				state: 'delivered',
				wamid: sent.wamid,
				sentAt: new Date(),
			})
			.returning()
		sandbox.simulateReply({
			from: '5491188880000',
			button: { text: 'No más promos', payload: 'STOP' },
		})

		expect(await importInboxHistory({}, gateway)).toMatchObject({ ok: true, inserted: 2 })
		const [stored] = await db.select().from(messages).where(eq(messages.wamid, sent.wamid))
		expect(stored.broadcastRecipientId).toBe(recipient.id)
		const { items } = await listConversations(marketer, { q: 'Tomás' })
		const view = await getConversationView(items[0].id, marketer)
		expect(view?.messages.map((m) => [m.direction, m.content.kind, m.broadcast?.name])).toEqual([
			['outbound', 'template', 'Cyber Monday'],
			['inbound', 'button', 'Cyber Monday'],
		])
		expect(view?.messages[0].content).toMatchObject({
			template: { header: { text: 'Hola Tomás' }, body: 'Tu código *CM-5* vence hoy.' },
		})
	})

	test('an unreachable Kapso stops the import with a reason instead of throwing', async () => {
		const down = createKapsoGateway({
			baseUrl: `http://127.0.0.1:${await closedPort()}`,
			apiKey: 'sandbox',
			timeoutMs: 2000,
		})
		const result = await importInboxHistory({}, down)
		expect(result).toMatchObject({ ok: false, inserted: 0 })
		expect(!result.ok && result.message).toBe(
			'Kapso could not be reached. Check the network and KAPSO_BASE_URL.',
		)
		expect((await getLastHistoryImports()).full).toMatchObject({
			ok: false,
			message: !result.ok && result.message,
		})
	})

	test('how the last import ended is recorded for the inbox: its counts, or why Kapso refused it', async () => {
		expect(await getLastHistoryImports()).toEqual({ full: null, recent: null })
		sandbox.simulateReply({ from: '5491166660000', text: 'Hola' })
		await gateway.sendText({ phoneNumberId: PHONE, to: '+5491166660000', body: 'Buenas' })
		const startedBefore = Date.now()
		expect(await importInboxHistory({}, gateway)).toMatchObject({ ok: true })
		const done = await getLastHistoryImports()
		expect(done).toEqual({
			full: {
				ok: true,
				message: null,
				startedAt: expect.any(String),
				finishedAt: expect.any(String),
				conversations: 1,
				inserted: 2,
				skipped: 0,
			},
			recent: null,
		})
		expect(Date.parse(done.full?.startedAt as string)).toBeGreaterThanOrEqual(startedBefore)

		// The key expired: the scheduled copy says so, and the full import's success is kept apart.
		const expired = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'expired', timeoutMs: 5000 })
		expect(await importInboxHistory({ sinceHours: 2 }, expired)).toMatchObject({ ok: false })
		const refused = await getLastHistoryImports()
		expect(refused.recent).toMatchObject({
			ok: false,
			message:
				'Kapso rejected the API key (it may have expired or been revoked). Check KAPSO_API_KEY.',
			conversations: 0,
			inserted: 0,
		})
		expect(refused.full).toEqual(done.full)
	})
})
