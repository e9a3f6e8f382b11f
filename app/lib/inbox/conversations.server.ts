import { and, asc, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm'
import { z } from 'zod'
import { db, type Executor } from '#db/client'
import {
	broadcastRecipients,
	broadcasts,
	contactNotes,
	contacts,
	conversations,
	messages,
	senders,
	templates,
	users,
	type Role,
} from '#db/schema/index'
import { recordAudit } from '#app/lib/audit.server'
import { maskPhone } from '#app/lib/contacts/mask'
import { canDeleteMessage } from '#app/lib/messages/delete.server'
import { attachReactions } from '#app/lib/messages/thread'
import { AssignmentFilterSchema, assignmentCondition } from './assignments.server'
import { messageContent, type MessageContent } from './content'
import { renderTemplate } from './render-template'
import { serviceWindow, type ServiceWindow } from './window'

export type Viewer = { id: string; role: Role }

/** Analysts read everything but never see full phone numbers. */
function phoneFor(viewer: Viewer, phone: string) {
	return viewer.role === 'analyst' ? maskPhone(phone) : phone
}

export const canAnswer = (viewer: Viewer) => viewer.role === 'admin' || viewer.role === 'marketer'

export const ConversationFiltersSchema = z.object({
	q: z.string().trim().max(200).optional().default(''),
	status: z.enum(['all', 'active', 'ended', 'unread']).optional().default('all'),
	/** `mine`, `unassigned` or a person's id (assignments.server). */
	assigned: AssignmentFilterSchema,
	broadcast: z
		.uuid()
		.optional()
		.or(z.literal('').transform(() => undefined)),
	cursor: z
		.string()
		.regex(/^\d{13}_[0-9a-f-]{36}$/)
		.optional()
		.or(z.literal('').transform(() => undefined)),
})
export type ConversationFilters = z.input<typeof ConversationFiltersSchema>

export type ConversationListItem = {
	id: string
	contactId: number
	name: string | null
	phone: string
	status: 'active' | 'ended'
	unreadCount: number
	assignee: { id: string; name: string } | null
	lastMessageAt: string | null
	preview: { direction: 'inbound' | 'outbound'; text: string; status: string } | null
}

const PAGE_SIZE = 30

/** Escapes LIKE wildcards so a search for "50%" finds "50%". */
function likePattern(text: string) {
	return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/**
 * Conversations, most recent activity first, with keyset paging (`nextCursor`). Search matches
 * the contact's name, phone number or any message text; filters: status or unread, and "replied
 * to broadcast X".
 */
export async function listConversations(
	viewer: Viewer,
	input: ConversationFilters = {},
	executor: Executor = db,
) {
	const filters = ConversationFiltersSchema.parse(input)
	const activity = sql`coalesce(c.last_message_at, c.created_at)`
	const where = [sql`true`]
	if (filters.status === 'active' || filters.status === 'ended')
		where.push(sql`c.status = ${filters.status}`)
	if (filters.status === 'unread') where.push(sql`c.unread_count > 0`)
	const assigned = assignmentCondition(filters.assigned, viewer.id, 'c')
	if (assigned) where.push(assigned)
	if (filters.q) {
		const pattern = likePattern(filters.q)
		const digits = filters.q.replace(/\D/g, '')
		where.push(sql`(
			ct.name ilike ${pattern}
			${digits.length >= 3 ? sql`or ct.phone_e164 like ${likePattern(digits)}` : sql``}
			or exists (select 1 from messages sm where sm.conversation_id = c.id and sm.body ilike ${pattern})
		)`)
	}
	if (filters.broadcast) {
		where.push(sql`(
			exists (
				select 1 from broadcast_recipients br
				where br.broadcast_id = ${filters.broadcast} and br.contact_id = c.contact_id and br.replied_at is not null
			)
			or exists (
				select 1 from messages rm join broadcast_recipients br on br.id = rm.broadcast_recipient_id
				where rm.conversation_id = c.id and rm.direction = 'inbound' and br.broadcast_id = ${filters.broadcast}
			)
		)`)
	}
	if (filters.cursor) {
		const [ms, id] = [Number(filters.cursor.slice(0, 13)), filters.cursor.slice(14)]
		where.push(sql`(${activity}, c.id) < (${new Date(ms).toISOString()}::timestamptz, ${id}::uuid)`)
	}
	const rows = (await executor.execute(sql`
		select c.id, c.contact_id, ct.name, ct.phone_e164, c.status, c.unread_count,
			c.assignee_id, au.name as assignee_name,
			${activity} as activity, c.last_message_at,
			lm.direction as last_direction, lm.body as last_body, lm.status as last_status
		from conversations c
		join contacts ct on ct.id = c.contact_id
		left join users au on au.id = c.assignee_id
		left join lateral (
			select m.direction, m.body, m.status from messages m
			where m.conversation_id = c.id order by m.occurred_at desc, m.created_at desc limit 1
		) lm on true
		where ${sql.join(where, sql` and `)}
		order by ${activity} desc, c.id desc
		limit ${PAGE_SIZE + 1}
	`)) as unknown as Array<{
		id: string
		contact_id: string | number
		name: string | null
		phone_e164: string
		status: 'active' | 'ended'
		unread_count: number
		assignee_id: string | null
		assignee_name: string | null
		activity: string | Date
		last_message_at: string | Date | null
		last_direction: 'inbound' | 'outbound' | null
		last_body: string | null
		last_status: string | null
	}>
	const page = rows.slice(0, PAGE_SIZE)
	const last = page[page.length - 1]
	const items: ConversationListItem[] = page.map((row) => ({
		id: row.id,
		contactId: Number(row.contact_id),
		name: row.name,
		phone: phoneFor(viewer, row.phone_e164),
		status: row.status,
		unreadCount: row.unread_count,
		assignee:
			row.assignee_id && row.assignee_name
				? { id: row.assignee_id, name: row.assignee_name }
				: null,
		lastMessageAt: row.last_message_at ? new Date(row.last_message_at).toISOString() : null,
		preview: row.last_direction
			? { direction: row.last_direction, text: row.last_body ?? '', status: row.last_status ?? '' }
			: null,
	}))
	return {
		items,
		nextCursor:
			rows.length > PAGE_SIZE && last
				? `${String(new Date(last.activity).getTime()).padStart(13, '0')}_${last.id}`
				: null,
	}
}

/**
 * Broadcasts that got at least one reply, for the "replied to" filter. Read from the inbound
 * messages linked to a recipient row (a few), never by scanning the ledger (millions).
 */
export async function listRepliedBroadcasts(executor: Executor = db) {
	return executor
		.select({ id: broadcasts.id, name: broadcasts.name })
		.from(broadcasts)
		.where(
			inArray(
				broadcasts.id,
				executor
					.select({ id: broadcastRecipients.broadcastId })
					.from(messages)
					.innerJoin(broadcastRecipients, eq(broadcastRecipients.id, messages.broadcastRecipientId))
					.where(eq(messages.direction, 'inbound')),
			),
		)
		.orderBy(desc(broadcasts.createdAt))
		.limit(100)
}

export type HistoryMessage = {
	id: string
	direction: 'inbound' | 'outbound'
	type: string
	status: string
	errorCode: number | null
	errorTitle: string | null
	occurredAt: string
	content: MessageContent
	/** Reactions point at it by wamid; null for a message WhatsApp never took. */
	wamid: string | null
	/** The broadcast this message belongs to (outbound) or answers (inbound). */
	broadcast: { id: string; name: string } | null
	sentBy: string | null
	/** A reply that failed before WhatsApp took it, so sending it again cannot duplicate it. */
	retryable: boolean
}

/** Ledger states that mean the message reached WhatsApp, mapped to the inbox's ticks. */
const LEDGER_STATUS: Record<string, string> = {
	sent: 'sent',
	delivered: 'delivered',
	read: 'read',
	failed: 'failed',
	unknown: 'sending',
}

const HISTORY_LIMIT = 300

export async function getConversation(id: string, executor: Executor = db) {
	const [row] = await executor
		.select({
			conversation: conversations,
			contact: contacts,
			sender: {
				id: senders.id,
				phoneNumberId: senders.phoneNumberId,
				wabaId: senders.wabaId,
				displayNumber: senders.displayNumber,
				name: senders.name,
			},
		})
		.from(conversations)
		.innerJoin(contacts, eq(contacts.id, conversations.contactId))
		.innerJoin(senders, eq(senders.id, conversations.senderId))
		.where(eq(conversations.id, id))
	return row ?? null
}

/**
 * The conversation's history, oldest first: its stored messages plus the broadcast messages this
 * contact got from this number that are not stored as messages, each rendered as the recipient
 * saw it (the template with the recipient's own variables).
 */
export async function getConversationHistory(
	conversation: { id: string; contactId: number; senderId: string },
	executor: Executor = db,
): Promise<HistoryMessage[]> {
	const stored = await executor
		.select({
			message: messages,
			broadcastId: broadcasts.id,
			broadcastName: broadcasts.name,
			sentByName: users.name,
		})
		.from(messages)
		.leftJoin(broadcastRecipients, eq(broadcastRecipients.id, messages.broadcastRecipientId))
		.leftJoin(broadcasts, eq(broadcasts.id, broadcastRecipients.broadcastId))
		.leftJoin(users, eq(users.id, messages.sentBy))
		.where(eq(messages.conversationId, conversation.id))
		.orderBy(desc(messages.occurredAt), desc(messages.createdAt))
		.limit(HISTORY_LIMIT)
	const ledger = await executor
		.select({
			recipient: broadcastRecipients,
			broadcastName: broadcasts.name,
			templateName: templates.name,
			components: sql<
				Array<Record<string, unknown>>
			>`coalesce(${templates.remoteComponents}, ${templates.components})`,
		})
		.from(broadcastRecipients)
		.innerJoin(broadcasts, eq(broadcasts.id, broadcastRecipients.broadcastId))
		.leftJoin(templates, eq(templates.id, broadcasts.templateId))
		.where(
			and(
				eq(broadcastRecipients.contactId, conversation.contactId),
				eq(broadcasts.senderId, conversation.senderId),
				isNotNull(broadcastRecipients.sentAt),
				sql`not exists (select 1 from messages dm where dm.wamid = ${broadcastRecipients.wamid})`,
			),
		)
		.orderBy(desc(broadcastRecipients.sentAt))
		.limit(50)
	// Oldest first before the stable sort, so messages of the same second keep the order they were stored in.
	const history: HistoryMessage[] = stored
		.reverse()
		.map(({ message, broadcastId, broadcastName, sentByName }) => ({
			id: message.id,
			direction: message.direction,
			type: message.type,
			status: message.status,
			errorCode: message.errorCode,
			errorTitle: message.errorTitle,
			occurredAt: message.occurredAt.toISOString(),
			content: messageContent(message.type, message.payload, message.body),
			wamid: message.wamid,
			broadcast: broadcastId && broadcastName ? { id: broadcastId, name: broadcastName } : null,
			sentBy: sentByName,
			retryable:
				message.direction === 'outbound' && message.status === 'failed' && message.wamid === null,
		}))
	for (const { recipient, broadcastName, templateName, components } of ledger) {
		history.push({
			id: `broadcast-${recipient.id}`,
			direction: 'outbound',
			type: 'template',
			status: LEDGER_STATUS[recipient.state] ?? recipient.state,
			errorCode: recipient.errorCode,
			errorTitle: recipient.errorTitle,
			occurredAt: (recipient.sentAt as Date).toISOString(),
			content: {
				kind: 'template',
				template: renderTemplate(templateName ?? 'template', components ?? [], recipient.variables),
			},
			wamid: recipient.wamid,
			broadcast: { id: recipient.broadcastId, name: broadcastName },
			sentBy: null,
			retryable: false,
		})
	}
	return history.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt))
}

