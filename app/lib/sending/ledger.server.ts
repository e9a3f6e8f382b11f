import { applyPendingEventsForWamids } from '#app/lib/webhooks/process.server'
import { db, sql } from '#db/client'
import type { Outcome } from './outcome'

// PostgreSQL type oids for typed array parameters.
const INT4 = 23
const INT8 = 20
const TEXT = 25
const UUID = 2950

export type ClaimedRow = {
	id: number
	attemptId: string
	phoneE164: string
	variables: Record<string, string>
	attempts: number
}

/**
 * Claims up to `limit` rows due for a send — rows waiting to retry first, then queued rows in id
 * order — and commits the claim (`sending`, a new `attempt_id`) before any call is made.
 * SKIP LOCKED lets several dispatchers claim from one broadcast without waiting on each other.
 */
export async function claimRows(
	broadcastId: string,
	limit: number,
	poolId: string | null,
): Promise<ClaimedRow[]> {
	if (limit <= 0) return []
	const rows = await sql<
		Array<{
			id: string
			attempt_id: string
			phone_e164: string
			variables: Record<string, string>
			attempts: number
		}>
	>`
		with due as (
			select id from broadcast_recipients
			where broadcast_id = ${broadcastId}::uuid and state = 'retry_wait' and next_attempt_at <= now()
			order by next_attempt_at
			limit ${limit}
			for update skip locked
		), queued as (
			select id from broadcast_recipients
			where broadcast_id = ${broadcastId}::uuid and state = 'queued'
			order by id
			limit ${limit}
			for update skip locked
		), picked as (
			select id from (
				select id, 0 as priority from due
				union all
				select id, 1 as priority from queued
			) candidates
			order by priority, id
			limit ${limit}
		)
		update broadcast_recipients r
		set state = 'sending', attempt_id = gen_random_uuid(), attempts = r.attempts + 1,
			claimed_at = now(), claimed_by = ${poolId}, next_attempt_at = null, updated_at = now()
		from picked
		where r.id = picked.id
		returning r.id, r.attempt_id, r.phone_e164, r.variables, r.attempts
	`
	return rows
		.map((row) => ({
			id: Number(row.id),
			attemptId: row.attempt_id,
			phoneE164: row.phone_e164,
			variables: row.variables,
			attempts: row.attempts,
		}))
		.sort((a, b) => a.id - b.id)
}

/**
 * Gives back claimed rows that were never sent (a pause, a stop, the end of a slice). They go
 * back to queued, or to skipped when the broadcast was cancelled meanwhile.
 */
export async function releaseRows(broadcastId: string, rows: ClaimedRow[]) {
	if (rows.length === 0) return 0
	const result = await sql`
		update broadcast_recipients r
		set state = (case when b.status = 'cancelled' then 'skipped' else 'queued' end)::recipient_state,
			skip_reason = case when b.status = 'cancelled' then 'cancelled' end,
			attempts = r.attempts - 1, attempt_id = null, claimed_at = null, claimed_by = null, updated_at = now()
		from broadcasts b, unnest(${sql.array(
			rows.map((r) => r.id),
			INT8,
		)}::bigint[], ${sql.array(
			rows.map((r) => r.attemptId),
			UUID,
		)}::uuid[]) as v(id, attempt_id)
		where b.id = ${broadcastId}::uuid and r.id = v.id and r.attempt_id = v.attempt_id and r.state = 'sending'
	`
	return result.count
}

export type Result = { row: ClaimedRow; outcome: Outcome; at: Date }

/**
 * Writes a batch of send results in one statement. Each row is only touched if it still carries
 * the attempt that was sent (`attempt_id`) and its outcome is still open (`sending`, or `unknown`
 * after a crash sweep), so a stale or duplicate attempt can never overwrite a newer one.
 * A 131050 (the person stopped marketing messages on WhatsApp) opts the contact out. Status
 * webhooks that arrived before their wamid was recorded are applied at once.
 * Returns the ids that were written.
 */
