import { sql } from 'drizzle-orm'
import { recordAudit } from '#app/lib/audit.server'
import { enqueueJob } from '#app/lib/jobs/enqueue.server'
import {
	applyMessageStatus,
	recordInboundMessage,
	recordOutboundMessage,
	senderByPhoneNumberId,
	setConversationStatus,
	toE164,
	upsertContact,
	upsertConversation,
} from '#app/lib/inbox/store.server'
import { applyTemplateStatusUpdate } from '#app/lib/templates/templates.server'
import { db, type Executor } from '#db/client'
import {
	factsOf,
	optOutSourceOf,
	type ConversationFact,
	type Fact,
	type InboundFact,
	type OutboundFact,
	type PreferenceFact,
	type StatusFact,
} from './events'
import { PROCESS_JOB, PROCESS_QUEUE } from './ingest.server'
import { optOutKeywordSet } from './opt-out-keywords.server'

/**
 * Processing of stored webhook events. Statuses are applied to the ledger set-wise (one
 * statement per batch), so that a rank guard decides the result instead of arrival order:
 *
 *   pending (queued, sending, retry_wait, unknown) < sent < failed < delivered < read
 *
 * A status only ever raises a row's rank, so `failed` never overrides delivered or read, a
 * `read` with no `delivered` counts as both, and each timestamp keeps the earliest value seen.
 * Applying any subset of events, in any order, any number of times, gives the same row.
 */

const RANK = { sent: 10, failed: 15, delivered: 20, read: 30 } as const

type StoredRow = {
	id: number
	source: string
	eventType: string
	payload: unknown
	receivedAt: Date
}

/** What the statuses of one message amount to, folded before touching the row. */
type Fold = {
	rank: number
	state: keyof typeof RANK
	sentAt: Date | null
	deliveredAt: Date | null
	readAt: Date | null
	failedAt: Date | null
	errorCode: number | null
	errorTitle: string | null
	pricingCategory: string | null
	waId: string | null
}

function earliest(a: Date | null, b: Date) {
	return a && a <= b ? a : b
}

function fold(facts: StatusFact[]): Fold {
	const f: Fold = {
		rank: 0,
		state: 'sent',
		sentAt: null,
		deliveredAt: null,
		readAt: null,
		failedAt: null,
		errorCode: null,
		errorTitle: null,
		pricingCategory: null,
		waId: null,
	}
	for (const fact of facts) {
		if (RANK[fact.status] > f.rank) {
			f.rank = RANK[fact.status]
			f.state = fact.status
		}
		if (fact.status === 'failed') {
			// The latest failure wins (then the higher code), so the result does not depend on order.
			const later =
				!f.failedAt ||
				fact.at > f.failedAt ||
				(fact.at.getTime() === f.failedAt.getTime() && (fact.errorCode ?? -1) > (f.errorCode ?? -1))
			if (later) {
				f.failedAt = fact.at
				f.errorCode = fact.errorCode
				f.errorTitle = fact.errorTitle
			}
		} else {
			f.sentAt = earliest(f.sentAt, fact.at)
			if (fact.status !== 'sent') f.deliveredAt = earliest(f.deliveredAt, fact.at)
			if (fact.status === 'read') f.readAt = earliest(f.readAt, fact.at)
		}
		f.pricingCategory ??= fact.pricingCategory
		f.waId ??= fact.waId
	}
	return f
}

/** The message table keeps one status: the highest rank reached, with its error when failed. */
function messageStatusOf(facts: StatusFact[]) {
	const f = fold(facts)
	const failed = f.state === 'failed'
	return {
		status: f.state,
		errorCode: failed ? f.errorCode : null,
		errorTitle: failed ? f.errorTitle : null,
	}
}

function iso(value: Date | null) {
	return value ? value.toISOString() : null
}

const ROW_RANK = sql.raw(
	`(case r.state when 'sent' then 10 when 'failed' then 15 when 'delivered' then 20 when 'read' then 30 else 0 end)`,
)

/**
 * Applies delivery statuses to the ledger (and to outbound inbox messages). Rows are found by
 * wamid, else by the recipient id in `biz_opaque_callback_data` (adopting the wamid: the send's
 * result may not be recorded yet, or it was ambiguous). Returns the wamids that matched nothing,
 * whose events must wait for the message to appear.
 */