export type ConversationView = NonNullable<Awaited<ReturnType<typeof getConversationView>>>

/** Everything the conversation pane shows, or null when the id does not exist. */
export async function getConversationView(id: string, viewer: Viewer, executor: Executor = db) {
	const found = await getConversation(id, executor)
	if (!found) return null
	const { conversation, contact, sender } = found
	const window: ServiceWindow = serviceWindow(conversation.lastInboundAt)
	return {
		conversation: {
			id: conversation.id,
			status: conversation.status,
			unreadCount: conversation.unreadCount,
			lastInboundAt: conversation.lastInboundAt?.toISOString() ?? null,
			kapsoConversationId: conversation.kapsoConversationId,
			assigneeId: conversation.assigneeId,
		},
		window: { open: window.open, closesAt: window.closesAt?.toISOString() ?? null },
		contact: { id: contact.id, name: contact.name, phone: phoneFor(viewer, contact.phoneE164) },
		sender: { id: sender.id, displayNumber: sender.displayNumber, name: sender.name },
		messages: attachReactions(await getConversationHistory(conversation, executor)).map(
			(message) => ({
				...message,
				// Ledger-only broadcast messages have no stored row to delete.
				deletable: !message.id.startsWith('broadcast-') && canDeleteMessage(viewer, message),
			}),
		),
		canAnswer: canAnswer(viewer),
	}
}

