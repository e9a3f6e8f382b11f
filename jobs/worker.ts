import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'
import { run, type Runner, type WorkerEvents } from 'graphile-worker'
import { getEnv } from '#app/lib/env.server'
import { attachHeartbeat } from '#app/lib/sending/heartbeat.server'
import { parsedCronItems } from './crontab'
import { taskList } from './task-list'

/**
 * Starts a graphile-worker pool with every task and the crontab. Any number of these may run,
 * on any number of machines, against one PostgreSQL.
 */
export async function startWorker(options: { concurrency?: number } = {}): Promise<Runner> {
	const env = getEnv()
	if (!env.DATABASE_URL) throw new Error('DATABASE_URL must be set to start a worker')
	// Jobs are locked by the pool's id, known only from pool:create; the heartbeat records it so
	// the sweep can release a dead pool's jobs within a minute instead of graphile-worker's 4 h.
	const events = new EventEmitter() as WorkerEvents
	attachHeartbeat(events)
	return run({
		events,
		connectionString: env.DATABASE_URL,
		concurrency: options.concurrency ?? env.WORKER_CONCURRENCY,
		taskList,
		parsedCronItems: parsedCronItems(),
		noPreparedStatements: false,
		pollInterval: 1000,
	})
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	try {
		const runner = await startWorker()
		console.log(`Worker started (pid ${process.pid}).`)
		await runner.promise
		const { closeDatabase } = await import('#db/client')
		await closeDatabase()
	} catch (error) {
		console.error(error instanceof Error ? error.message : error)
		process.exit(1)
	}
}
