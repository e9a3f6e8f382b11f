import { sql } from '#db/client'
import { currentSenderRate } from '#app/lib/sending/token-bucket.server'
import type { RecipientState } from '#db/schema/index'

const STATES: RecipientState[] = [
	'queued',
	'sending',
	'sent',
	'delivered',
	'read',
	'retry_wait',
	'unknown',
	'failed',
	'skipped',
]

/**
 * Live progress of a broadcast: counts per state (from the trigger-kept counter deltas, so it is
 * cheap at a million rows), the measured send rate of the last 10 s, the rate the sender's bucket
 * allows now, and the estimated finish.
 */
export async function getBroadcastProgress(broadcastId: string) {
	const [broadcast] = await sql<
		Array<{
			status: string
			status_reason: string | null
			sender_id: string | null
			rate_per_second: number | null
		}>
	>`
		select b.status, b.status_reason, b.sender_id, s.rate_per_second
		from broadcasts b left join senders s on s.id = b.sender_id where b.id = ${broadcastId}::uuid`
	if (!broadcast) return null
	const rows = await sql<Array<{ state: RecipientState; n: number }>>`
		select state, sum(delta)::int as n from broadcast_counter_deltas
		where broadcast_id = ${broadcastId}::uuid group by state`
	const counts = Object.fromEntries(STATES.map((state) => [state, 0])) as Record<
		RecipientState,
		number
	>
	for (const row of rows) counts[row.state] = row.n
	const [recent] = await sql<Array<{ n: number }>>`
		select count(*)::int as n from broadcast_recipients
		where broadcast_id = ${broadcastId}::uuid and sent_at > now() - interval '10 seconds'`
	const measuredRate = recent.n / 10
	const allowedRate =
		broadcast.sender_id && broadcast.rate_per_second
			? await currentSenderRate(broadcast.sender_id, broadcast.rate_per_second)
			: 0
	const total = STATES.reduce((sum, state) => sum + counts[state], 0)
	const remaining = counts.queued + counts.sending + counts.retry_wait + counts.unknown
	const sent = counts.sent + counts.delivered + counts.read
	const rate = measuredRate > 0 ? measuredRate : allowedRate
	const etaSeconds = broadcast.status === 'sending' && rate > 0 ? Math.ceil(remaining / rate) : null
	return {
		status: broadcast.status,
		statusReason: broadcast.status_reason,
		counts,
		total,
		/** Accepted by WhatsApp (sent, delivered or read). */
		sent,
		delivered: counts.delivered + counts.read,
		read: counts.read,
		failed: counts.failed,
		skipped: counts.skipped,
		remaining,
		measuredRate,
		allowedRate,
		etaSeconds,
		estimatedFinishAt: etaSeconds == null ? null : new Date(Date.now() + etaSeconds * 1000),
	}
}

/** Folds a broadcast's counter deltas into one row per state (run by the sweep for busy broadcasts). */
export async function compactCounterDeltas(broadcastId: string) {
	await sql.begin(async (tx) => {
		await tx`
			with gone as (
				delete from broadcast_counter_deltas where broadcast_id = ${broadcastId}::uuid
				returning state, delta
			)
			insert into broadcast_counter_deltas (broadcast_id, state, delta)
			select ${broadcastId}::uuid, state, sum(delta) from gone group by state having sum(delta) <> 0
		`
	})
}

/** Compacts the deltas of every broadcast that has piled up more than `threshold` of them. */
export async function compactBusyCounters(threshold = 500) {
	const busy = await sql<Array<{ broadcast_id: string }>>`
		select broadcast_id from broadcast_counter_deltas group by broadcast_id having count(*) > ${threshold}`
	for (const row of busy) await compactCounterDeltas(row.broadcast_id)
	return busy.length
}
