import { sql } from 'drizzle-orm'
import type { Executor } from '#db/client'

export type JobSpec = {
	runAt?: Date
	/** Identifies the job for de-duplication; see graphile-worker's job_key docs. */
	jobKey?: string
	jobKeyMode?: 'replace' | 'preserve_run_at' | 'unsafe_dedupe'
	queueName?: string
	maxAttempts?: number
	priority?: number
}

/**
 * Adds a graphile-worker job with SQL, so that it commits (or rolls back) together with the rows
 * it belongs to when `executor` is a transaction.
 */
export async function enqueueJob(
	executor: Executor,
	identifier: string,
	payload: Record<string, unknown>,
	spec: JobSpec = {},
) {
	await executor.execute(sql`
		select graphile_worker.add_job(
			identifier => ${identifier}::text,
			payload => ${JSON.stringify(payload)}::json,
			queue_name => ${spec.queueName ?? null}::text,
			run_at => ${spec.runAt?.toISOString() ?? null}::timestamptz,
			max_attempts => ${spec.maxAttempts ?? null}::int,
			job_key => ${spec.jobKey ?? null}::text,
			priority => ${spec.priority ?? null}::int,
			job_key_mode => ${spec.jobKeyMode ?? null}::text
		)
	`)
}
