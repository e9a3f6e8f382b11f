import { sql } from 'drizzle-orm'
import {
	bigserial,
	boolean,
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

export const roleEnum = pgEnum('role', ['admin', 'marketer', 'analyst'])
export type Role = (typeof roleEnum.enumValues)[number]

export const users = pgTable(
	'users',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		email: text('email').notNull(),
		name: text('name').notNull(),
		role: roleEnum('role').notNull(),
		passwordHash: text('password_hash').notNull(),
		timezone: text('timezone').notNull().default('UTC'),
		active: boolean('active').notNull().default(true),
		deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
		...timestamps,
	},
	(t) => [uniqueIndex('users_email_key').on(sql`lower(${t.email})`)],
)

/** Server-side sessions. The cookie carries a random token; only its SHA-256 is stored. */
export const sessions = pgTable(
	'sessions',
	{
		id: text('id').primaryKey(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
		lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
		expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
		ip: text('ip'),
		userAgent: text('user_agent'),
	},
	(t) => [index('sessions_user_id_idx').on(t.userId), index('sessions_expires_at_idx').on(t.expiresAt)],
)

/** Failed-login counters, one row per account (`acct:<email>`) and per address (`ip:<addr>`). */
export const loginThrottle = pgTable('login_throttle', {
	key: text('key').primaryKey(),
	failures: integer('failures').notNull().default(0),
	firstFailedAt: timestamp('first_failed_at', { withTimezone: true }).notNull().defaultNow(),
	lastFailedAt: timestamp('last_failed_at', { withTimezone: true }).notNull().defaultNow(),
	blockedUntil: timestamp('blocked_until', { withTimezone: true }),
})

export const auditLog = pgTable(
	'audit_log',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
		action: text('action').notNull(),
		objectType: text('object_type').notNull(),
		objectId: text('object_id'),
		details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [
		index('audit_log_actor_id_idx').on(t.actorId),
		index('audit_log_object_idx').on(t.objectType, t.objectId),
		index('audit_log_created_at_idx').on(t.createdAt),
	],
)

/** Product-wide settings editable by admins (approval required, opt-out keywords, thresholds). */
export const appSettings = pgTable('app_settings', {
	key: text('key').primaryKey(),
	value: jsonb('value').notNull(),
	...timestamps,
})
