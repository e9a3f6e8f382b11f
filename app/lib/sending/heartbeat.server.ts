import os from 'node:os'
import type { WorkerEvents } from 'graphile-worker'
import { sql } from '#db/client'

/** A pool that has not beaten for this long is considered dead and its jobs are released. */
export const DEAD_AFTER_MS = 60_000
export const BEAT_EVERY_MS = 15_000
/**
 * A `sending` row older than this is left over whatever its pool says (a write-back that failed,
 * a pool without heartbeats): no live slice holds a claim this long (slice + call timeout).
 */
export const STALE_CLAIM_MS = 10 * 60_000

export async function registerPool(poolId: string) {
	await sql`
		insert into worker_heartbeats (pool_id, pid, hostname, started_at, last_seen_at)
		values (${poolId}, ${process.pid}, ${os.hostname()}, now(), now())
		on conflict (pool_id) do update set last_seen_at = now()
	`
}

export async function beatPool(poolId: string) {
	await sql`update worker_heartbeats set last_seen_at = now() where pool_id = ${poolId}`
}

export async function unregisterPool(poolId: string) {
	await sql`delete from worker_heartbeats where pool_id = ${poolId}`
}

/**
 * Records that the graphile-worker pool `poolId` (the id its jobs are locked by) is alive, every
 * BEAT_EVERY_MS until the returned function is called. A failed beat is retried at the next tick.
 */
export async function startHeartbeat(poolId: string, everyMs = BEAT_EVERY_MS) {
	await registerPool(poolId)
	const timer = setInterval(() => {
		beatPool(poolId).catch(() => {})
	}, everyMs)
	timer.unref()
	return async function stopHeartbeat() {
		clearInterval(timer)
		await unregisterPool(poolId).catch(() => {})
	}
}

/**
 * Beats for every graphile-worker pool created on `events` (pass the same emitter as `run({
 * events })`): jobs are locked by the pool's id, so that is the id the sweep must know.
 */
export function attachHeartbeat(events: WorkerEvents, everyMs = BEAT_EVERY_MS) {
	const stops = new Map<string, Promise<() => Promise<void>>>()
	events.on('pool:create', ({ workerPool }) => {
		stops.set(workerPool.id, startHeartbeat(workerPool.id, everyMs))
	})
	events.on('pool:release', ({ workerPool }) => {
		const stop = stops.get(workerPool.id)
		stops.delete(workerPool.id)
		void stop?.then((fn) => fn()).catch(() => {})
	})
}

/**
 * Releases the work of dead worker pools: their graphile-worker jobs are unlocked at once
 * (instead of after 4 hours), and ledger rows they left in `sending` become `unknown`, to be
 * reconciled by lookup rather than sent again. Also settles `sending` rows whose claim is
 * older than STALE_CLAIM_MS whoever made it.
 */
export async function sweepDeadWorkers(deadAfterMs = DEAD_AFTER_MS) {
	return sql.begin(async (tx) => {
		const dead = await tx<Array<{ pool_id: string }>>`
			delete from worker_heartbeats
			where last_seen_at < now() - make_interval(secs => ${deadAfterMs / 1000})
			returning pool_id
		`
		const poolIds = dead.map((row) => row.pool_id)
		if (poolIds.length > 0) {
			await tx`select graphile_worker.force_unlock_workers(${sql.array(poolIds, 25)}::text[])`
		}
		const orphaned = await tx`
			update broadcast_recipients
			set state = 'unknown', error_title = 'Worker stopped during the send', updated_at = now()
			where state = 'sending'
				and (claimed_by = any(${sql.array(poolIds, 25)}::text[])
					or claimed_at < now() - make_interval(secs => ${STALE_CLAIM_MS / 1000}))
		`
		return { deadPools: poolIds, unknownRows: orphaned.count }
	})
}
