import { and, eq, sql } from 'drizzle-orm'
import type { Executor } from '#db/client'
import { broadcastRecipients, contacts, conversations, messages, senders } from '#db/schema/index'
import { messageContent, previewText } from './content'

/**
 * Writing messages and conversations: the one place that does it, for webhook ingest, history
 * import and the inbox's own replies. Every write is idempotent on the wamid (and on Kapso's
 * conversation id), so a webhook delivered twice or an import run again changes nothing.
 */

type Json = Record<string, unknown>

/** Outbound states in the order they can only move forward; `failed` is terminal but never beats delivered/read. */
const OUTBOUND_RANK: Record<string, number> = {
	sending: 0,
	unknown: 0,
	sent: 1,
	failed: 1,
	delivered: 2,
	read: 3,
}

export function toE164(phone: string) {
	return `+${phone.replace(/\D/g, '')}`
}

/** The contact for a WhatsApp number, created on first contact; a known name is never overwritten. */
export async function upsertContact(
	tx: Executor,
	input: { phone: string; waId?: string | null; name?: string | null },
) {
	const phoneE164 = toE164(input.phone)
	const [row] = await tx
		.insert(contacts)
		.values({ phoneE164, waId: input.waId ?? phoneE164.slice(1), name: input.name ?? null })
		.onConflictDoUpdate({
			target: contacts.phoneE164,
			set: {
				waId: sql`coalesce(${contacts.waId}, excluded.wa_id)`,
				name: sql`coalesce(${contacts.name}, excluded.name)`,
			},
		})
		.returning({ id: contacts.id })
	return row.id
}

export async function senderByPhoneNumberId(tx: Executor, phoneNumberId: string) {
	const [row] = await tx.select().from(senders).where(eq(senders.phoneNumberId, phoneNumberId))
	return row ?? null
}

/**
 * The conversation of (sender, contact), created when missing. Kapso's conversation id and status
 * are adopted when given, unless they describe an older Kapso conversation than the one we hold
 * (`activeAt` earlier than our last message).
 */
export async function upsertConversation(
	tx: Executor,
	input: {
		senderId: string
		contactId: number
		kapsoConversationId?: string | null
		status?: 'active' | 'ended' | null
		activeAt?: Date | null
	},
) {
	const kapsoId = input.kapsoConversationId ?? null
	const newer = input.activeAt
		? sql`(${conversations.lastMessageAt} is null or ${conversations.lastMessageAt} <= ${input.activeAt.toISOString()}::timestamptz)`
		: sql`true`
	const [row] = await tx
		.insert(conversations)
		.values({
			senderId: input.senderId,
			contactId: input.contactId,
			kapsoConversationId: kapsoId,
			status: input.status ?? 'active',
		})
		.onConflictDoUpdate({
			target: [conversations.senderId, conversations.contactId],
			set: {
				kapsoConversationId: kapsoId
					? sql`case when ${conversations.kapsoConversationId} is null or ${newer} then excluded.kapso_conversation_id else ${conversations.kapsoConversationId} end`
					: sql`${conversations.kapsoConversationId}`,
				status: input.status
					? sql`case when ${newer} then excluded.status else ${conversations.status} end`
					: sql`${conversations.status}`,
			},
		})
		.returning({ id: conversations.id })
	return row.id
}

/**
 * Applies Kapso's `whatsapp.conversation.ended|created` events: the status of the conversation
 * holding this Kapso id. Returns false when no stored conversation has it (nothing to do: the
 * next message creates the conversation).
 */
export async function setConversationStatus(
	tx: Executor,
	input: { kapsoConversationId: string; status: 'active' | 'ended' },
) {
	const updated = await tx
		.update(conversations)
		.set({ status: input.status })
		.where(eq(conversations.kapsoConversationId, input.kapsoConversationId))
		.returning({ id: conversations.id })
	return updated.length > 0
}

export type InboundMessage = {
	/** The business number the message was written to. */
	phoneNumberId: string
	/** The contact's number (digits, with or without `+`). */
	from: string
	waId?: string | null
	profileName?: string | null
	kapsoConversationId?: string | null
	wamid: string
	type: string
	/** The Meta-shaped message object, kept whole (`text`, `button`, `interactive`, `context`, …). */
	payload: Json
	occurredAt: Date
	/** History import: old messages are not "new" for the team, so they leave unread counts alone. */
	countsAsUnread?: boolean
	/** Already read (history says so). */
	read?: boolean
}

export type RecordResult = { conversationId: string; messageId: string | null; inserted: boolean }

/**
 * Stores a message a contact sent: finds or creates the contact and the conversation, opens the
 * 24-hour window, counts it unread, and links it to the broadcast message it answers (by context
 * wamid). Returns `inserted: false` when the wamid was already stored. Throws when the number is
 * not a configured sender.
 */
