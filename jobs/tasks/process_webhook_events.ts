import type { JobHelpers } from 'graphile-worker'
import { z } from 'zod'
import { enqueueWebhookProcessing, processWebhookEvents } from '#app/lib/webhooks/process.server'

// graphile-worker adds `_cron` to the payload of the crontab's sweep.
const PayloadSchema = z.object({ _cron: z.unknown().optional() }).loose()

/**
 * Processes every stored webhook event not processed yet (one job at a time, keyed); the
 * crontab's sweep also re-checks events kept for messages not recorded yet.
 */
export default async function processWebhookEventsTask(payload: unknown, helpers: JobHelpers) {
	const input = PayloadSchema.parse(payload ?? {})
	const result = await processWebhookEvents({ recheckPending: input._cron !== undefined })
	if (result.errors > 0) helpers.logger.warn(`${result.errors} webhook events could not be processed (see webhook_events.error)`)
	// Out of time with rows left: hand over to a fresh job rather than hold the queue. After any
	// work, look once more a moment later: events committed while this run was starting did not
	// queue a job of their own (ingest sees this one waiting), so the next run picks them up.
	if (result.more) await enqueueWebhookProcessing()
	else if (result.processed > 0) await enqueueWebhookProcessing(new Date(Date.now() + 1000))
}