export async function applyStatusFacts(
	executor: Executor,
	facts: StatusFact[],
): Promise<Set<string>> {
	if (facts.length === 0) return new Set()
	const byWamid = new Map<string, StatusFact[]>()
	for (const fact of facts) {
		const list = byWamid.get(fact.wamid)
		if (list) list.push(fact)
		else byWamid.set(fact.wamid, [fact])
	}
	const wamids = [...byWamid.keys()]
	const known = await executor.execute<{ wamid: string }>(sql`
		select wamid from broadcast_recipients
		where wamid in (select jsonb_array_elements_text(${JSON.stringify(wamids)}::jsonb))
	`)
	const matched = new Set(known.map((row) => row.wamid))

	// A status naming a ledger row whose wamid is not recorded yet: adopt the wamid. One wamid per
	// row (the smallest, so that the choice does not depend on the order events came in).
	const adopt = new Map<number, string>()
	for (const [wamid, list] of byWamid) {
		if (matched.has(wamid)) continue
		const recipientId = list.find((f) => f.recipientId !== null)?.recipientId
		if (recipientId == null) continue
		const current = adopt.get(recipientId)
		if (!current || wamid < current) adopt.set(recipientId, wamid)
	}
	// Every row this batch may change, locked first and in id order, as every writer of a batch
	// of ledger rows does (the dispatcher's result writes too): overlapping rows taken in
	// different orders deadlock.
	if (matched.size > 0 || adopt.size > 0)
		await executor.execute(sql`
		select id from broadcast_recipients
		where wamid in (select jsonb_array_elements_text(${JSON.stringify([...matched])}::jsonb))
			or id in (select jsonb_array_elements_text(${JSON.stringify([...adopt.keys()])}::jsonb)::bigint)
		order by id
		for update
	`)
	if (adopt.size > 0) {
		const adopted = await executor.execute<{ wamid: string }>(sql`
			update broadcast_recipients r
			set wamid = v.wamid, updated_at = now()
			from jsonb_to_recordset(${JSON.stringify([...adopt].map(([id, wamid]) => ({ id, wamid })))}::jsonb)
				as v(id bigint, wamid text)
			where r.id = v.id and r.wamid is null and r.state <> 'skipped'
				and not exists (select 1 from broadcast_recipients x where x.wamid = v.wamid)
			returning r.wamid
		`)
		for (const row of adopted) matched.add(row.wamid)
	}

	const updates = [...byWamid]
		.filter(([wamid]) => matched.has(wamid))
		.map(([wamid, list]) => {
			const f = fold(list)
			return {
				wamid,
				rank: f.rank,
				state: f.state,
				sent_at: iso(f.sentAt),
				delivered_at: iso(f.deliveredAt),
				read_at: iso(f.readAt),
				failed_at: iso(f.failedAt),
				code: f.errorCode,
				title: f.errorTitle,
				pricing: f.pricingCategory,
				wa_id: f.waId,
			}
		})
	if (updates.length > 0) {
		// Every expression reads `r` itself, never a value read earlier: a row changed meanwhile by
		// the dispatcher is re-evaluated by PostgreSQL on its latest version.
		const newRank = sql`greatest(${ROW_RANK}, v.rank)`
		const takesFailure = sql`(v.rank = 15 and ${ROW_RANK} <= 15 and v.failed_at is not null
			and (r.state <> 'failed' or r.failed_at is null or v.failed_at > r.failed_at))`
		await executor.execute(sql`
			update broadcast_recipients r
			set state = (case when v.rank > ${ROW_RANK} then v.state else r.state::text end)::recipient_state,
				sent_at = case when v.sent_at is null then r.sent_at else least(r.sent_at, v.sent_at) end,
				delivered_at = case when v.delivered_at is null then r.delivered_at else least(r.delivered_at, v.delivered_at) end,
				read_at = case when v.read_at is null then r.read_at else least(r.read_at, v.read_at) end,
				failed_at = case when ${newRank} = 15 then (case when ${takesFailure} then v.failed_at else r.failed_at end)
					when ${newRank} > 15 or (${newRank} = 10 and r.state <> 'sent') then null else r.failed_at end,
				error_code = case when ${newRank} = 15 then (case when ${takesFailure} then v.code else r.error_code end)
					when ${newRank} > 15 or (${newRank} = 10 and r.state <> 'sent') then null else r.error_code end,
				error_title = case when ${newRank} = 15 then (case when ${takesFailure} then v.title else r.error_title end)
					when ${newRank} > 15 or (${newRank} = 10 and r.state <> 'sent') then null else r.error_title end,
				next_attempt_at = case when v.rank > ${ROW_RANK} then null else r.next_attempt_at end,
				pricing_category = coalesce(r.pricing_category, v.pricing),
				wa_id = coalesce(r.wa_id, v.wa_id),
				updated_at = now()
			from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as v(
				wamid text, rank int, state text, sent_at timestamptz, delivered_at timestamptz, read_at timestamptz,
				failed_at timestamptz, code int, title text, pricing text, wa_id text
			)
			where r.wamid = v.wamid and r.state <> 'skipped'
				and (
					v.rank > ${ROW_RANK}
					or (v.sent_at is not null and r.sent_at is distinct from least(r.sent_at, v.sent_at))
					or (v.delivered_at is not null and r.delivered_at is distinct from least(r.delivered_at, v.delivered_at))
					or (v.read_at is not null and r.read_at is distinct from least(r.read_at, v.read_at))
					or ${takesFailure}
					or (r.pricing_category is null and v.pricing is not null)
					or (r.wa_id is null and v.wa_id is not null)
				)
		`)
	}

	// Statuses of messages sent from the inbox.
	const rest = wamids.filter((wamid) => !matched.has(wamid))
	if (rest.length > 0) {
		const inbox = await executor.execute<{ wamid: string }>(sql`
			select wamid from messages
			where direction = 'outbound' and wamid in (select jsonb_array_elements_text(${JSON.stringify(rest)}::jsonb))
		`)
		for (const { wamid } of inbox) {
			matched.add(wamid)
			await applyMessageStatus(executor, { wamid, ...messageStatusOf(byWamid.get(wamid) ?? []) })
		}
	}
	return new Set(wamids.filter((wamid) => !matched.has(wamid)))
}

