import { and, desc, eq, sql as dsql, type SQL } from 'drizzle-orm'
import { recordAudit } from '#app/lib/audit.server'
import { listCallsForContact } from '#app/lib/calls/calls.server'
import { csvLine } from '#app/lib/csv/neutralise'
import { db, type Executor } from '#db/client'
import {
	broadcastRecipients,
	broadcasts,
	contactNotes,
	contacts,
	conversations,
	imports,
	messages,
	users,
} from '#db/schema/index'
import type { ContactFilter } from './filters'
import { maskPhone } from './mask'
import { foldSearchText, SEARCH_TEXT_SQL } from './search-index.server'

export const PAGE_SIZE = 50

/**
 * The WHERE clause of a filter. Search matches a substring of name, email, phone digits or any
 * attribute value through the trigram index on `search_text`; rows not indexed yet (fresh from an
 * import) are matched on the fly through the partial index that lists them, so they are never missed.
 * A query that looks like a phone number searches its digits.
 */
export function filterWhere(filter: ContactFilter): SQL | undefined {
	const parts: SQL[] = []
	if (filter.q) {
		const digits = filter.q.replace(/\D/g, '')
		const phoneLike = /^[+\d\s().-]+$/.test(filter.q) && digits.length >= 3
		const needle = phoneLike ? digits : foldSearchText(filter.q)
		const pattern = `%${needle.replace(/[\\%_]/g, (char) => `\\${char}`)}%`
		parts.push(
			dsql`(${contacts.searchText} like ${pattern} or (${contacts.searchText} is null and ${dsql.raw(SEARCH_TEXT_SQL)} like ${pattern}))`,
		)
	}
	if (filter.tag)
		parts.push(dsql`${contacts.tags} <> '{}' and ${contacts.tags} @> array[${filter.tag}]::text[]`)
	if (filter.optOut === 'opted_out') parts.push(dsql`${contacts.optedOutAt} is not null`)
	if (filter.optOut === 'subscribed') parts.push(dsql`${contacts.optedOutAt} is null`)
	return parts.length ? and(...parts) : undefined
}

export type ContactListItem = {
	id: number
	phoneE164: string
	name: string | null
	email: string | null
	tags: string[]
	optedOutAt: Date | null
	createdAt: Date
}

/** One page, newest first, by keyset (`before` = the last id of the previous page): as fast on page 1,000 as on page 1. */
export async function listContacts(
	filter: ContactFilter,
	{ before, limit = PAGE_SIZE }: { before?: number; limit?: number } = {},
) {
	const where = and(filterWhere(filter), before ? dsql`${contacts.id} < ${before}` : undefined)
	const page = (executor: Executor, intersect: boolean): Promise<ContactListItem[]> =>
		executor
			.select({
				id: contacts.id,
				phoneE164: contacts.phoneE164,
				name: contacts.name,
				email: contacts.email,
				tags: contacts.tags,
				optedOutAt: contacts.optedOutAt,
				createdAt: contacts.createdAt,
			})
			.from(contacts)
			.where(where)
			// `id + 0` hides the primary key's order from the planner, so it intersects the indexes first.
			.orderBy(intersect ? dsql`${contacts.id} + 0 desc` : desc(contacts.id))
			.limit(limit + 1)
	let rows: ContactListItem[]
	if (filter.q && filter.tag) {
		// Search and tag together: the planner multiplies their selectivities and walks the primary
		// key backwards expecting an early match — fast when the two often meet, a full scan when they
		// rarely do; intersecting both indexes is the reverse. Try the walk for 20 ms, then intersect.
		rows = await db.transaction(async (tx) => {
			await tx.execute(dsql`set local statement_timeout = 20`)
			try {
				return await tx.transaction((attempt) => page(attempt, false))
			} catch (error) {
				if (!isStatementTimeout(error)) throw error
				await tx.execute(dsql`set local statement_timeout = 0`)
				return page(tx, true)
			}
		})
	} else {
		rows = await page(db, false)
	}
	return {
		contacts: rows.slice(0, limit),
		nextBefore: rows.length > limit ? rows[limit - 1].id : undefined,
	}
}

function isStatementTimeout(error: unknown) {
	const { code, cause } = error as { code?: string; cause?: { code?: string } }
	return code === '57014' || cause?.code === '57014'
}

