import type { JobHelpers } from 'graphile-worker'
import { z } from 'zod'
import { reconcileStatuses } from '#app/lib/webhooks/reconcile.server'

const PayloadSchema = z.object({ olderThanMinutes: z.number().int().min(1).optional() }).loose()

/** Cron: looks up messages whose delivery statuses never arrived. */
export default async function reconcileStatusesTask(payload: unknown, helpers: JobHelpers) {
	const input = PayloadSchema.parse(payload ?? {})
	const summary = await reconcileStatuses({ olderThanMinutes: input.olderThanMinutes })
	if (summary.checked > 0) helpers.logger.info(`status reconcile: ${JSON.stringify(summary)}`)
}
