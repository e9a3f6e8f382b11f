import { sql } from 'drizzle-orm'
import {
	bigserial,
	index,
	jsonb,
	pgEnum,
	pgTable,
	text,
	timestamp,
} from 'drizzle-orm/pg-core'

export const webhookSourceEnum = pgEnum('webhook_source', ['kapso', 'meta'])

/** Every webhook received, raw, once. Processing is a separate job. */
export const webhookEvents = pgTable(
	'webhook_events',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		source: webhookSourceEnum('source').notNull(),
		dedupeKey: text('dedupe_key').notNull().unique(),
		eventType: text('event_type').notNull(),
		payload: jsonb('payload').notNull(),
		receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
		processedAt: timestamp('processed_at', { withTimezone: true }),
		/** Set when a status names a message not (yet) recorded; applied when it appears. */
		pendingWamid: text('pending_wamid'),
		error: text('error'),
	},
	(t) => [
		index('webhook_events_received_at_idx').on(t.receivedAt),
		// Partial: most events are never pending, and each index entry costs the hot insert path.
		index('webhook_events_pending_wamid_idx')
			.on(t.pendingWamid)
			.where(sql`${t.pendingWamid} is not null`),
		// The processing job walks unprocessed rows in arrival order.
		index('webhook_events_unprocessed_idx')
			.on(t.id)
			.where(sql`${t.processedAt} is null`),
	],
)