/** Reply attribution looks back this far for the broadcast message a reply answers. */
export const REPLY_WINDOW_HOURS = 72

async function recordReply(
	executor: Executor,
	fact: InboundFact,
	contactId: number,
	messageId: string | null,
) {
	const context =
		typeof (fact.message.context as { id?: unknown } | undefined)?.id === 'string'
			? (fact.message.context as { id: string }).id
			: null
	const at = fact.at.toISOString()
	const [answered] = context
		? await executor.execute<{ id: number }>(
				sql`select id from broadcast_recipients where wamid = ${context}`,
			)
		: []
	const [recent] = answered
		? [answered]
		: await executor.execute<{ id: number }>(sql`
				select id from broadcast_recipients
				where contact_id = ${contactId} and sent_at is not null
					and sent_at <= ${at}::timestamptz and sent_at > ${at}::timestamptz - make_interval(hours => ${REPLY_WINDOW_HOURS})
					and state in ('sent', 'delivered', 'read')
				order by sent_at desc
				limit 1
			`)
	if (!recent) return
	await executor.execute(sql`
		update broadcast_recipients set replied_at = ${at}::timestamptz, updated_at = now()
		where id = ${recent.id} and (replied_at is null or replied_at > ${at}::timestamptz)
	`)
	if (messageId) {
		await executor.execute(sql`
			update messages set broadcast_recipient_id = ${recent.id}
			where id = ${messageId}::uuid and broadcast_recipient_id is null
		`)
	}
}

async function optOut(
	executor: Executor,
	contactId: number,
	source: 'keyword' | 'button' | 'meta_preference',
	at: Date,
	details: Record<string, unknown>,
) {
	const changed = await executor.execute<{ id: number }>(sql`
		update contacts set opted_out_at = ${at.toISOString()}::timestamptz, opt_out_source = ${source}, updated_at = now()
		where id = ${contactId} and opted_out_at is null
		returning id
	`)
	if (changed.length > 0) {
		await recordAudit(executor, {
			actorId: null,
			action: 'contact.opt_out',
			objectType: 'contact',
			objectId: String(contactId),
			details: { source, ...details },
		})
	}
}

