import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm'
import { z } from 'zod'
import { db } from '#db/client'
import { calls, contacts, senders } from '#db/schema/index'
import { getKapsoPlatform, type CallInfo, type KapsoPlatform } from '#app/lib/kapso/platform.server'

/** Calls that may still change (ringing, ongoing) are re-read for this long after they start. */
const OVERLAP_MS = 24 * 60 * 60 * 1000
/** The first import of a number reaches this far back. */
const FIRST_IMPORT_DAYS = 30
const MAX_PAGES = 50

export type CallImportOutcome = {
	senderId: string
	ok: boolean
	/** Calls read from Kapso (new and already known). */
	read: number
	inserted: number
	error: string | null
}

function toRow(senderId: string, call: CallInfo) {
	return {
		senderId,
		kapsoCallId: call.id,
		waId: call.waId,
		direction: call.direction,
		status: call.status,
		durationSeconds: call.durationSeconds,
		startedAt: call.startedAt,
		endedAt: call.endedAt,
		kapsoConversationId: call.conversationId,
		raw: call.raw,
	}
}

/**
 * Imports a number's calls from Kapso. Idempotent: a call already stored is updated in place
 * (its status or duration may have changed), never duplicated, so overlapping or repeated runs
 * are harmless. Each run starts a day before the newest stored call.
 */
export async function importCallsForSender(
	senderId: string,
	options: { platform?: KapsoPlatform } = {},
): Promise<CallImportOutcome | null> {
	const platform = options.platform ?? getKapsoPlatform()
	const [sender] = await db.select().from(senders).where(eq(senders.id, senderId))
	if (!sender) return null
	const [newest] = await db
		.select({ startedAt: sql<Date | null>`max(${calls.startedAt})` })
		.from(calls)
		.where(eq(calls.senderId, senderId))
	const newestAt = newest?.startedAt ? new Date(newest.startedAt) : null
	const since = newestAt
		? new Date(newestAt.getTime() - OVERLAP_MS)
		: new Date(Date.now() - FIRST_IMPORT_DAYS * OVERLAP_MS)

	let read = 0
	let inserted = 0
	let after: string | null = null
	for (let page = 0; page < MAX_PAGES; page++) {
		const result = await platform.listCalls({ phoneNumberId: sender.phoneNumberId, since, after })
		if (!result.ok) return { senderId, ok: false, read, inserted, error: result.title }
		read += result.items.length
		if (result.items.length > 0) {
			const rows = await db
				.insert(calls)
				.values(result.items.map((call) => toRow(senderId, call)))
				.onConflictDoUpdate({
					target: [calls.senderId, calls.kapsoCallId],
					set: {
						status: sql`excluded.status`,
						durationSeconds: sql`excluded.duration_seconds`,
						endedAt: sql`excluded.ended_at`,
						kapsoConversationId: sql`coalesce(excluded.kapso_conversation_id, ${calls.kapsoConversationId})`,
						raw: sql`excluded.raw`,
						updatedAt: sql`now()`,
					},
				})
				.returning({ inserted: sql<boolean>`xmax = 0` })
			inserted += rows.filter((row) => row.inserted).length
		}
		after = result.nextCursor
		if (!after) break
	}
	await linkCallsToContacts(senderId)
	return { senderId, ok: true, read, inserted, error: null }
}

/** Fills `contact_id` for calls whose number matches a contact (also ones imported earlier). */
async function linkCallsToContacts(senderId: string) {
	await db.execute(sql`
		update calls set contact_id = c.id, updated_at = now()
		from contacts c
		where calls.sender_id = ${senderId}::uuid
			and calls.contact_id is null
			and calls.wa_id is not null
			and (c.phone_e164 = '+' || calls.wa_id or c.wa_id = calls.wa_id)
	`)
}

export async function importCallsForAllSenders(options: { platform?: KapsoPlatform } = {}) {
	const all = await db.select({ id: senders.id }).from(senders)
	const outcomes: CallImportOutcome[] = []
	for (const sender of all) {
		const outcome = await importCallsForSender(sender.id, options)
		if (outcome) outcomes.push(outcome)
	}
	return outcomes
}

export const CallFiltersSchema = z.object({
	senderId: z.uuid().optional().catch(undefined),
	direction: z.enum(['inbound', 'outbound']).optional().catch(undefined),
	/** Keyset paging: calls that started before this instant. */
	before: z.coerce.date().optional().catch(undefined),
})
export type CallFilters = z.infer<typeof CallFiltersSchema>

const PAGE_SIZE = 50

const callColumns = {
	id: calls.id,
	senderId: calls.senderId,
	senderNumber: senders.displayNumber,
	senderName: senders.name,
	contactId: calls.contactId,
	contactName: contacts.name,
	contactPhone: contacts.phoneE164,
	waId: calls.waId,
	direction: calls.direction,
	status: calls.status,
	durationSeconds: calls.durationSeconds,
	startedAt: calls.startedAt,
}

export type CallRow = {
	id: string
	senderId: string
	senderNumber: string
	senderName: string
	contactId: number | null
	contactName: string | null
	contactPhone: string | null
	waId: string | null
	direction: 'inbound' | 'outbound' | null
	status: string | null
	durationSeconds: number | null
	startedAt: Date | null
}

/** The Calls page: newest first, optionally by number and direction, 50 at a time. */
export async function listCalls(filters: CallFilters = {}) {
	const rows: CallRow[] = await db
		.select(callColumns)
		.from(calls)
		.innerJoin(senders, eq(senders.id, calls.senderId))
		.leftJoin(contacts, eq(contacts.id, calls.contactId))
		.where(
			and(
				filters.senderId ? eq(calls.senderId, filters.senderId) : undefined,
				filters.direction ? eq(calls.direction, filters.direction) : undefined,
				filters.before ? lt(calls.startedAt, filters.before) : undefined,
			),
		)
		.orderBy(sql`${calls.startedAt} desc nulls last`, desc(calls.id))
		.limit(PAGE_SIZE + 1)
	const page = rows.slice(0, PAGE_SIZE)
	const last = page[page.length - 1]
	return {
		calls: page,
		nextBefore: rows.length > PAGE_SIZE && last?.startedAt ? last.startedAt.toISOString() : null,
	}
}

/**
 * The calls of one contact, newest first: those linked on import and those from its number that
 * were imported before the contact existed.
 */
export async function listCallsForContact(contactId: number, limit = 50): Promise<CallRow[]> {
	const [contact] = await db
		.select({ phoneE164: contacts.phoneE164, waId: contacts.waId })
		.from(contacts)
		.where(eq(contacts.id, contactId))
	if (!contact) return []
	const digits = contact.phoneE164.replace(/\D/g, '')
	return db
		.select(callColumns)
		.from(calls)
		.innerJoin(senders, eq(senders.id, calls.senderId))
		.leftJoin(contacts, eq(contacts.id, calls.contactId))
		.where(
			or(
				eq(calls.contactId, contactId),
				and(
					isNull(calls.contactId),
					or(eq(calls.waId, digits), contact.waId ? eq(calls.waId, contact.waId) : undefined),
				),
			),
		)
		.orderBy(sql`${calls.startedAt} desc nulls last`, desc(calls.id))
		.limit(limit)
}
