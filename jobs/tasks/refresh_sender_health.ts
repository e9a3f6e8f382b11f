import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { refreshAllSenderHealth, refreshSenderHealth } from '#app/lib/senders/health.server'

const Payload = z.object({ senderId: z.uuid().optional() })

/**
 * Re-reads Kapso's health check, quality rating, messaging-limit tier and throughput level of one
 * sender (or all), pausing sending broadcasts on a number that turned unhealthy or lost quality.
 */
const refreshSenderHealthTask: Task = async (payload, helpers) => {
	const { senderId } = Payload.parse(payload ?? {})
	const outcomes = senderId
		? [await refreshSenderHealth(senderId)].filter((outcome) => outcome !== null)
		: await refreshAllSenderHealth()
	for (const outcome of outcomes) {
		if (outcome.error)
			helpers.logger.warn(`sender ${outcome.senderId}: health check failed: ${outcome.error}`)
		if (outcome.pausedBroadcastIds.length > 0)
			helpers.logger.warn(
				`sender ${outcome.senderId}: paused ${outcome.pausedBroadcastIds.length} broadcast(s) (unhealthy or quality dropped)`,
			)
	}
}

export default refreshSenderHealthTask
