import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { getKapsoGateway } from '#app/lib/kapso/gateway.server'
import {
	enqueuePendingPoll,
	PENDING_FAST_ROUNDS,
	pollPendingTemplates,
	requestFullSync,
	runFullSync,
} from '#app/lib/templates/templates.server'
import { db } from '#db/client'

const Payload = z.discriminatedUnion('mode', [
	/** Check pending templates; `round` counts the fast follow-ups after a submission. */
	z.object({ mode: z.literal('pending'), round: z.number().int().min(0).optional() }),
	/** The every-minute safety net: checks pending templates, never chains. */
	z.object({ mode: z.literal('cron_pending') }),
	/** Run one queued full sync (its progress row is `runId`). */
	z.object({ mode: z.literal('full'), runId: z.uuid() }),
	/** The scheduled full sync: queue one per WABA. */
	z.object({ mode: z.literal('scheduled') }),
])

/** Keeps local template statuses in step with WhatsApp (Kapso sends no template-status events). */
const syncTemplates: Task = async (payload, helpers) => {
	const job = Payload.parse(payload)
	const gateway = getKapsoGateway()
	switch (job.mode) {
		case 'pending':
		case 'cron_pending': {
			const result = await pollPendingTemplates(db, { gateway })
			if (result.failures.length > 0)
				helpers.logger.warn(
					`template poll: ${result.failures.length} lookups failed (${result.failures[0]})`,
				)
			const round = job.mode === 'pending' ? (job.round ?? 0) : PENDING_FAST_ROUNDS
			if (result.stillPending > 0 && round + 1 < PENDING_FAST_ROUNDS)
				await enqueuePendingPoll(db, round + 1)
			return
		}
		case 'full': {
			const run = await runFullSync(db, job.runId, { gateway })
			if (run?.status === 'failed')
				helpers.logger.warn(`template sync of ${run.wabaId} failed: ${run.error}`)
			return
		}
		case 'scheduled':
			await requestFullSync(db, null)
			return
	}
}

export default syncTemplates