async function handleInbound(executor: Executor, fact: InboundFact, keywords: Set<string>) {
	if (!fact.phoneNumberId) throw new Error('The message names no business phone number id')
	if (!fact.from) throw new Error('The message names no sender number')
	const result = await recordInboundMessage(executor, {
		phoneNumberId: fact.phoneNumberId,
		from: fact.from,
		waId: fact.from.replace(/\D/g, ''),
		profileName: fact.profileName,
		kapsoConversationId: fact.kapsoConversationId,
		wamid: fact.wamid,
		type: fact.type,
		payload: fact.message,
		occurredAt: fact.at,
	})
	const [contact] = await executor.execute<{ id: number }>(
		sql`select contact_id as id from conversations where id = ${result.conversationId}::uuid`,
	)
	await recordReply(executor, fact, Number(contact.id), result.messageId)
	const source = optOutSourceOf(fact, keywords)
	if (source) await optOut(executor, Number(contact.id), source, fact.at, { wamid: fact.wamid })
}

async function handlePreference(executor: Executor, fact: PreferenceFact) {
	if (fact.value === 'stop') {
		const contactId = await upsertContact(executor, { phone: fact.waId, waId: fact.waId })
		await optOut(executor, contactId, 'meta_preference', fact.at, { category: fact.category })
		return
	}
	// Resuming only undoes a stop that came from Meta: a keyword, a button or a manual opt-out stands.
	const resumed = await executor.execute<{ id: number }>(sql`
		update contacts set opted_out_at = null, opt_out_source = null, updated_at = now()
		where (phone_e164 = ${toE164(fact.waId)} or wa_id = ${fact.waId})
			and opt_out_source = 'meta_preference' and opted_out_at <= ${fact.at.toISOString()}::timestamptz
		returning id
	`)
	for (const row of resumed) {
		await recordAudit(executor, {
			actorId: null,
			action: 'contact.opt_in',
			objectType: 'contact',
			objectId: String(row.id),
			details: { source: 'meta_preference', category: fact.category },
		})
	}
}

async function handleConversation(executor: Executor, fact: ConversationFact) {
	if (await setConversationStatus(executor, fact)) return
	if (fact.status === 'ended' || !fact.phoneNumberId || !fact.phone) return
	// A new Kapso conversation for a thread we hold: adopt its id. No thread is created here, so a
	// broadcast opening thousands of Kapso conversations does not fill the inbox (see ADR 008).
	const [thread] = await executor.execute<{ sender_id: string; contact_id: number }>(sql`
		select c.sender_id, c.contact_id from conversations c
		join senders s on s.id = c.sender_id
		join contacts k on k.id = c.contact_id
		where s.phone_number_id = ${fact.phoneNumberId} and k.phone_e164 = ${toE164(fact.phone)}
	`)
	if (!thread) return
	await upsertConversation(executor, {
		senderId: thread.sender_id,
		contactId: Number(thread.contact_id),
		kapsoConversationId: fact.kapsoConversationId,
		status: 'active',
		activeAt: fact.at,
	})
}

/**
 * Whether a send of ours to this contact may own the wamid without having recorded it yet (an
 * inbox reply or a ledger row still waiting for Kapso's answer): its events then wait, as for any
 * unknown wamid, instead of being stored as a second copy.
 */
async function ownSendInFlight(executor: Executor, senderId: string, phone: string) {
	const [row] = await executor.execute<{ found: boolean }>(sql`
		select exists (
			select 1 from messages m join conversations c on c.id = m.conversation_id join contacts k on k.id = c.contact_id
			where c.sender_id = ${senderId}::uuid and k.phone_e164 = ${phone} and m.direction = 'outbound'
				and m.wamid is null and m.status in ('sending', 'unknown')
		) or exists (
			select 1 from broadcast_recipients r join broadcasts b on b.id = r.broadcast_id
			where b.sender_id = ${senderId}::uuid and r.phone_e164 = ${phone}
				and r.wamid is null and r.state in ('sending', 'unknown')
		) as found
	`)
	return row.found
}

/**
 * Stores a message the business number sent outside Pregón, so that the inbox thread shows it.
 * Returns false when it may be one of ours still in flight (the event stays pending).
 */
