import type { JobHelpers } from 'graphile-worker'
import { z } from 'zod'
import { compactBusyTimelines } from '#app/lib/reports/compact.server'

const PayloadSchema = z.object({}).loose()

/** Cron: folds the per-minute report counters of busy broadcasts. */
export default async function compactReportTimelineTask(payload: unknown, helpers: JobHelpers) {
	PayloadSchema.parse(payload ?? {})
	const compacted = await compactBusyTimelines()
	if (compacted > 0) helpers.logger.info(`compacted the report timeline of ${compacted} broadcasts`)
}
