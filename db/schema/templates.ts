import {
	bigserial,
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
import { users } from './users'

export const templateCategoryEnum = pgEnum('template_category', [
	'MARKETING',
	'UTILITY',
	'AUTHENTICATION',
])
export const parameterFormatEnum = pgEnum('parameter_format', ['POSITIONAL', 'NAMED'])
export const reviewStateEnum = pgEnum('template_review_state', [
	'draft',
	'in_review',
	'changes_requested',
	'approved_internal',
	'submitted',
])
export type ReviewState = (typeof reviewStateEnum.enumValues)[number]

export const templates = pgTable(
	'templates',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		wabaId: text('waba_id').notNull(),
		name: text('name').notNull(),
		language: text('language').notNull(),
		category: templateCategoryEnum('category').notNull(),
		parameterFormat: parameterFormatEnum('parameter_format').notNull().default('POSITIONAL'),
		/** Meta create-template components, exactly as sent to WhatsApp. */
		components: jsonb('components').$type<Array<Record<string, unknown>>>().notNull(),
		/**
		 * The components WhatsApp holds (last submission or sync). Sends use these: while an approved
		 * template is being edited, `components` is the new draft and this is what is live.
		 */
		remoteComponents: jsonb('remote_components').$type<Array<Record<string, unknown>>>(),
		reviewState: reviewStateEnum('review_state').notNull().default('draft'),
		/** Meta's status: PENDING, APPROVED, REJECTED, PAUSED, DISABLED, … (null until submitted). */
		metaStatus: text('meta_status'),
		remoteId: text('remote_id'),
		rejectionReason: text('rejection_reason'),
		qualityScore: text('quality_score'),
		/** 'app' when drafted here, 'external' when found on the WABA by a sync. */
		origin: text('origin').notNull().default('app'),
		lastSyncedAt: timestamp('last_synced_at', { withTimezone: true }),
		submittedAt: timestamp('submitted_at', { withTimezone: true }),
		createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
		updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
		...timestamps,
	},
	(t) => [
		uniqueIndex('templates_waba_name_language_key').on(t.wabaId, t.name, t.language),
		index('templates_meta_status_idx').on(t.metaStatus),
		index('templates_review_state_idx').on(t.reviewState),
		index('templates_created_by_idx').on(t.createdBy),
		index('templates_updated_by_idx').on(t.updatedBy),
		index('templates_remote_id_idx').on(t.remoteId),
		// The list page sorts by last change and filters by category and language.
		index('templates_updated_at_idx').on(t.updatedAt),
		index('templates_category_language_idx').on(t.category, t.language),
	],
)

export const templateEvents = pgTable(
	'template_events',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		templateId: uuid('template_id')
			.notNull()
			.references(() => templates.id, { onDelete: 'cascade' }),
		actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
		kind: text('kind').notNull(),
		fromState: text('from_state'),
		toState: text('to_state'),
		comment: text('comment'),
		details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [
		index('template_events_template_id_idx').on(t.templateId, t.createdAt),
		index('template_events_actor_id_idx').on(t.actorId),
	],
)

export const templateSyncStatusEnum = pgEnum('template_sync_status', [
	'queued',
	'running',
	'completed',
	'failed',
])

/** One full sync of a WABA's templates with Kapso, so any web process can show its progress. */
export const templateSyncRuns = pgTable(
	'template_sync_runs',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		wabaId: text('waba_id').notNull(),
		status: templateSyncStatusEnum('status').notNull().default('queued'),
		/** Templates read from the WABA so far. */
		seen: integer('seen').notNull().default(0),
		created: integer('created').notNull().default(0),
		updated: integer('updated').notNull().default(0),
		removed: integer('removed').notNull().default(0),
		pages: integer('pages').notNull().default(0),
		error: text('error'),
		requestedBy: uuid('requested_by').references(() => users.id, { onDelete: 'set null' }),
		startedAt: timestamp('started_at', { withTimezone: true }),
		finishedAt: timestamp('finished_at', { withTimezone: true }),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [
		index('template_sync_runs_waba_created_idx').on(t.wabaId, t.createdAt),
		index('template_sync_runs_requested_by_idx').on(t.requestedBy),
	],
)