async function handleOutsideOutbound(
	executor: Executor,
	fact: OutboundFact,
	statuses: StatusFact[],
) {
	// Without both numbers the message has no thread to go in; it waits like any unknown wamid.
	if (!fact.phoneNumberId || !fact.to) return false
	if (statuses.some((s) => s.recipientId !== null)) return false
	const sender = await senderByPhoneNumberId(executor, fact.phoneNumberId)
	if (!sender) return false
	const phone = toE164(fact.to)
	const outside = fact.origin === 'business_app' || fact.origin === 'history_sync'
	if (!outside && (await ownSendInFlight(executor, sender.id, phone))) return false
	const contactId = await upsertContact(executor, { phone })
	const conversationId = await upsertConversation(executor, {
		senderId: sender.id,
		contactId,
		kapsoConversationId: fact.kapsoConversationId,
	})
	await recordOutboundMessage(executor, {
		conversationId,
		wamid: fact.wamid,
		type: fact.type,
		payload: fact.message,
		...messageStatusOf(statuses),
		occurredAt: fact.at,
	})
	return true
}

type RowOutcome = { id: number; pendingWamid: string | null; error: string | null }

function errorText(error: unknown) {
	return (error instanceof Error ? error.message : String(error)).slice(0, 500)
}

/**
 * Processes stored rows in one transaction: statuses set-wise, every other fact on its own
 * savepoint so that one bad event is recorded (`error`) without holding back the rest.
 */
async function processRows(tx: Executor, rows: StoredRow[]): Promise<RowOutcome[]> {
	const factsByRow = new Map<number, Fact[]>()
	const outcomes = new Map<number, RowOutcome>()
	for (const row of rows) {
		outcomes.set(row.id, { id: row.id, pendingWamid: null, error: null })
		try {
			factsByRow.set(row.id, factsOf(row))
		} catch (error) {
			outcomes.get(row.id)!.error = errorText(error)
		}
	}
	const statuses = [...factsByRow.values()]
		.flat()
		.filter((f): f is StatusFact => f.kind === 'status')
	const unmatched = await applyStatusFacts(tx, statuses)
	const statusesOf = (wamid: string) => statuses.filter((f) => f.wamid === wamid)
	let keywords: Set<string> | undefined
	for (const row of rows) {
		const outcome = outcomes.get(row.id)!
		for (const fact of factsByRow.get(row.id) ?? []) {
			if (fact.kind === 'status') {
				if (unmatched.has(fact.wamid)) outcome.pendingWamid = fact.wamid
				continue
			}
			// Ours (ledger or inbox) when its statuses matched a row.
			if (fact.kind === 'outbound' && !unmatched.has(fact.wamid)) continue
			try {
				await tx.transaction(async (savepoint) => {
					if (fact.kind === 'inbound') {
						keywords ??= await optOutKeywordSet(savepoint)
						await handleInbound(savepoint, fact, keywords)
					} else if (fact.kind === 'preference') {
						await handlePreference(savepoint, fact)
					} else if (fact.kind === 'conversation') {
						await handleConversation(savepoint, fact)
					} else if (fact.kind === 'outbound') {
						if (await handleOutsideOutbound(savepoint, fact, statusesOf(fact.wamid))) {
							unmatched.delete(fact.wamid)
							if (outcome.pendingWamid === fact.wamid) outcome.pendingWamid = null
						}
					} else {
						await applyTemplateStatusUpdate(savepoint, fact.value, {
							wabaId: fact.wabaId ?? undefined,
						})
					}
				})
			} catch (error) {
				outcome.error = errorText(error)
			}
		}
	}
	return [...outcomes.values()]
}

async function markProcessed(tx: Executor, outcomes: RowOutcome[]) {
	if (outcomes.length === 0) return
	await tx.execute(sql`
		update webhook_events e
		set processed_at = now(), pending_wamid = v.pending_wamid, error = v.error
		from jsonb_to_recordset(${JSON.stringify(
			outcomes.map((o) => ({ id: o.id, pending_wamid: o.pendingWamid, error: o.error })),
		)}::jsonb) as v(id bigint, pending_wamid text, error text)
		where e.id = v.id
	`)
}

function toStoredRows(
	rows: Array<{
		id: number | string
		source: string
		event_type: string
		payload: unknown
		received_at: Date | string
	}>,
): StoredRow[] {
	return rows.map((row) => ({
		id: Number(row.id),
		source: row.source,
		eventType: row.event_type,
		payload: row.payload,
		receivedAt: new Date(row.received_at),
	}))
}

