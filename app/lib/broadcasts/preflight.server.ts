import { sql as q } from 'drizzle-orm'
import { bucketParameters } from '#app/lib/sending/token-bucket'
import { db, type Executor } from '#db/client'
import { SKIP_REASONS, type SkipReason } from './audience'
import { audienceRows } from './audience.server'
import { BroadcastError, getBroadcast, loadReadyBroadcast } from './broadcasts.server'

/** Meta's messaging-limit tiers: unique users messaged outside a service window per rolling 24 h. */
const TIER_LIMITS: Record<string, number> = {
	TIER_50: 50,
	TIER_250: 250,
	TIER_1K: 1000,
	TIER_2K: 2000,
	TIER_10K: 10_000,
	TIER_100K: 100_000,
	TIER_UNLIMITED: Number.POSITIVE_INFINITY,
}

export function tierLimit(tier: string | null | undefined) {
	return tier && tier in TIER_LIMITS ? TIER_LIMITS[tier] : null
}

/**
 * Who the broadcast would reach if frozen now, without freezing: the eligible count and every
 * exclusion by reason, from the same SQL the freeze uses.
 */
export async function previewAudience(broadcastId: string, executor: Executor = db) {
	const broadcast = await getBroadcast(broadcastId, executor)
	if (!broadcast) throw new BroadcastError('Broadcast not found')
	const ready = await loadReadyBroadcast(broadcast, executor)
	const rows = await executor.execute<{ skip_reason: SkipReason | null; n: number }>(q`
		select a.skip_reason, count(*)::int as n
		from (${audienceRows({ audience: ready.audience, mapping: ready.mapping, components: ready.template.components })}) a
		group by 1
	`)
	const excluded = {} as Record<SkipReason, number>
	let eligible = 0
	for (const row of rows) {
		if (row.skip_reason == null) eligible = row.n
		else excluded[row.skip_reason] = row.n
	}
	return { eligible, excluded, ready }
}

/**
 * Unique contacts sent a message from any number of this business account in the last 24 h:
 * what Meta counts against the messaging limit (for the broadcasts this app sent).
 */
export async function messagingLimitUsage(wabaId: string, executor: Executor = db) {
	const [row] = await executor.execute<{ n: number }>(q`
		select count(distinct r.contact_id)::int as n
		from broadcast_recipients r
		join broadcasts b on b.id = r.broadcast_id
		join senders s on s.id = b.sender_id
		where s.waba_id = ${wabaId} and r.sent_at > now() - interval '24 hours'
	`)
	return row?.n ?? 0
}

export type Preflight = Awaited<ReturnType<typeof preflightBroadcast>>

/**
 * Everything to check before launch: reach and exclusions, the template's status, the sender's
 * messaging-limit tier and how much of it the last 24 h used, the estimated duration at the
 * sender's rate, and whether the audience fits the remaining limit (if not: cut it, or send in
 * daily waves of `suggestedDailyCap`).
 */
export async function preflightBroadcast(broadcastId: string, executor: Executor = db) {
	const { eligible, excluded, ready } = await previewAudience(broadcastId, executor)
	const limit = tierLimit(ready.sender.messagingLimitTier)
	const usedLast24h = await messagingLimitUsage(ready.sender.wabaId, executor)
	const headroom = limit == null ? null : Math.max(0, limit - usedLast24h)
	const rate = bucketParameters(ready.sender.ratePerSecond).rate
	const dailyCap = ready.broadcast.dailyCap
	const exceedsHeadroom =
		headroom != null && eligible > headroom && !(dailyCap && dailyCap <= headroom)
	return {
		eligible,
		excluded: Object.fromEntries(
			SKIP_REASONS.filter((r) => excluded[r]).map((r) => [r, excluded[r]]),
		) as Partial<Record<SkipReason, number>>,
		template: {
			name: ready.template.name,
			language: ready.template.language,
			status: ready.template.metaStatus,
			approved: ready.template.metaStatus === 'APPROVED',
		},
		sender: {
			id: ready.sender.id,
			displayNumber: ready.sender.displayNumber,
			ratePerSecond: ready.sender.ratePerSecond,
			tier: ready.sender.messagingLimitTier,
			limit: limit === Number.POSITIVE_INFINITY ? null : limit,
			unlimited: limit === Number.POSITIVE_INFINITY,
			usedLast24h,
			headroom: headroom === Number.POSITIVE_INFINITY ? null : headroom,
		},
		estimatedSeconds: Math.ceil(eligible / rate),
		dailyCap,
		waves: dailyCap ? Math.ceil(eligible / dailyCap) : 1,
		exceedsHeadroom,
		/** For the "spread over daily waves" choice: the tier's full daily limit. */
		suggestedDailyCap: limit != null && Number.isFinite(limit) ? limit : null,
		/** For the "cut" choice: how many can be sent today. */
		suggestedCut: headroom != null && Number.isFinite(headroom) ? headroom : null,
		canLaunch: ready.template.metaStatus === 'APPROVED' && eligible > 0 && !exceedsHeadroom,
	}
}
