import {
	bigint,
	bigserial,
	index,
	integer,
	jsonb,
	pgEnum,
	pgTable,
	primaryKey,
	text,
	timestamp,
	uuid,
} from 'drizzle-orm/pg-core'
import { timestamps } from './_columns'
import { users } from './users'

export const importStatusEnum = pgEnum('import_status', [
	'queued',
	'parsing',
	'committing',
	'completed',
	'failed',
	'cancelled',
])

export const imports = pgTable(
	'imports',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		fileName: text('file_name').notNull(),
		fileSize: bigint('file_size', { mode: 'number' }).notNull(),
		/** Where the uploaded file is kept until the import finishes. */
		filePath: text('file_path'),
		fileSha256: text('file_sha256'),
		status: importStatusEnum('status').notNull().default('queued'),
		/** Column mapping, default country, tags, update policy, encoding, delimiter. */
		options: jsonb('options').$type<Record<string, unknown>>().notNull().default({}),
		rowsTotalEstimate: integer('rows_total_estimate'),
		rowsRead: integer('rows_read').notNull().default(0),
		inserted: integer('inserted').notNull().default(0),
		updated: integer('updated').notNull().default(0),
		unchanged: integer('unchanged').notNull().default(0),
		rejected: integer('rejected').notNull().default(0),
		error: text('error'),
		cancelRequestedAt: timestamp('cancel_requested_at', { withTimezone: true }),
		startedAt: timestamp('started_at', { withTimezone: true }),
		finishedAt: timestamp('finished_at', { withTimezone: true }),
		createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
		...timestamps,
	},
	(t) => [
		index('imports_created_by_idx').on(t.createdBy),
		index('imports_created_at_idx').on(t.createdAt),
		index('imports_file_sha256_idx').on(t.fileSha256),
	],
)

export const importRowErrors = pgTable(
	'import_row_errors',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		importId: uuid('import_id')
			.notNull()
			.references(() => imports.id, { onDelete: 'cascade' }),
		line: integer('line').notNull(),
		rawValue: text('raw_value'),
		/** Stable reason code (empty_phone, invalid_phone, not_mobile, duplicate, …). */
		code: text('code'),
		/** What the user reads, e.g. "Duplicate of line 12 in this file". */
		reason: text('reason').notNull(),
	},
	(t) => [index('import_row_errors_import_id_idx').on(t.importId, t.line)],
)

/**
 * Every accepted contact of an import's file (inserted, updated or unchanged): an audience choice.
 * No foreign keys: their per-row checks cost more than the rest of a million-row import, and the
 * only writer is the import's own commit, which takes both ids from rows it holds in that same
 * transaction. Deleting an import or a contact removes its links through statement-level triggers
 * (see docs/decisions/018-import-merge-in-chunks-without-link-foreign-keys.md).
 */
export const importContacts = pgTable(
	'import_contacts',
	{
		importId: uuid('import_id').notNull(),
		contactId: bigint('contact_id', { mode: 'number' }).notNull(),
	},
	(t) => [primaryKey({ columns: [t.importId, t.contactId] })],
)

/**
 * Contacts an import created as one unbroken block of ids (the usual case: a plain INSERT of a
 * chunk that no other session's insert interleaved with), stored as the block's first and last id
 * instead of one import_contacts row each, which cost a fifth of a million-row import. Ids are
 * never reused, so a deleted contact simply stops matching; deleting an import removes its ranges
 * through the same statement-level triggers as its links.
 */
export const importContactRanges = pgTable(
	'import_contact_ranges',
	{
		importId: uuid('import_id').notNull(),
		firstId: bigint('first_id', { mode: 'number' }).notNull(),
		lastId: bigint('last_id', { mode: 'number' }).notNull(),
	},
	(t) => [primaryKey({ columns: [t.importId, t.firstId] })],
)