export type ProcessResult = { processed: number; pending: number; errors: number; more: boolean }

/**
 * Processes unprocessed events in arrival order, `batchSize` per transaction, for at most
 * `budgetMs`. `more` says rows were left for the next run. `recheckPending` also applies kept
 * events whose message has appeared since (the minute sweep does; the per-burst runs do not,
 * as the dispatcher hands its new wamids over itself).
 */
export async function processWebhookEvents(
	options: { batchSize?: number; budgetMs?: number; recheckPending?: boolean } = {},
): Promise<ProcessResult> {
	const batchSize = options.batchSize ?? 1000
	const deadline = Date.now() + (options.budgetMs ?? 30_000)
	const result: ProcessResult = { processed: 0, pending: 0, errors: 0, more: false }
	for (;;) {
		const count = await db.transaction(async (tx) => {
			const rows = await tx.execute<{
				id: string
				source: string
				event_type: string
				payload: unknown
				received_at: string
			}>(sql`
				select id, source, event_type, payload, received_at from webhook_events
				where processed_at is null
				order by id
				limit ${batchSize}
				for update skip locked
			`)
			if (rows.length === 0) return 0
			const outcomes = await processRows(tx, toStoredRows(rows))
			await markProcessed(tx, outcomes)
			result.pending += outcomes.filter((o) => o.pendingWamid).length
			result.errors += outcomes.filter((o) => o.error).length
			return rows.length
		})
		result.processed += count
		if (count < batchSize) break
		if (Date.now() > deadline) {
			result.more = true
			break
		}
	}
	if (options.recheckPending) await recheckPendingEvents()
	return result
}

/** Adds (or keeps) the one processing job. */
export async function enqueueWebhookProcessing(runAt?: Date, executor: Executor = db) {
	await enqueueJob(
		executor,
		PROCESS_JOB,
		{},
		{
			runAt,
			jobKey: PROCESS_JOB,
			jobKeyMode: 'preserve_run_at',
			queueName: PROCESS_QUEUE,
			maxAttempts: 25,
		},
	)
}

/**
 * Applies the events kept for these wamids (statuses that arrived before the message was
 * recorded). The sending engine calls it after it records wamids; the processing job also
 * re-checks on its own. Returns how many events were applied.
 */
export async function applyPendingEventsForWamids(
	executor: Executor,
	wamids: string[],
): Promise<number> {
	if (wamids.length === 0) return 0
	const rows = await executor.execute<{
		id: string
		source: string
		event_type: string
		payload: unknown
		received_at: string
		pending_wamid: string
	}>(sql`
		select id, source, event_type, payload, received_at, pending_wamid from webhook_events
		where pending_wamid is not null
			and pending_wamid in (select jsonb_array_elements_text(${JSON.stringify(wamids)}::jsonb))
		order by id
		for update skip locked
	`)
	if (rows.length === 0) return 0
	const facts = toStoredRows(rows)
		.flatMap((row) => factsOf(row))
		.filter((f): f is StatusFact => f.kind === 'status')
	const unmatched = await applyStatusFacts(executor, facts)
	const applied = rows
		.filter((row) => !unmatched.has(row.pending_wamid))
		.map((row) => Number(row.id))
	if (applied.length > 0) {
		await executor.execute(sql`
			update webhook_events set pending_wamid = null
			where id in (select jsonb_array_elements_text(${JSON.stringify(applied)}::jsonb)::bigint)
		`)
	}
	return applied.length
}

/** Pending events are re-checked for this long; a message recorded later than that is not our send. */
export const PENDING_RECHECK_DAYS = 7

/** Finds kept events whose message has since been recorded, and applies them. */
export async function recheckPendingEvents() {
	const rows = await db.execute<{ wamid: string }>(sql`
		select distinct e.pending_wamid as wamid from webhook_events e
		where e.pending_wamid is not null
			and e.received_at > now() - make_interval(days => ${PENDING_RECHECK_DAYS})
			and (exists (select 1 from broadcast_recipients r where r.wamid = e.pending_wamid)
				or exists (select 1 from messages m where m.wamid = e.pending_wamid and m.direction = 'outbound'))
		limit 5000
	`)
	if (rows.length === 0) return 0
	return db.transaction((tx) =>
		applyPendingEventsForWamids(
			tx,
			rows.map((r) => r.wamid),
		),
	)
}
