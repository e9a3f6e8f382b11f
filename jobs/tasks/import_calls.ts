import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { importCallsForAllSenders, importCallsForSender } from '#app/lib/calls/calls.server'

const Payload = z.object({ senderId: z.uuid().optional() })

/** Copies the WhatsApp call log of one sender (or all) from Kapso; safe to repeat. */
const importCalls: Task = async (payload, helpers) => {
	const { senderId } = Payload.parse(payload ?? {})
	const outcomes = senderId
		? [await importCallsForSender(senderId)].filter((outcome) => outcome !== null)
		: await importCallsForAllSenders()
	for (const outcome of outcomes) {
		if (!outcome.ok)
			helpers.logger.warn(`sender ${outcome.senderId}: call import failed: ${outcome.error}`)
	}
}

export default importCalls
