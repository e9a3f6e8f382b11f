import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { compactBusyCounters } from '#app/lib/broadcasts/progress.server'
import { sweepDeadWorkers } from '#app/lib/sending/heartbeat.server'

const Payload = z.object({}).passthrough()

/**
 * Every minute: unlock the jobs of worker pools silent for over a minute (graphile-worker would
 * wait 4 hours) and turn their in-flight ledger rows into `unknown`; fold broadcast counters.
 */
const sweepDeadWorkersTask: Task = async (payload, helpers) => {
	Payload.parse(payload ?? {})
	const summary = await sweepDeadWorkers()
	if (summary.deadPools.length > 0 || summary.unknownRows > 0) {
		helpers.logger.warn(`sweep: ${JSON.stringify(summary)}`)
	}
	// Housekeeping on the same beat: keep per-broadcast counter deltas short.
	await compactBusyCounters()
}

export default sweepDeadWorkersTask
