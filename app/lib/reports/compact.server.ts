import { sql } from 'drizzle-orm'
import { db } from '#db/client'

/**
 * Folds a broadcast's timeline deltas into one row per minute. Rows appended meanwhile by other
 * transactions are not in this statement's snapshot, so they are neither deleted nor lost.
 */
export async function compactTimelineDeltas(broadcastId: string) {
	await db.execute(sql`
		with gone as (
			delete from broadcast_timeline_deltas where broadcast_id = ${broadcastId}::uuid
			returning minute, sent, delivered, read, replied, failed
		)
		insert into broadcast_timeline_deltas (broadcast_id, minute, sent, delivered, read, replied, failed)
		select ${broadcastId}::uuid, minute, sum(sent), sum(delivered), sum(read), sum(replied), sum(failed)
		from gone
		group by minute
		having sum(sent) <> 0 or sum(delivered) <> 0 or sum(read) <> 0 or sum(replied) <> 0 or sum(failed) <> 0
	`)
}

/**
 * Compacts every broadcast whose timeline holds more than `threshold` rows beyond one per
 * minute, so that reports keep summing a few hundred rows however long a broadcast runs.
 */
export async function compactBusyTimelines(threshold = 1000) {
	const busy = await db.execute<{ broadcast_id: string }>(sql`
		select broadcast_id from broadcast_timeline_deltas
		group by broadcast_id
		having count(*) - count(distinct minute) > ${threshold}
	`)
	for (const row of busy) await compactTimelineDeltas(row.broadcast_id)
	return busy.length
}
