import { inArray, sql as q } from 'drizzle-orm'
import { z } from 'zod'
import { recordAudit } from '#app/lib/audit.server'
import { db, type Executor } from '#db/client'
import { appSettings } from '#db/schema/index'

/**
 * Admin settings of broadcasts, kept in `app_settings`: whether an admin must approve a broadcast
 * before it can be scheduled (read by createBroadcast), and the failure rate of recent sends at
 * which the engine pauses a broadcast by itself (read by the dispatcher, a fraction 0–1).
 */
const APPROVAL_KEY = 'broadcast_approval_required'
const THRESHOLD_KEY = 'failure_pause_threshold'
const DEFAULT_THRESHOLD_PERCENT = 20

export const BroadcastSettingsSchema = z.object({
	approvalRequired: z
		.union([z.literal('on'), z.literal('true'), z.boolean()])
		.optional()
		.transform((value) => value === 'on' || value === 'true' || value === true),
	failurePausePercent: z.coerce
		.number('Enter a percentage')
		.int('A whole percentage')
		.min(1, 'At least 1%')
		.max(100, 'At most 100%'),
})
export type BroadcastSettings = z.output<typeof BroadcastSettingsSchema>

export async function getBroadcastSettings(executor: Executor = db): Promise<BroadcastSettings> {
	const rows = await executor
		.select({ key: appSettings.key, value: appSettings.value })
		.from(appSettings)
		.where(inArray(appSettings.key, [APPROVAL_KEY, THRESHOLD_KEY]))
	const value = (key: string) => rows.find((r) => r.key === key)?.value
	const threshold = Number(value(THRESHOLD_KEY))
	return {
		approvalRequired: value(APPROVAL_KEY) === true,
		failurePausePercent:
			Number.isFinite(threshold) && threshold > 0
				? Math.round(threshold > 1 ? threshold : threshold * 100)
				: DEFAULT_THRESHOLD_PERCENT,
	}
}

export async function updateBroadcastSettings(
	input: z.input<typeof BroadcastSettingsSchema>,
	actorId: string,
) {
	const data = BroadcastSettingsSchema.parse(input)
	await db.transaction(async (tx) => {
		const before = await getBroadcastSettings(tx)
		for (const [key, value] of [
			[APPROVAL_KEY, data.approvalRequired],
			[THRESHOLD_KEY, data.failurePausePercent / 100],
		] as const) {
			await tx
				.insert(appSettings)
				.values({ key, value })
				.onConflictDoUpdate({ target: appSettings.key, set: { value, updatedAt: q`now()` } })
		}
		await recordAudit(tx, {
			actorId,
			action: 'settings.broadcasts.update',
			objectType: 'app_settings',
			objectId: 'broadcasts',
			details: { before, after: data },
		})
	})
	return data
}
