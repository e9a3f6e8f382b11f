/**
 * A worker process for the reliability suite and the send benchmark: graphile-worker with the
 * app's task list and a heartbeat, sending to the sandbox at SANDBOX_URL. Killed with SIGKILL and
 * restarted by the orchestrator. With RELIABILITY_FAST_RECOVERY=1 the crash sweep and the
 * reconciler run every 2 s with second-scale thresholds instead of every minute (production
 * timing), so a suite with five crashes finishes in minutes; `--production-timings` in run.ts
 * turns this off. With RELIABILITY_JOB_DELAYS=1 (the soak) it prints, every 2 s, a JSON line
 * with how long each started job waited after its run_at and the attempts that failed:
 * `{"jobStarts":[["task", ms], …], "jobErrors":[["task", "message"], …]}`.
 */
import { EventEmitter } from 'node:events'
import { run, type WorkerEvents } from 'graphile-worker'
import { createKapsoGateway, setKapsoGateway } from '#app/lib/kapso/gateway.server'
import { attachHeartbeat, sweepDeadWorkers } from '#app/lib/sending/heartbeat.server'
import { reconcileUnknown } from '#app/lib/sending/reconcile.server'
import { parsedCronItems } from '#jobs/crontab'
import { taskList } from '#jobs/task-list'

const sandboxUrl = process.env.SANDBOX_URL
if (!sandboxUrl) throw new Error('SANDBOX_URL is required')
const fast = process.env.RELIABILITY_FAST_RECOVERY === '1'
setKapsoGateway(
	createKapsoGateway({
		baseUrl: sandboxUrl,
		apiKey: 'sandbox',
		timeoutMs: Number(process.env.SEND_TIMEOUT_MS ?? 2000),
	}),
)

const events = new EventEmitter() as WorkerEvents
attachHeartbeat(events, fast ? 1000 : undefined)
if (process.env.RELIABILITY_JOB_DELAYS === '1') {
	let starts: Array<[string, number]> = []
	let errors: Array<[string, string]> = []
	events.on('job:start', ({ job }) => {
		starts.push([job.task_identifier, Math.max(0, Date.now() - new Date(job.run_at).getTime())])
	})
	events.on('job:error', ({ job, error }) => {
		// drizzle wraps PostgreSQL's error: its cause says what went wrong (deadlock, unique key, …).
		const cause = (error as { cause?: { message?: string } })?.cause?.message
		const message = cause ?? (error instanceof Error ? error.message : String(error))
		errors.push([job.task_identifier, message.split('\n')[0].slice(0, 200)])
	})
	setInterval(() => {
		if (starts.length === 0 && errors.length === 0) return
		console.log(JSON.stringify({ jobStarts: starts, jobErrors: errors }))
		starts = []
		errors = []
	}, 2000).unref()
}
const runner = await run({
	connectionString: process.env.DATABASE_URL!,
	concurrency: Number(process.env.WORKER_CONCURRENCY ?? 4),
	taskList,
	parsedCronItems: fast ? [] : parsedCronItems(),
	pollInterval: 250,
	events,
	logger: undefined,
})
if (fast) {
	const tick = async () => {
		await sweepDeadWorkers(4000).catch((error) => console.error('sweep failed', error))
		await reconcileUnknown({ minAgeMs: 1000, absentAfterMs: 3000 }).catch((error) =>
			console.error('reconcile failed', error),
		)
		setTimeout(tick, 2000).unref()
	}
	void tick()
}
console.log(JSON.stringify({ ready: true, pid: process.pid }))
await runner.promise
