import { sql } from 'drizzle-orm'
import {
	check,
	doublePrecision,
	integer,
	jsonb,
	pgTable,
	text,
	timestamp,
	uuid,
} from 'drizzle-orm/pg-core'
import { timestamps } from './_columns'

/** A WhatsApp phone number the app sends from. */
export const senders = pgTable(
	'senders',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		phoneNumberId: text('phone_number_id').notNull().unique(),
		wabaId: text('waba_id').notNull(),
		displayNumber: text('display_number').notNull(),
		name: text('name').notNull().default(''),
		ratePerSecond: integer('rate_per_second').notNull().default(80),
		messagingLimitTier: text('messaging_limit_tier'),
		qualityRating: text('quality_rating'),
		throughputLevel: text('throughput_level'),
		health: jsonb('health').$type<Record<string, unknown>>(),
		healthCheckedAt: timestamp('health_checked_at', { withTimezone: true }),
		...timestamps,
	},
	(t) => [check('senders_rate_per_second_range', sql`${t.ratePerSecond} between 1 and 1000`)],
)

/**
 * One token bucket per sender, shared by every worker and every broadcast on that number
 * (see app/lib/sending/token-bucket.ts). It holds no idle burst: `refilledAt` is the moment the
 * bucket is full again, i.e. the next free send slot, and every grant moves it forward.
 * `currentRate` is the rate right after the last 130429 (`slowedAt`); the rate in force climbs
 * back from it towards the sender's configured rate.
 */
export const senderRateBuckets = pgTable('sender_rate_buckets', {
	senderId: uuid('sender_id')
		.primaryKey()
		.references(() => senders.id, { onDelete: 'cascade' }),
	currentRate: doublePrecision('current_rate').notNull(),
	refilledAt: timestamp('refilled_at', { withTimezone: true }).notNull().defaultNow(),
	slowedAt: timestamp('slowed_at', { withTimezone: true }),
})

/** Liveness of each graphile-worker pool, so a sweep can release the jobs of a dead one. */
export const workerHeartbeats = pgTable('worker_heartbeats', {
	poolId: text('pool_id').primaryKey(),
	pid: integer('pid').notNull(),
	hostname: text('hostname').notNull(),
	startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
	lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
})
