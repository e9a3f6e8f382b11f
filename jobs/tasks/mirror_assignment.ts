import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { mirrorAssignment } from '#app/lib/inbox/assignments.server'

const Payload = z.object({ conversationId: z.uuid() })

/** Copies a conversation's assignee to Kapso's conversation assignments. */
const mirrorAssignmentTask: Task = async (payload, helpers) => {
	const { conversationId } = Payload.parse(payload)
	const outcome = await mirrorAssignment(conversationId)
	if (outcome.mirrored) return
	// Throwing hands the job back to graphile-worker's backoff; a permanent reason is only logged.
	if (outcome.retry) throw new Error(`assignment not mirrored to Kapso: ${outcome.reason}`)
	helpers.logger.info(
		`conversation ${conversationId}: assignment not mirrored to Kapso: ${outcome.reason}`,
	)
}

export default mirrorAssignmentTask
