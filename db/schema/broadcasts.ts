import { sql } from 'drizzle-orm'
import {
	bigint,
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
import { senders } from './senders'
import { templates } from './templates'
import { users } from './users'

export const broadcastStatusEnum = pgEnum('broadcast_status', [
	'draft',
	'scheduled',
	'sending',
	'paused',
	'completed',
	'cancelled',
	'failed',
])
export type BroadcastStatus = (typeof broadcastStatusEnum.enumValues)[number]

export const broadcasts = pgTable(
	'broadcasts',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		name: text('name').notNull(),
		senderId: uuid('sender_id').references(() => senders.id, { onDelete: 'restrict' }),
		templateId: uuid('template_id').references(() => templates.id, { onDelete: 'restrict' }),
		/** Tags (any/all), attribute filters, import id. */
		audience: jsonb('audience').$type<Record<string, unknown>>().notNull().default({}),
		/** Template variable → contact field, attribute or fixed text, with a fallback. */
		variableMapping: jsonb('variable_mapping').$type<Record<string, unknown>>().notNull().default({}),
		scheduledAt: timestamp('scheduled_at', { withTimezone: true }),
		/** The IANA zone the schedule was chosen in, to show it back as the user chose it. */
		scheduleTimezone: text('schedule_timezone'),
		status: broadcastStatusEnum('status').notNull().default('draft'),
		statusReason: text('status_reason'),
		approvalRequired: boolean('approval_required').notNull().default(false),
		approvedBy: uuid('approved_by').references(() => users.id, { onDelete: 'set null' }),
		approvedAt: timestamp('approved_at', { withTimezone: true }),
		createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
		/** When split into daily waves: the most recipients claimed per rolling 24 h. */
		dailyCap: integer('daily_cap'),
		parentBroadcastId: uuid('parent_broadcast_id'),
		launchedAt: timestamp('launched_at', { withTimezone: true }),
		completedAt: timestamp('completed_at', { withTimezone: true }),
		...timestamps,
	},
	(t) => [
		index('broadcasts_sender_id_idx').on(t.senderId),
		index('broadcasts_template_id_idx').on(t.templateId),
		index('broadcasts_status_idx').on(t.status),
		index('broadcasts_created_by_idx').on(t.createdBy),
		index('broadcasts_approved_by_idx').on(t.approvedBy),
		index('broadcasts_created_at_idx').on(t.createdAt),
		index('broadcasts_parent_broadcast_id_idx').on(t.parentBroadcastId),
	],
)

export const recipientStateEnum = pgEnum('recipient_state', [
	'queued',
	'sending',
	'sent',
	'delivered',
	'read',
	'retry_wait',
	'unknown',
	'failed',
	'skipped',
])
export type RecipientState = (typeof recipientStateEnum.enumValues)[number]

/** The ledger: one row per (broadcast, contact), the source of truth for what was sent. */
export const broadcastRecipients = pgTable(
	'broadcast_recipients',
	{
		id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
		// Both references are enforced by statement-level triggers (migration 0014,
		// docs/decisions/017): a row-level foreign key costs ~10 s on a million-row freeze.
		broadcastId: uuid('broadcast_id').notNull(),
		contactId: bigint('contact_id', { mode: 'number' }).notNull(),
		phoneE164: text('phone_e164').notNull(),
		variables: jsonb('variables').$type<Record<string, string>>().notNull().default({}),
		state: recipientStateEnum('state').notNull().default('queued'),
		skipReason: text('skip_reason'),
		attempts: integer('attempts').notNull().default(0),
		attemptId: uuid('attempt_id'),
		nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
		wamid: text('wamid'),
		waId: text('wa_id'),
		errorCode: integer('error_code'),
		errorTitle: text('error_title'),
		pricingCategory: text('pricing_category'),
		repliedAt: timestamp('replied_at', { withTimezone: true }),
		claimedAt: timestamp('claimed_at', { withTimezone: true }),
		/** The graphile-worker pool that made the current claim, so a dead pool's rows can be found. */
		claimedBy: text('claimed_by'),
		sentAt: timestamp('sent_at', { withTimezone: true }),
		deliveredAt: timestamp('delivered_at', { withTimezone: true }),
		readAt: timestamp('read_at', { withTimezone: true }),
		failedAt: timestamp('failed_at', { withTimezone: true }),
		/** Last time the reconcile job looked this message up because its statuses stopped arriving. */
		statusCheckedAt: timestamp('status_checked_at', { withTimezone: true }),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [
		uniqueIndex('broadcast_recipients_broadcast_contact_key').on(t.broadcastId, t.contactId),
		// Partial: a freeze writes a million rows without a wamid, none of which need an entry.
		uniqueIndex('broadcast_recipients_wamid_key')
			.on(t.wamid)
			.where(sql`${t.wamid} is not null`),
		index('broadcast_recipients_contact_id_idx').on(t.contactId),
		index('broadcast_recipients_broadcast_state_idx').on(t.broadcastId, t.state),
		index('broadcast_recipients_retry_idx')
			.on(t.broadcastId, t.nextAttemptAt)
			.where(sql`${t.state} = 'retry_wait'`),
		// The dispatcher claims queued rows in id order; a partial index keeps that walk short.
		index('broadcast_recipients_queued_idx')
			.on(t.broadcastId, t.id)
			.where(sql`${t.state} = 'queued'`),
		// Crash sweep and reconciliation look only at rows whose outcome is open.
		index('broadcast_recipients_open_idx')
			.on(t.claimedAt)
			.where(sql`${t.state} in ('sending', 'unknown')`),
		// Messaging-limit usage: unique contacts sent to in the last 24 h.
		index('broadcast_recipients_sent_at_idx')
			.on(t.sentAt)
			.where(sql`${t.sentAt} is not null`),
		// Reports group a broadcast's failures by Meta code.
		index('broadcast_recipients_failed_code_idx')
			.on(t.broadcastId, t.errorCode)
			.where(sql`${t.state} = 'failed'`),
		// Status reconciliation: messages still only `sent`, oldest first.
		index('broadcast_recipients_stuck_sent_idx')
			.on(t.sentAt)
			.where(sql`${t.state} = 'sent'`),
	],
)

/**
 * Per-state counts of a broadcast's ledger, kept as signed deltas appended by a statement-level
 * trigger on broadcast_recipients (migration 0001 onwards), so every writer (dispatcher, webhooks,
 * cancel) keeps them right without touching a shared hot row. `compactCounterDeltas` folds them.
 */
export const broadcastCounterDeltas = pgTable(
	'broadcast_counter_deltas',
	{
		id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
		broadcastId: uuid('broadcast_id')
			.notNull()
			.references(() => broadcasts.id, { onDelete: 'cascade' }),
		state: recipientStateEnum('state').notNull(),
		delta: bigint('delta', { mode: 'number' }).notNull(),
	},
	(t) => [index('broadcast_counter_deltas_broadcast_idx').on(t.broadcastId, t.state)],
)
