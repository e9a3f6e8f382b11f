import { sql } from 'drizzle-orm'
import {
	bigint,
	index,
	integer,
	jsonb,
	pgEnum,
	pgTable,
	text,
	timestamp,
	uniqueIndex,
	uuid,
} from 'drizzle-orm/pg-core'
import { timestamps } from './_columns'
import { broadcastRecipients } from './broadcasts'
import { contacts } from './contacts'
import { senders } from './senders'
import { users } from './users'

export const conversationStatusEnum = pgEnum('conversation_status', ['active', 'ended'])
export const messageDirectionEnum = pgEnum('message_direction', ['inbound', 'outbound'])

export const conversations = pgTable(
	'conversations',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		senderId: uuid('sender_id')
			.notNull()
			.references(() => senders.id, { onDelete: 'cascade' }),
		contactId: bigint('contact_id', { mode: 'number' })
			.notNull()
			.references(() => contacts.id, { onDelete: 'cascade' }),
		kapsoConversationId: text('kapso_conversation_id'),
		status: conversationStatusEnum('status').notNull().default('active'),
		lastMessageAt: timestamp('last_message_at', { withTimezone: true }),
		/** The customer-service window is open for 24 h after this. */
		lastInboundAt: timestamp('last_inbound_at', { withTimezone: true }),
		unreadCount: integer('unread_count').notNull().default(0),
		assigneeId: uuid('assignee_id').references(() => users.id, { onDelete: 'set null' }),
		...timestamps,
	},
	(t) => [
		uniqueIndex('conversations_sender_contact_key').on(t.senderId, t.contactId),
		uniqueIndex('conversations_kapso_id_key').on(t.kapsoConversationId),
		index('conversations_contact_id_idx').on(t.contactId),
		index('conversations_assignee_id_idx').on(t.assigneeId),
		index('conversations_last_message_at_idx').on(t.lastMessageAt),
	],
)

export const messages = pgTable(
	'messages',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		conversationId: uuid('conversation_id')
			.notNull()
			.references(() => conversations.id, { onDelete: 'cascade' }),
		direction: messageDirectionEnum('direction').notNull(),
		wamid: text('wamid'),
		type: text('type').notNull(),
		body: text('body'),
		payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
		/** Outbound: sending, sent, delivered, read, failed, deleted. Inbound: received, read. */
		status: text('status').notNull(),
		errorCode: integer('error_code'),
		errorTitle: text('error_title'),
		contextWamid: text('context_wamid'),
		broadcastRecipientId: bigint('broadcast_recipient_id', { mode: 'number' }).references(
			() => broadcastRecipients.id,
			{ onDelete: 'set null' },
		),
		sentBy: uuid('sent_by').references(() => users.id, { onDelete: 'set null' }),
		occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
		...timestamps,
	},
	(t) => [
		uniqueIndex('messages_wamid_key').on(t.wamid),
		index('messages_conversation_id_idx').on(t.conversationId, t.occurredAt),
		index('messages_broadcast_recipient_id_idx').on(t.broadcastRecipientId),
		index('messages_sent_by_idx').on(t.sentBy),
		index('messages_context_wamid_idx').on(t.contextWamid),
		// The inbox searches message text with ILIKE '%…%' (pg_trgm, migration 0005).
		index('messages_body_trgm_idx').using('gin', sql`${t.body} gin_trgm_ops`),
	],
)
