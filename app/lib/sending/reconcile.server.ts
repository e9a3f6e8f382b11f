import { getKapsoGateway } from '#app/lib/kapso/gateway.server'
import type { MessageInfo } from '#app/lib/kapso/types'
import { enqueueDispatch } from '#app/lib/broadcasts/broadcasts.server'
import { db, sql } from '#db/client'
import { applyEarlyStatuses, completeIfDone } from './ledger.server'
import { callbackData } from './outcome'

export type ReconcileOptions = {
	/** Rows younger than this are left alone (a status webhook may still name them). */
	minAgeMs?: number
	/** A row is proven absent only when the lookup finds nothing this long after the claim. */
	absentAfterMs?: number
	limit?: number
	concurrency?: number
	/** Only this broadcast's rows (a "check now" from its page). */
	broadcastId?: string
}

type UnknownRow = {
	id: string
	attempt_id: string | null
	broadcast_id: string
	phone_e164: string
	claimed_ms: number | null
	phone_number_id: string
	template_name: string
	broadcast_status: string
}

/** Clock skew allowed between our claim time and the provider's message timestamp. */
const SKEW_MS = 60_000

function mentions(message: MessageInfo, value: string) {
	return JSON.stringify(message.raw).includes(value)
}

/**
 * Settles `unknown` rows (a call whose outcome was lost) without ever re-sending blindly: the
 * provider's history is searched for an outbound message of this template to this recipient
 * since the claim. Found → the row adopts its wamid (sent). Not found, by a lookup that worked,
 * long enough after the claim → provably absent: the row is queued again (skipped if the
 * broadcast was cancelled). The lookup failed → the row stays unknown for the next run.
 */
export async function reconcileUnknown(options: ReconcileOptions = {}) {
	const minAgeMs = options.minAgeMs ?? 30_000
	const absentAfterMs = options.absentAfterMs ?? 2 * 60_000
	const rows = await sql<UnknownRow[]>`
		select r.id, r.attempt_id, r.broadcast_id, r.phone_e164,
			(extract(epoch from r.claimed_at) * 1000)::float8 as claimed_ms,
			s.phone_number_id, t.name as template_name, b.status as broadcast_status
		from broadcast_recipients r
		join broadcasts b on b.id = r.broadcast_id
		join senders s on s.id = b.sender_id
		join templates t on t.id = b.template_id
		where r.state = 'unknown'
			and (${options.broadcastId ?? null}::uuid is null or r.broadcast_id = ${options.broadcastId ?? null}::uuid)
			and (r.claimed_at is null or r.claimed_at < now() - make_interval(secs => ${minAgeMs / 1000}))
		order by r.claimed_at
		limit ${options.limit ?? 1000}
	`
	const gateway = getKapsoGateway()
	const summary = { checked: rows.length, adopted: 0, requeued: 0, held: 0 }
	const touched = new Set<string>()
	const requeuedIn = new Set<string>()
	let next = 0
	const worker = async () => {
		while (next < rows.length) {
			const row = rows[next++]
			const since = row.claimed_ms != null ? new Date(row.claimed_ms - SKEW_MS) : undefined
			const found = await gateway.lookupMessages({
				phoneNumberId: row.phone_number_id,
				recipient: row.phone_e164,
				since,
			})
			if (!found.ok) {
				summary.held++
				continue
			}
			const tag = row.attempt_id ? callbackData(Number(row.id), row.attempt_id) : null
			const candidates = found.messages.filter(
				(m) =>
					m.direction !== 'inbound' &&
					(m.templateName == null || m.templateName === row.template_name),
			)
			const ours = await notInLedger(candidates.map((m) => m.wamid))
			const match =
				(tag && candidates.find((m) => ours.has(m.wamid) && mentions(m, tag))) ??
				candidates.find((m) => ours.has(m.wamid))
			if (match) {
				const adopted = await sql`
					update broadcast_recipients
					set state = 'sent', wamid = ${match.wamid}, sent_at = ${(match.timestamp ?? new Date()).toISOString()}::timestamptz,
						error_code = null, error_title = null, updated_at = now()
					where id = ${row.id} and state = 'unknown'
						and attempt_id is not distinct from ${row.attempt_id}::uuid
				`
				if (adopted.count > 0) {
					summary.adopted++
					touched.add(row.broadcast_id)
					await applyEarlyStatuses([match.wamid])
				}
				continue
			}
			const age = row.claimed_ms != null ? Date.now() - row.claimed_ms : Number.POSITIVE_INFINITY
			if (age < absentAfterMs) {
				summary.held++
				continue
			}
			const requeued = await sql`
				update broadcast_recipients r
				set state = (case when b.status = 'cancelled' then 'skipped' else 'queued' end)::recipient_state,
					skip_reason = case when b.status = 'cancelled' then 'cancelled' end,
					attempt_id = null, claimed_by = null, updated_at = now()
				from broadcasts b
				where b.id = r.broadcast_id and r.id = ${row.id} and r.state = 'unknown'
					and r.attempt_id is not distinct from ${row.attempt_id}::uuid
			`
			if (requeued.count > 0) {
				summary.requeued++
				touched.add(row.broadcast_id)
				if (row.broadcast_status === 'sending') requeuedIn.add(row.broadcast_id)
			}
		}
	}
	await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, rows.length) }, worker))
	for (const broadcastId of requeuedIn) await enqueueDispatch(db, broadcastId)
	for (const broadcastId of touched) await completeIfDone(broadcastId)
	return summary
}

/** The wamids no ledger row holds yet (one message is adopted by one row only). */
async function notInLedger(wamids: string[]) {
	if (wamids.length === 0) return new Set<string>()
	const taken = await sql<Array<{ wamid: string }>>`
		select wamid from broadcast_recipients where wamid = any(${sql.array(wamids, 25)}::text[])`
	const takenSet = new Set(taken.map((row) => row.wamid))
	return new Set(wamids.filter((wamid) => !takenSet.has(wamid)))
}