/** Tags offered in the filter: the ones imports added (reading every contact's tags would be slow). */
export async function knownTags() {
	const rows = await db.execute<{ tag: string }>(
		dsql`select distinct jsonb_array_elements_text(${imports.options}->'tags') as tag from ${imports} order by 1 limit 200`,
	)
	return [...rows].map((row) => row.tag)
}

export async function getContact(id: number) {
	const [contact] = await db.select().from(contacts).where(eq(contacts.id, id))
	if (!contact) return undefined
	const [notes, received, recentMessages] = await Promise.all([
		db
			.select({
				id: contactNotes.id,
				body: contactNotes.body,
				createdAt: contactNotes.createdAt,
				updatedAt: contactNotes.updatedAt,
				authorName: users.name,
				authorId: contactNotes.authorId,
			})
			.from(contactNotes)
			.leftJoin(users, eq(users.id, contactNotes.authorId))
			.where(eq(contactNotes.contactId, id))
			.orderBy(desc(contactNotes.createdAt)),
		db
			.select({
				broadcastId: broadcasts.id,
				name: broadcasts.name,
				state: broadcastRecipients.state,
				skipReason: broadcastRecipients.skipReason,
				errorTitle: broadcastRecipients.errorTitle,
				sentAt: broadcastRecipients.sentAt,
				deliveredAt: broadcastRecipients.deliveredAt,
				readAt: broadcastRecipients.readAt,
				repliedAt: broadcastRecipients.repliedAt,
			})
			.from(broadcastRecipients)
			.innerJoin(broadcasts, eq(broadcasts.id, broadcastRecipients.broadcastId))
			.where(eq(broadcastRecipients.contactId, id))
			.orderBy(desc(broadcastRecipients.id))
			.limit(50),
		db
			.select({
				id: messages.id,
				direction: messages.direction,
				type: messages.type,
				body: messages.body,
				status: messages.status,
				occurredAt: messages.occurredAt,
				conversationId: messages.conversationId,
			})
			.from(messages)
			.innerJoin(conversations, eq(conversations.id, messages.conversationId))
			.where(eq(conversations.contactId, id))
			.orderBy(desc(messages.occurredAt))
			.limit(50),
	])
	return {
		contact,
		notes,
		broadcasts: received,
		messages: recentMessages,
		calls: await listCallsForContact(id),
	}
}

/** Manual opt-out or opt-in, recorded in the audit log. Returns false when nothing changed. */
export async function setOptOut(input: { contactId: number; optedOut: boolean; actorId: string }) {
	return db.transaction(async (tx) => {
		const [row] = await tx
			.update(contacts)
			.set(
				input.optedOut
					? { optedOutAt: new Date(), optOutSource: 'manual', updatedAt: new Date() }
					: { optedOutAt: null, optOutSource: null, updatedAt: new Date() },
			)
			.where(
				and(
					eq(contacts.id, input.contactId),
					input.optedOut
						? dsql`${contacts.optedOutAt} is null`
						: dsql`${contacts.optedOutAt} is not null`,
				),
			)
			.returning({ id: contacts.id })
		if (!row) return false
		await recordAudit(tx, {
			actorId: input.actorId,
			action: input.optedOut ? 'contact.opt_out' : 'contact.opt_in',
			objectType: 'contact',
			objectId: input.contactId,
		})
		return true
	})
}

export async function addNote(input: { contactId: number; body: string; authorId: string }) {
	return db.transaction(async (tx) => {
		const [note] = await tx
			.insert(contactNotes)
			.values({ contactId: input.contactId, body: input.body, authorId: input.authorId })
			.returning()
		await recordAudit(tx, {
			actorId: input.authorId,
			action: 'contact.note_add',
			objectType: 'contact',
			objectId: input.contactId,
			details: { noteId: note.id },
		})
		return note
	})
}

export async function updateNote(input: {
	contactId: number
	noteId: number
	body: string
	actorId: string
}) {
	return db.transaction(async (tx) => {
		const [note] = await tx
			.update(contactNotes)
			.set({ body: input.body, updatedAt: new Date() })
			.where(and(eq(contactNotes.id, input.noteId), eq(contactNotes.contactId, input.contactId)))
			.returning()
		if (note)
			await recordAudit(tx, {
				actorId: input.actorId,
				action: 'contact.note_edit',
				objectType: 'contact',
				objectId: input.contactId,
				details: { noteId: note.id },
			})
		return note
	})
}

