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
import { contacts } from './contacts'
import { senders } from './senders'

export const callDirectionEnum = pgEnum('call_direction', ['inbound', 'outbound'])

/** A WhatsApp call on a sender number, imported from Kapso's call history (read only). */
export const calls = pgTable(
	'calls',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		senderId: uuid('sender_id')
			.notNull()
			.references(() => senders.id, { onDelete: 'cascade' }),
		kapsoCallId: text('kapso_call_id').notNull(),
		/** Matched on import by phone number; calls from unknown numbers keep only `wa_id`. */
		contactId: bigint('contact_id', { mode: 'number' }).references(() => contacts.id, {
			onDelete: 'set null',
		}),
		/** The other party's WhatsApp id (digits). */
		waId: text('wa_id'),
		direction: callDirectionEnum('direction'),
		/** Kapso's status, lower case: completed, missed, rejected, failed, ongoing, … */
		status: text('status'),
		durationSeconds: integer('duration_seconds'),
		startedAt: timestamp('started_at', { withTimezone: true }),
		endedAt: timestamp('ended_at', { withTimezone: true }),
		kapsoConversationId: text('kapso_conversation_id'),
		raw: jsonb('raw').$type<Record<string, unknown>>().notNull().default({}),
		...timestamps,
	},
	(t) => [
		uniqueIndex('calls_sender_kapso_id_key').on(t.senderId, t.kapsoCallId),
		index('calls_contact_id_idx').on(t.contactId),
		index('calls_wa_id_idx').on(t.waId),
		index('calls_started_at_idx').on(t.startedAt),
	],
)
