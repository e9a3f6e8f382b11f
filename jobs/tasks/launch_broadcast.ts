import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { launchBroadcast } from '#app/lib/broadcasts/broadcasts.server'

const Payload = z.object({ broadcastId: z.uuid() })

/** Runs at a broadcast's `scheduled_at`: freezes its audience and starts dispatch. */
const launchBroadcastTask: Task = async (payload, helpers) => {
	const { broadcastId } = Payload.parse(payload)
	const result = await launchBroadcast(broadcastId)
	helpers.logger.info(
		`broadcast ${broadcastId}: launch ${result.launched ? result.status : `skipped (${result.status})`}`,
	)
}

export default launchBroadcastTask
