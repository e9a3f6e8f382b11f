import { z } from 'zod'
import { parseCallbackData } from '#app/lib/sending/outcome'

/**
 * Stored webhook events (either format) turned into the few facts processing acts on. Pure:
 * no database, so the format rules are tested on their own.
 */

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed'

export type StatusFact = {
	kind: 'status'
	wamid: string
	status: DeliveryStatus
	at: Date
	/** The ledger row named by `biz_opaque_callback_data`, when the status carries it. */
	recipientId: number | null
	errorCode: number | null
	errorTitle: string | null
	pricingCategory: string | null
	waId: string | null
}

export type InboundFact = {
	kind: 'inbound'
	phoneNumberId: string | null
	from: string | null
	profileName: string | null
	kapsoConversationId: string | null
	wamid: string
	type: string
	/** The Meta-shaped message object. */
	message: Record<string, unknown>
	at: Date
}

export type PreferenceFact = {
	kind: 'preference'
	waId: string
	value: 'stop' | 'resume'
	category: string | null
	at: Date
}

export type TemplateStatusFact = {
	kind: 'template_status'
	value: Record<string, unknown>
	wabaId: string | null
}

/**
 * A message the business number sent, as Kapso reports it. Processing stores it for the inbox
 * only when Pregón did not send it (the Business app, Kapso's own inbox, another API client).
 */
export type OutboundFact = {
	kind: 'outbound'
	phoneNumberId: string | null
	/** The contact's number, when the event names it. */
	to: string | null
	kapsoConversationId: string | null
	/** Kapso's `origin`: cloud_api, business_app or history_sync. */
	origin: string | null
	wamid: string
	type: string
	message: Record<string, unknown>
	at: Date
}

/** Kapso's `whatsapp.conversation.created|ended`. */
export type ConversationFact = {
	kind: 'conversation'
	status: 'active' | 'ended'
	kapsoConversationId: string
	phoneNumberId: string | null
	phone: string | null
	at: Date
}

export type Fact =
	StatusFact | InboundFact | PreferenceFact | TemplateStatusFact | OutboundFact | ConversationFact

const DELIVERY = new Set<string>(['sent', 'delivered', 'read', 'failed'])

const metaStatusSchema = z.looseObject({
	id: z.string(),
	status: z.string(),
	timestamp: z.union([z.string(), z.number()]).optional(),
	recipient_id: z.string().nullish(),
	biz_opaque_callback_data: z.string().nullish(),
	pricing: z.looseObject({ category: z.string().nullish() }).nullish(),
	errors: z
		.array(
			z.looseObject({
				code: z.coerce.number().nullish(),
				title: z.string().nullish(),
				message: z.string().nullish(),
			}),
		)
		.nullish(),
})
type MetaStatus = z.infer<typeof metaStatusSchema>

/** Unix seconds (string or number) or ISO text; `fallback` when absent or unreadable. */
export function timeOf(value: unknown, fallback: Date): Date {
	if (typeof value === 'number' && Number.isFinite(value)) return new Date(value * 1000)
	if (typeof value === 'string' && value.trim() !== '') {
		if (/^\d+(\.\d+)?$/.test(value.trim())) return new Date(Number(value) * 1000)
		const parsed = new Date(value)
		if (!Number.isNaN(parsed.getTime())) return parsed
	}
	return fallback
}

function statusFact(status: MetaStatus, receivedAt: Date): StatusFact | null {
	if (!DELIVERY.has(status.status)) return null
	const error = status.errors?.[0]
	return {
		kind: 'status',
		wamid: status.id,
		status: status.status as DeliveryStatus,
		at: timeOf(status.timestamp, receivedAt),
		recipientId: parseCallbackData(status.biz_opaque_callback_data)?.recipientId ?? null,
		errorCode: status.status === 'failed' ? (error?.code ?? null) : null,
		errorTitle: status.status === 'failed' ? (error?.title ?? error?.message ?? null) : null,
		pricingCategory: status.pricing?.category ?? null,
		waId: status.recipient_id ?? null,
	}
}

type Json = Record<string, unknown>

function record(value: unknown): Json | null {
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null
}