/** The contact panel: who this is, notes, and every broadcast they got with its outcome. */
export async function getContactPanel(contactId: number, viewer: Viewer, executor: Executor = db) {
	const [contact] = await executor.select().from(contacts).where(eq(contacts.id, contactId))
	if (!contact) return null
	const notes = await executor
		.select({
			id: contactNotes.id,
			body: contactNotes.body,
			createdAt: contactNotes.createdAt,
			author: users.name,
		})
		.from(contactNotes)
		.leftJoin(users, eq(users.id, contactNotes.authorId))
		.where(eq(contactNotes.contactId, contactId))
		.orderBy(desc(contactNotes.createdAt))
		.limit(100)
	const received = await executor
		.select({
			broadcastId: broadcasts.id,
			name: broadcasts.name,
			state: broadcastRecipients.state,
			skipReason: broadcastRecipients.skipReason,
			errorCode: broadcastRecipients.errorCode,
			errorTitle: broadcastRecipients.errorTitle,
			sentAt: broadcastRecipients.sentAt,
			repliedAt: broadcastRecipients.repliedAt,
		})
		.from(broadcastRecipients)
		.innerJoin(broadcasts, eq(broadcasts.id, broadcastRecipients.broadcastId))
		.where(eq(broadcastRecipients.contactId, contactId))
		.orderBy(desc(sql`coalesce(${broadcastRecipients.sentAt}, ${broadcastRecipients.updatedAt})`))
		.limit(50)
	return {
		contact: {
			id: contact.id,
			name: contact.name,
			phone: phoneFor(viewer, contact.phoneE164),
			email: viewer.role === 'analyst' ? null : contact.email,
			tags: contact.tags,
			attributes: contact.attributes,
			optedOutAt: contact.optedOutAt?.toISOString() ?? null,
			optOutSource: contact.optOutSource,
		},
		notes: notes.map((note) => ({ ...note, createdAt: note.createdAt.toISOString() })),
		broadcasts: received.map((row) => ({
			...row,
			sentAt: row.sentAt?.toISOString() ?? null,
			repliedAt: row.repliedAt?.toISOString() ?? null,
		})),
	}
}

export const NoteSchema = z.object({
	body: z.string().trim().min(1, 'Write the note').max(4000, 'At most 4,000 characters'),
})

/** A note on the contact of a conversation; null when the conversation does not exist. */
export async function addConversationNote(
	conversationId: string,
	actorId: string,
	input: z.input<typeof NoteSchema>,
) {
	const found = await getConversation(conversationId)
	return found ? addContactNote(found.contact.id, actorId, input) : null
}

export async function addContactNote(
	contactId: number,
	actorId: string,
	input: z.input<typeof NoteSchema>,
) {
	const { body } = NoteSchema.parse(input)
	return db.transaction(async (tx) => {
		const [note] = await tx
			.insert(contactNotes)
			.values({ contactId, authorId: actorId, body })
			.returning()
		await recordAudit(tx, {
			actorId,
			action: 'contact.note_add',
			objectType: 'contact',
			objectId: contactId,
		})
		return note
	})
}

/** Oldest-first helper for tests and exports: every stored message of a conversation. */
export async function storedMessages(conversationId: string, executor: Executor = db) {
	return executor
		.select()
		.from(messages)
		.where(eq(messages.conversationId, conversationId))
		.orderBy(asc(messages.occurredAt), asc(messages.createdAt))
}
