import { sql } from 'drizzle-orm'
import { bigint, index, jsonb, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { timestamps } from './_columns'
import { users } from './users'

export const optOutSourceEnum = pgEnum('opt_out_source', [
	'keyword',
	'button',
	'meta_preference',
	'manual',
	'import',
])

export const contacts = pgTable(
	'contacts',
	{
		id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
		phoneE164: text('phone_e164').notNull().unique(),
		waId: text('wa_id'),
		name: text('name'),
		email: text('email'),
		/** Any CSV column kept as a custom attribute, usable as a template variable. */
		attributes: jsonb('attributes').$type<Record<string, string>>().notNull().default({}),
		tags: text('tags').array().notNull().default([]),
		optedOutAt: timestamp('opted_out_at', { withTimezone: true }),
		optOutSource: optOutSourceEnum('opt_out_source'),
		/**
		 * Lower-cased name, email, phone digits and attribute values for the trigram search index.
		 * Null until filled: bulk imports leave it null (indexing a million rows inline would cost
		 * more than the import) and the `index_contact_search` job fills it right after the commit;
		 * searches read null rows through `contacts_search_pending_idx`, so they still find them.
		 */
		searchText: text('search_text'),
		...timestamps,
	},
	(t) => [
		// Partial: imported contacts have no wa_id yet, and `wa_id = $1` lookups still use it.
		index('contacts_wa_id_idx')
			.on(t.waId)
			.where(sql`${t.waId} is not null`),
		index('contacts_search_trgm_idx')
			.using('gin', sql`${t.searchText} gin_trgm_ops`)
			.where(sql`${t.searchText} is not null`),
		index('contacts_search_pending_idx')
			.on(t.id)
			.where(sql`${t.searchText} is null`),
		// Partial: imports without tags (the common case) then cost the index nothing. Queries add
		// `tags <> '{}'` so the planner can use it.
		index('contacts_tags_idx')
			.using('gin', t.tags)
			.where(sql`${t.tags} <> '{}'`),
		index('contacts_opted_out_idx')
			.on(t.id)
			.where(sql`${t.optedOutAt} is not null`),
	],
)

export const contactNotes = pgTable(
	'contact_notes',
	{
		id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
		contactId: bigint('contact_id', { mode: 'number' })
			.notNull()
			.references(() => contacts.id, { onDelete: 'cascade' }),
		authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
		body: text('body').notNull(),
		...timestamps,
	},
	(t) => [
		index('contact_notes_contact_id_idx').on(t.contactId),
		index('contact_notes_author_id_idx').on(t.authorId),
	],
)