export async function deleteNote(input: { contactId: number; noteId: number; actorId: string }) {
	return db.transaction(async (tx) => {
		const [note] = await tx
			.delete(contactNotes)
			.where(and(eq(contactNotes.id, input.noteId), eq(contactNotes.contactId, input.contactId)))
			.returning({ id: contactNotes.id })
		if (note)
			await recordAudit(tx, {
				actorId: input.actorId,
				action: 'contact.note_delete',
				objectType: 'contact',
				objectId: input.contactId,
				details: { noteId: note.id },
			})
		return Boolean(note)
	})
}

/** Adds or removes a tag on every contact matching the filter, in one statement; audited with the filter and count. */
export async function bulkTag(input: {
	filter: ContactFilter
	tag: string
	mode: 'add' | 'remove'
	actorId: string
}) {
	return db.transaction(async (tx) => {
		const condition =
			input.mode === 'add'
				? dsql`not (${contacts.tags} @> array[${input.tag}]::text[])`
				: dsql`${contacts.tags} <> '{}' and ${contacts.tags} @> array[${input.tag}]::text[]`
		const rows = await tx
			.update(contacts)
			.set({
				tags:
					input.mode === 'add'
						? dsql`array_append(${contacts.tags}, ${input.tag}::text)`
						: dsql`array_remove(${contacts.tags}, ${input.tag}::text)`,
				updatedAt: new Date(),
			})
			.where(and(filterWhere(input.filter), condition))
			.returning({ id: contacts.id })
		await recordAudit(tx, {
			actorId: input.actorId,
			action: input.mode === 'add' ? 'contact.bulk_tag' : 'contact.bulk_untag',
			objectType: 'contact',
			details: { tag: input.tag, filter: input.filter, count: rows.length },
		})
		return rows.length
	})
}

const EXPORT_PAGE = 5000

/**
 * The filtered contacts as CSV, streamed page by page (keyset), every cell neutralised against
 * formula injection. Attribute columns are the union of keys seen in the first page, plus any later ones
 * folded into an "attributes" JSON column so no value is lost. `maskPhones` for analysts.
 */
export async function* exportContactsCsv(
	filter: ContactFilter,
	{ maskPhones = false }: { maskPhones?: boolean } = {},
): AsyncGenerator<string> {
	let before: number | undefined
	let keys: string[] | undefined
	for (;;) {
		const page = await db
			.select({
				id: contacts.id,
				phoneE164: contacts.phoneE164,
				name: contacts.name,
				email: contacts.email,
				tags: contacts.tags,
				attributes: contacts.attributes,
				optedOutAt: contacts.optedOutAt,
				optOutSource: contacts.optOutSource,
				createdAt: contacts.createdAt,
			})
			.from(contacts)
			.where(and(filterWhere(filter), before ? dsql`${contacts.id} < ${before}` : undefined))
			.orderBy(desc(contacts.id))
			.limit(EXPORT_PAGE)
		if (!keys) {
			keys = [...new Set(page.flatMap((row) => Object.keys(row.attributes)))].sort()
			yield csvLine([
				'phone',
				'name',
				'email',
				'tags',
				'opted_out_at',
				'opt_out_source',
				'created_at',
				...keys,
				'other_attributes',
			])
		}
		if (page.length === 0) return
		let chunk = ''
		for (const row of page) {
			const known = keys
			const other = Object.fromEntries(
				Object.entries(row.attributes).filter(([key]) => !known.includes(key)),
			)
			chunk += csvLine([
				maskPhones ? maskPhone(row.phoneE164) : row.phoneE164,
				row.name,
				row.email,
				row.tags.join(', '),
				row.optedOutAt?.toISOString(),
				row.optOutSource,
				row.createdAt.toISOString(),
				...known.map((key) => row.attributes[key]),
				Object.keys(other).length ? JSON.stringify(other) : '',
			])
		}
		yield chunk
		if (page.length < EXPORT_PAGE) return
		before = page[page.length - 1].id
	}
}