export async function writeResults(results: Result[]): Promise<Set<number>> {
	if (results.length === 0) return new Set()
	const ids: number[] = []
	const attemptIds: string[] = []
	const states: string[] = []
	const wamids: Array<string | null> = []
	const waIds: Array<string | null> = []
	const codes: Array<number | null> = []
	const titles: Array<string | null> = []
	const nextAt: Array<string | null> = []
	const at: string[] = []
	// Locked in id order, as every writer of a batch of ledger rows does (webhook statuses too):
	// two writers that take overlapping rows in different orders deadlock.
	const ordered = [...results].sort((a, b) => a.row.id - b.row.id)
	for (const { row, outcome, at: when } of ordered) {
		ids.push(row.id)
		attemptIds.push(row.attemptId)
		// A halted row goes back to the queue: the broadcast pauses and it is sent on resume.
		states.push(outcome.state === 'halt' ? 'queued' : outcome.state)
		wamids.push(outcome.state === 'sent' ? outcome.wamid : null)
		waIds.push(outcome.state === 'sent' ? outcome.waId : null)
		codes.push(outcome.state === 'sent' ? null : outcome.code)
		titles.push(outcome.state === 'sent' ? null : outcome.title)
		nextAt.push(
			outcome.state === 'retry_wait'
				? new Date(when.getTime() + outcome.delayMs).toISOString()
				: null,
		)
		at.push(when.toISOString())
	}
	const written = await sql<Array<{ id: string; wamid: string | null }>>`
		with locked as (
			select id from broadcast_recipients
			where id = any(${sql.array(ids, INT8)}::bigint[])
			order by id
			for update
		), written as (
		update broadcast_recipients r
		set state = v.state::recipient_state,
			wamid = coalesce(v.wamid, r.wamid),
			wa_id = coalesce(v.wa_id, r.wa_id),
			sent_at = case when v.state = 'sent' then v.at else r.sent_at end,
			failed_at = case when v.state = 'failed' then v.at else r.failed_at end,
			error_code = case when v.state = 'sent' then null else v.code end,
			error_title = case when v.state = 'sent' then null else v.title end,
			next_attempt_at = v.next_at,
			attempts = case when v.state = 'queued' then r.attempts - 1 else r.attempts end,
			updated_at = now()
		from unnest(
			${sql.array(ids, INT8)}::bigint[], ${sql.array(attemptIds, UUID)}::uuid[],
			${sql.array(states, TEXT)}::text[], ${sql.array(wamids, TEXT)}::text[], ${sql.array(waIds, TEXT)}::text[],
			${sql.array(codes, INT4)}::int[], ${sql.array(titles, TEXT)}::text[],
			${sql.array(nextAt, TEXT)}::timestamptz[], ${sql.array(at, TEXT)}::timestamptz[]
		) as v(id, attempt_id, state, wamid, wa_id, code, title, next_at, at)
		where r.id = v.id and r.id in (select id from locked)
			and r.attempt_id = v.attempt_id and r.state in ('sending', 'unknown')
		returning r.id, r.contact_id, v.state, v.code, v.at, case when v.state = 'sent' then v.wamid end as wamid
		), opted_out as (
			update contacts c
			set opted_out_at = w.at, opt_out_source = 'meta_preference', updated_at = now()
			from written w
			where w.state = 'failed' and w.code = 131050 and c.id = w.contact_id and c.opted_out_at is null
		)
		select id, wamid from written
	`
	const recorded = written.flatMap((row) => (row.wamid ? [row.wamid] : []))
	if (recorded.length > 0) await applyEarlyStatuses(recorded)
	return new Set(written.map((row) => Number(row.id)))
}

/**
 * Applies status webhooks kept for these freshly recorded wamids. A failure here loses nothing:
 * the minute sweep re-checks kept events, so it must not fail the write it follows.
 */
export async function applyEarlyStatuses(wamids: string[]) {
	await db
		.transaction((tx) => applyPendingEventsForWamids(tx, wamids))
		.catch((error: unknown) => {
			console.error('applying early status webhooks failed', error)
		})
}

/** Rows whose outcome is still open: not every recipient has a final state yet. */
export async function openRowSummary(broadcastId: string) {
	const [row] = await sql<
		Array<{ queued: boolean; sending: boolean; unknown: boolean; next_retry_in_ms: number | null }>
	>`
		select
			exists(select 1 from broadcast_recipients where broadcast_id = ${broadcastId}::uuid and state = 'queued') as queued,
			exists(select 1 from broadcast_recipients where broadcast_id = ${broadcastId}::uuid and state = 'sending') as sending,
			exists(select 1 from broadcast_recipients where broadcast_id = ${broadcastId}::uuid and state = 'unknown') as unknown,
			-- greatest() ignores nulls, so no retry rows must stay null explicitly.
			(select case when min(next_attempt_at) is null then null
				else greatest(0, extract(epoch from min(next_attempt_at) - now()) * 1000)::float8 end
				from broadcast_recipients where broadcast_id = ${broadcastId}::uuid and state = 'retry_wait') as next_retry_in_ms
	`
	return {
		queued: row.queued,
		sending: row.sending,
		unknown: row.unknown,
		nextRetryInMs: row.next_retry_in_ms,
		done: !row.queued && !row.sending && !row.unknown && row.next_retry_in_ms == null,
	}
}

/** Marks a sending broadcast completed when no recipient's outcome is open any more. */
export async function completeIfDone(broadcastId: string) {
	const result = await sql`
		update broadcasts set status = 'completed', completed_at = now(), status_reason = null, updated_at = now()
		where id = ${broadcastId}::uuid and status = 'sending'
			and not exists (
				select 1 from broadcast_recipients
				where broadcast_id = ${broadcastId}::uuid and state in ('queued', 'sending', 'retry_wait', 'unknown')
			)
	`
	return result.count > 0
}
