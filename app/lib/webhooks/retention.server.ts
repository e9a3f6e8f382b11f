import { sql } from 'drizzle-orm'
import { getEnv } from '#app/lib/env.server'
import { db } from '#db/client'

/**
 * Deletes processed webhook events older than the retention period (`WEBHOOK_RETENTION_DAYS`),
 * a slice at a time so that no statement holds locks for long. Unprocessed events are kept
 * whatever their age: they still have something to say.
 */
export async function pruneWebhookEvents(options: { days?: number; batchSize?: number } = {}) {
	const days = options.days ?? getEnv().WEBHOOK_RETENTION_DAYS
	const batchSize = options.batchSize ?? 10_000
	let deleted = 0
	for (;;) {
		const rows = await db.execute<{ id: string }>(sql`
			delete from webhook_events
			where id in (
				select id from webhook_events
				where received_at < now() - make_interval(days => ${days}) and processed_at is not null
				order by received_at
				limit ${batchSize}
			)
			returning id
		`)
		deleted += rows.length
		if (rows.length < batchSize) return deleted
	}
}