export async function recordInboundMessage(
	tx: Executor,
	input: InboundMessage,
): Promise<RecordResult> {
	const sender = await senderByPhoneNumberId(tx, input.phoneNumberId)
	if (!sender) throw new Error(`No sender is configured for phone number id ${input.phoneNumberId}`)
	const contactId = await upsertContact(tx, {
		phone: input.from,
		waId: input.waId,
		name: input.profileName,
	})
	const conversationId = await upsertConversation(tx, {
		senderId: sender.id,
		contactId,
		kapsoConversationId: input.kapsoConversationId,
		status: input.countsAsUnread === false ? null : 'active',
		activeAt: input.occurredAt,
	})
	const contextWamid =
		typeof (input.payload.context as Json | undefined)?.id === 'string'
			? ((input.payload.context as Json).id as string)
			: null
	const [answered] = contextWamid
		? await tx
				.select({ id: broadcastRecipients.id })
				.from(broadcastRecipients)
				.where(eq(broadcastRecipients.wamid, contextWamid))
		: []
	const body = previewText(messageContent(input.type, input.payload))
	const [inserted] = await tx
		.insert(messages)
		.values({
			conversationId,
			direction: 'inbound',
			wamid: input.wamid,
			type: input.type,
			body,
			payload: input.payload,
			status: input.read ? 'read' : 'received',
			contextWamid,
			broadcastRecipientId: answered?.id ?? null,
			occurredAt: input.occurredAt,
		})
		.onConflictDoNothing({ target: messages.wamid })
		.returning({ id: messages.id })
	if (!inserted) return { conversationId, messageId: null, inserted: false }
	const at = input.occurredAt.toISOString()
	await tx
		.update(conversations)
		.set({
			lastMessageAt: sql`greatest(${conversations.lastMessageAt}, ${at}::timestamptz)`,
			lastInboundAt: sql`greatest(${conversations.lastInboundAt}, ${at}::timestamptz)`,
			unreadCount:
				input.countsAsUnread === false || input.read
					? sql`${conversations.unreadCount}`
					: sql`${conversations.unreadCount} + 1`,
			...(input.countsAsUnread === false ? {} : { status: 'active' as const }),
		})
		.where(eq(conversations.id, conversationId))
	return { conversationId, messageId: inserted.id, inserted: true }
}

export type OutboundMessage = {
	conversationId: string
	wamid?: string | null
	type: string
	payload: Json
	status: string
	sentBy?: string | null
	broadcastRecipientId?: number | null
	occurredAt?: Date
	errorCode?: number | null
	errorTitle?: string | null
}

/**
 * Stores a message the business sent (a reply from the inbox, or one found in Kapso's history).
 * Idempotent on the wamid; an outbound template whose wamid is in the broadcast ledger is linked
 * to its recipient row.
 */
export async function recordOutboundMessage(
	tx: Executor,
	input: OutboundMessage,
): Promise<RecordResult> {
	let broadcastRecipientId = input.broadcastRecipientId ?? null
	if (broadcastRecipientId === null && input.wamid) {
		const [ledger] = await tx
			.select({ id: broadcastRecipients.id })
			.from(broadcastRecipients)
			.where(eq(broadcastRecipients.wamid, input.wamid))
		broadcastRecipientId = ledger?.id ?? null
	}
	const occurredAt = input.occurredAt ?? new Date()
	const contextWamid =
		typeof (input.payload.context as Json | undefined)?.message_id === 'string'
			? ((input.payload.context as Json).message_id as string)
			: null
	const [inserted] = await tx
		.insert(messages)
		.values({
			conversationId: input.conversationId,
			direction: 'outbound',
			wamid: input.wamid ?? null,
			type: input.type,
			body: previewText(messageContent(input.type, input.payload)),
			payload: input.payload,
			status: input.status,
			errorCode: input.errorCode ?? null,
			errorTitle: input.errorTitle ?? null,
			contextWamid,
			broadcastRecipientId,
			sentBy: input.sentBy ?? null,
			occurredAt,
		})
		.onConflictDoNothing({ target: messages.wamid })
		.returning({ id: messages.id })
	if (!inserted) return { conversationId: input.conversationId, messageId: null, inserted: false }
	await tx
		.update(conversations)
		.set({
			lastMessageAt: sql`greatest(${conversations.lastMessageAt}, ${occurredAt.toISOString()}::timestamptz)`,
		})
		.where(eq(conversations.id, input.conversationId))
	return { conversationId: input.conversationId, messageId: inserted.id, inserted: true }
}

/**
 * Moves an outbound message's status forward only (sent < delivered < read; failed never
 * overrides delivered or read). Returns false when no stored message has this wamid, so the
 * caller can keep the event for later.
 */
export async function applyMessageStatus(
	tx: Executor,
	input: {
		wamid: string
		status: 'sent' | 'delivered' | 'read' | 'failed'
		errorCode?: number | null
		errorTitle?: string | null
	},
) {
	const [row] = await tx
		.select({ id: messages.id, status: messages.status })
		.from(messages)
		.where(and(eq(messages.wamid, input.wamid), eq(messages.direction, 'outbound')))
		.for('update')
	if (!row) return false
	// A message the team deleted stays deleted, whatever status arrives late.
	if (row.status === 'deleted') return true
	const current = OUTBOUND_RANK[row.status] ?? 0
	const next = OUTBOUND_RANK[input.status]
	const moves =
		input.status === 'failed'
			? row.status !== 'delivered' && row.status !== 'read' && row.status !== 'failed'
			: row.status === 'failed'
				? false
				: next > current
	if (!moves) return true
	await tx
		.update(messages)
		.set({
			status: input.status,
			...(input.status === 'failed'
				? { errorCode: input.errorCode ?? null, errorTitle: input.errorTitle ?? null }
				: {}),
		})
		.where(eq(messages.id, row.id))
	return true
}
