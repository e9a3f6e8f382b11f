import type { JobHelpers } from 'graphile-worker'
import { z } from 'zod'
import { pruneWebhookEvents } from '#app/lib/webhooks/retention.server'

const PayloadSchema = z.object({}).loose()

/** Cron: removes raw webhook events older than WEBHOOK_RETENTION_DAYS. */
export default async function pruneWebhookEventsTask(payload: unknown, helpers: JobHelpers) {
	PayloadSchema.parse(payload ?? {})
	const deleted = await pruneWebhookEvents()
	if (deleted > 0) helpers.logger.info(`pruned ${deleted} webhook events`)
}
