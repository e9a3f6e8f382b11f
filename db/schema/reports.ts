import { bigint, index, integer, pgTable, timestamp, uuid } from 'drizzle-orm/pg-core'
import { broadcasts } from './broadcasts'

/**
 * Per-minute counts of a broadcast's ledger timestamps (sent_at, delivered_at, read_at,
 * replied_at, failed_at), kept as signed deltas appended by a statement-level trigger on
 * broadcast_recipients (migration 0004), so the report's chart and the overview never scan the
 * ledger. Summing a broadcast's rows gives how many recipients carry each timestamp.
 */
export const broadcastTimelineDeltas = pgTable(
	'broadcast_timeline_deltas',
	{
		id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
		broadcastId: uuid('broadcast_id')
			.notNull()
			.references(() => broadcasts.id, { onDelete: 'cascade' }),
		minute: timestamp('minute', { withTimezone: true }).notNull(),
		sent: integer('sent').notNull().default(0),
		delivered: integer('delivered').notNull().default(0),
		read: integer('read').notNull().default(0),
		replied: integer('replied').notNull().default(0),
		failed: integer('failed').notNull().default(0),
	},
	(t) => [
		index('broadcast_timeline_deltas_broadcast_idx').on(t.broadcastId, t.minute),
		index('broadcast_timeline_deltas_minute_idx').on(t.minute),
	],
)
