import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { enqueueDispatch } from '#app/lib/broadcasts/broadcasts.server'
import { dispatchSlice } from '#app/lib/sending/dispatch.server'
import { db } from '#db/client'

const Payload = z.object({ broadcastId: z.uuid() })

/**
 * Sends one broadcast for a bounded slice of time, then hands over to a fresh job (keyed per
 * broadcast) while work remains, so no job runs for hours and a crash loses at most one slice.
 */
const dispatchBroadcast: Task = async (payload, helpers) => {
	const { broadcastId } = Payload.parse(payload)
	const result = await dispatchSlice(broadcastId, {
		poolId: helpers.job.locked_by ?? null,
		signal: helpers.abortSignal,
	})
	helpers.logger.info(
		`broadcast ${broadcastId}: ${result.next} after ${result.attempted} sends (${result.sent} sent, ${result.missedSlots ?? 0} slots missed)${result.reason ? `, ${result.reason}` : ''}`,
	)
	if (result.next === 'continue') await enqueueDispatch(db, broadcastId, result.runAt ?? undefined)
}

export default dispatchBroadcast