function text(value: unknown): string | null {
	return typeof value === 'string' && value !== '' ? value : null
}

/** Facts in a stored Kapso v2 event (`event_type` is the `X-Webhook-Event` name). */
export function kapsoFacts(eventType: string, payload: unknown, receivedAt: Date): Fact[] {
	const body = record(payload)
	const conversation = record(body?.conversation)
	if (eventType.startsWith('whatsapp.conversation.'))
		return conversationFacts(eventType, body, conversation, receivedAt)
	const message = record(body?.message)
	if (!body || !message || typeof message.id !== 'string') return []
	const kapso = record(message.kapso)
	if (eventType === 'whatsapp.message.received') {
		return [
			{
				kind: 'inbound',
				phoneNumberId: text(body.phone_number_id) ?? text(conversation?.phone_number_id),
				from: text(message.from) ?? text(kapso?.phone_number) ?? text(conversation?.phone_number),
				profileName: text(kapso?.contact_name) ?? text(record(conversation?.kapso)?.contact_name),
				kapsoConversationId: text(conversation?.id),
				wamid: message.id,
				type: text(message.type) ?? 'unknown',
				message: withoutKapso(message),
				at: timeOf(message.timestamp, receivedAt),
			},
		]
	}
	const name = eventType.startsWith('whatsapp.message.')
		? eventType.slice('whatsapp.message.'.length)
		: ''
	if (!DELIVERY.has(name)) return []
	// Kapso hands over Meta's raw statuses, oldest first: applying all of them is harmless
	// (statuses only move forward) and recovers any that were never delivered on their own.
	const statuses = z.array(metaStatusSchema).safeParse(kapso?.statuses ?? [])
	const facts = (statuses.success ? statuses.data : [])
		.filter((s) => s.id === message.id)
		.map((s) => statusFact(s, receivedAt))
		.filter((f): f is StatusFact => f !== null)
	if (!facts.some((f) => f.status === name)) {
		facts.push({
			kind: 'status',
			wamid: message.id,
			status: name as DeliveryStatus,
			at: receivedAt,
			recipientId: null,
			errorCode: null,
			errorTitle: null,
			pricingCategory: null,
			waId: null,
		})
	}
	if (kapso?.direction !== 'outbound') return facts
	return [
		...facts,
		{
			kind: 'outbound',
			phoneNumberId: text(body.phone_number_id) ?? text(conversation?.phone_number_id),
			to: text(message.to) ?? text(kapso.phone_number) ?? text(conversation?.phone_number),
			kapsoConversationId: text(conversation?.id) ?? text(kapso.whatsapp_conversation_id),
			origin: text(kapso.origin),
			wamid: message.id,
			type: text(message.type) ?? 'unknown',
			message: withoutKapso(message),
			at: timeOf(message.timestamp, receivedAt),
		},
	]
}

/**
 * `created` and `ended` set the conversation's status. `inactive` only says nobody wrote for a
 * while: the conversation stays open, so it yields nothing.
 */
function conversationFacts(
	eventType: string,
	body: Json | null,
	conversation: Json | null,
	receivedAt: Date,
): Fact[] {
	const id = text(conversation?.id)
	const event = eventType.slice('whatsapp.conversation.'.length)
	if (!id || (event !== 'created' && event !== 'ended')) return []
	return [
		{
			kind: 'conversation',
			status: event === 'ended' ? 'ended' : 'active',
			kapsoConversationId: id,
			phoneNumberId: text(body?.phone_number_id) ?? text(conversation?.phone_number_id),
			phone: text(conversation?.phone_number),
			at: timeOf(
				event === 'ended' ? conversation?.updated_at : conversation?.created_at,
				receivedAt,
			),
		},
	]
}

function withoutKapso(message: Json): Json {
	const { kapso: _kapso, ...rest } = message
	return rest
}

const preferenceSchema = z.looseObject({
	wa_id: z.string(),
	value: z.string(),
	category: z.string().nullish(),
	timestamp: z.union([z.string(), z.number()]).optional(),
})

/**
 * Facts in a stored Meta change `{field, wabaId, time, value}` (see ingest: one status or one
 * message per stored event).
 */
export function metaFacts(payload: unknown, receivedAt: Date): Fact[] {
	const change = record(payload)
	const value = record(change?.value)
	if (!change || !value) return []
	const field = change.field
	const wabaId = text(change.wabaId)
	if (field === 'messages') {
		const facts: Fact[] = []
		const statuses = z.array(metaStatusSchema).safeParse(value.statuses ?? [])
		if (statuses.success) {
			for (const status of statuses.data) {
				const fact = statusFact(status, receivedAt)
				if (fact) facts.push(fact)
			}
		}
		const metadata = record(value.metadata)
		const contacts = Array.isArray(value.contacts) ? value.contacts.map(record) : []
		for (const raw of Array.isArray(value.messages) ? value.messages : []) {
			const message = record(raw)
			if (!message || typeof message.id !== 'string') continue
			const from = text(message.from)
			const contact = contacts.find((c) => c?.wa_id === from) ?? contacts[0]
			facts.push({
				kind: 'inbound',
				phoneNumberId: text(metadata?.phone_number_id),
				from,
				profileName: text(record(contact?.profile)?.name),
				kapsoConversationId: null,
				wamid: message.id,
				type: text(message.type) ?? 'unknown',
				message,
				at: timeOf(message.timestamp, receivedAt),
			})
		}
		return facts
	}
	if (field === 'user_preferences') {
		const list = z.array(preferenceSchema).safeParse(value.user_preferences ?? [])
		if (!list.success) return []
		return list.data
			.filter((p) => p.value === 'stop' || p.value === 'resume')
			.map((p) => ({
				kind: 'preference' as const,
				waId: p.wa_id,
				value: p.value as 'stop' | 'resume',
				category: p.category ?? null,
				at: timeOf(p.timestamp, receivedAt),
			}))
	}
	if (field === 'message_template_status_update')
		return [{ kind: 'template_status', value, wabaId }]
	return []
}

/** Facts in one stored webhook_events row. */
export function factsOf(row: {
	source: string
	eventType: string
	payload: unknown
	receivedAt: Date
}): Fact[] {
	return row.source === 'meta'
		? metaFacts(row.payload, row.receivedAt)
		: kapsoFacts(row.eventType, row.payload, row.receivedAt)
}

/** Upper case, accents and surrounding punctuation gone, inner spaces collapsed. */
export function normaliseKeyword(value: string) {
	return value
		.normalize('NFD')
		.replace(/\p{M}/gu, '')
		.toUpperCase()
		.replace(/[^\p{L}\p{N}]+/gu, ' ')
		.trim()
}

export const DEFAULT_OPT_OUT_KEYWORDS = [
	'STOP',
	'BAJA',
	'UNSUBSCRIBE',
	'CANCELAR',
	'PARAR',
	'DETENER',
	'DAR DE BAJA',
	'STOP PROMOTIONS',
	'DETENER PROMOCIONES',
	'NO MAS',
	'OPT OUT',
]

/** Button payloads that mean "stop" whatever their visible text (Meta's marketing opt-out button, ours). */
const OPT_OUT_PAYLOADS = new Set([
	'OPT OUT',
	'OPTOUT',
	'UNSUBSCRIBE',
	'STOP',
	'STOP PROMOTIONS',
	'BAJA',
])

/**
 * Whether an inbound message asks to stop: a text that is exactly an opt-out keyword, or a
 * tapped quick-reply (or interactive) button whose payload or text is one.
 */
export function optOutSourceOf(
	fact: InboundFact,
	keywords: Set<string>,
): 'keyword' | 'button' | null {
	const m = fact.message
	if (fact.type === 'text') {
		const body = text(record(m.text)?.body)
		return body && keywords.has(normaliseKeyword(body)) ? 'keyword' : null
	}
	const button = record(m.button)
	const reply = record(record(m.interactive)?.button_reply)
	const candidates = [
		text(button?.payload),
		text(button?.text),
		text(reply?.id),
		text(reply?.title),
	]
	for (const candidate of candidates) {
		if (!candidate) continue
		const normalised = normaliseKeyword(candidate)
		if (keywords.has(normalised) || OPT_OUT_PAYLOADS.has(normalised)) return 'button'
	}
	return null
}
