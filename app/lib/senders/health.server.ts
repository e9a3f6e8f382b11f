import { and, asc, eq, sql } from 'drizzle-orm'
import { z } from 'zod'
import { db, type Executor } from '#db/client'
import { broadcasts, senders } from '#db/schema/index'
import { recordAudit } from '#app/lib/audit.server'
import {
	getKapsoPlatform,
	type KapsoPlatform,
	type QualityRating,
} from '#app/lib/kapso/platform.server'

/** What `senders.health` holds after a refresh. */
export const SenderHealthSchema = z.object({
	/** Kapso's verdict (`healthy`, `unhealthy`, …), or null when the check itself failed. */
	status: z.string().nullable(),
	connected: z.boolean().nullable(),
	tokenValid: z.boolean().nullable(),
	webhookReachable: z.boolean().nullable(),
	/** Connected, token valid and webhook reachable; null when unknown. */
	healthy: z.boolean().nullable(),
	checks: z
		.array(z.object({ name: z.string(), passed: z.boolean(), detail: z.string().nullable() }))
		.default([]),
	/** Why the last refresh could not reach Kapso, if it could not. */
	error: z.string().nullable().default(null),
})
export type SenderHealth = z.infer<typeof SenderHealthSchema>

const QUALITY_RANK: Record<string, number> = { GREEN: 3, YELLOW: 2, RED: 1 }

/** True when `next` is a worse rating than `previous` (unknown ratings never count as a drop). */
export function qualityDropped(previous: string | null, next: string | null) {
	const before = previous ? QUALITY_RANK[previous] : undefined
	const after = next ? QUALITY_RANK[next] : undefined
	return before !== undefined && after !== undefined && after < before
}

export function parseSenderHealth(value: unknown): SenderHealth | null {
	const parsed = SenderHealthSchema.safeParse(value)
	return parsed.success ? parsed.data : null
}

/** Plain-language problems of a sender, empty when it is fine (or not yet checked). */
export function senderProblems(sender: {
	qualityRating: string | null
	health: unknown
}): string[] {
	const problems: string[] = []
	const health = parseSenderHealth(sender.health)
	if (health?.connected === false) problems.push('not connected to WhatsApp')
	if (health?.tokenValid === false) problems.push('its access token is not valid')
	if (health?.webhookReachable === false) problems.push('its webhook is not reachable')
	if (sender.qualityRating === 'RED') problems.push('quality rating is RED (low)')
	else if (sender.qualityRating === 'YELLOW') problems.push('quality rating is YELLOW (medium)')
	return problems
}

/**
 * The problems that forbid sending on a sender, empty when it may send. Only a failed last health
 * check or a RED rating block: YELLOW is a warning (the refresh pauses on a drop to it, and a user
 * may resume), while sending on a broken or RED number fails and hurts the number further.
 */
export function sendingBlockers(sender: { qualityRating: string | null; health: unknown }) {
	const unhealthy = parseSenderHealth(sender.health)?.healthy === false
	if (!unhealthy && sender.qualityRating !== 'RED') return []
	const problems = senderProblems(sender)
	return unhealthy && problems.length === 0 ? ['failed its last health check'] : problems
}

export function pauseReason(displayNumber: string, problems: string[]) {
	return `Paused automatically: sender ${displayNumber} ${problems.join('; ')}. Check Settings → Senders before resuming.`
}

export type RefreshOutcome = {
	senderId: string
	ok: boolean
	healthy: boolean | null
	qualityRating: string | null
	/** Broadcasts paused because this refresh found the number unhealthy or its quality lower. */
	pausedBroadcastIds: string[]
	error: string | null
}

/**
 * Asks Kapso for a number's health and Meta fields, stores them, and when the number turned
 * unhealthy or its quality dropped since the last refresh, pauses its sending broadcasts with the
 * reason. Only a change pauses: a broadcast a user resumes on a number that stays YELLOW is not
 * paused again on every refresh.
 */
export async function refreshSenderHealth(
	senderId: string,
	options: { platform?: KapsoPlatform; actorId?: string | null } = {},
): Promise<RefreshOutcome | null> {
	const platform = options.platform ?? getKapsoPlatform()
	const [sender] = await db.select().from(senders).where(eq(senders.id, senderId))
	if (!sender) return null
	const [healthResult, fieldsResult] = await Promise.all([
		platform.getPhoneNumberHealth({ phoneNumberId: sender.phoneNumberId }),
		platform.getPhoneNumberFields({ phoneNumberId: sender.phoneNumberId }),
	])
	const checkedAt = new Date()
	const previous = parseSenderHealth(sender.health)

	if (!healthResult.ok && !fieldsResult.ok) {
		// Kapso could not be asked: keep what we knew, note why, and pause nothing.
		await db
			.update(senders)
			.set({
				health: { ...(previous ?? emptyHealth()), error: healthResult.title },
				healthCheckedAt: checkedAt,
			})
			.where(eq(senders.id, senderId))
		return {
			senderId,
			ok: false,
			healthy: previous?.healthy ?? null,
			qualityRating: sender.qualityRating,
			pausedBroadcastIds: [],
			error: healthResult.title,
		}
	}

	const health: SenderHealth = healthResult.ok
		? {
				status: healthResult.health.status,
				connected: healthResult.health.connected,
				tokenValid: healthResult.health.tokenValid,
				webhookReachable: healthResult.health.webhookReachable,
				healthy:
					healthResult.health.connected &&
					healthResult.health.tokenValid &&
					healthResult.health.webhookReachable,
				checks: healthResult.health.checks,
				error: null,
			}
		: { ...(previous ?? emptyHealth()), error: healthResult.title }
	const fields = fieldsResult.ok ? fieldsResult.fields : null
	const qualityRating: QualityRating | string | null =
		fields?.qualityRating ??
		(healthResult.ok ? healthResult.health.qualityRating : null) ??
		sender.qualityRating
	const turnedUnhealthy = health.healthy === false && previous?.healthy !== false
	const dropped = qualityDropped(sender.qualityRating, qualityRating)

	return db.transaction(async (tx) => {
		await tx
			.update(senders)
			.set({
				health,
				healthCheckedAt: checkedAt,
				qualityRating,
				messagingLimitTier: fields?.messagingLimitTier ?? sender.messagingLimitTier,
				throughputLevel: fields?.throughputLevel ?? sender.throughputLevel,
			})
			.where(eq(senders.id, senderId))
		if (turnedUnhealthy || dropped) {
			await recordAudit(tx, {
				actorId: options.actorId ?? null,
				action: turnedUnhealthy ? 'sender.unhealthy' : 'sender.quality_dropped',
				objectType: 'sender',
				objectId: senderId,
				details: {
					qualityBefore: sender.qualityRating,
					qualityAfter: qualityRating,
					checks: health.checks.filter((check) => !check.passed).map((check) => check.name),
				},
			})
		}
		const problems = senderProblems({ qualityRating, health })
		const pausedBroadcastIds =
			(turnedUnhealthy || dropped) && problems.length > 0
				? await pauseSendingBroadcasts(tx, senderId, pauseReason(sender.displayNumber, problems))
				: []
		return {
			senderId,
			ok: true,
			healthy: health.healthy,
			qualityRating,
			pausedBroadcastIds,
			error: health.error,
		}
	})
}

function emptyHealth(): SenderHealth {
	return {
		status: null,
		connected: null,
		tokenValid: null,
		webhookReachable: null,
		healthy: null,
		checks: [],
		error: null,
	}
}

/**
 * Pauses every sending broadcast on the sender. The dispatcher reads the status before each wave
 * of sends, so only calls already in flight finish.
 */
async function pauseSendingBroadcasts(tx: Executor, senderId: string, reason: string) {
	const paused = await tx
		.update(broadcasts)
		.set({ status: 'paused', statusReason: reason })
		.where(and(eq(broadcasts.senderId, senderId), eq(broadcasts.status, 'sending')))
		.returning({ id: broadcasts.id })
	for (const broadcast of paused) {
		await recordAudit(tx, {
			actorId: null,
			action: 'broadcast.pause',
			objectType: 'broadcast',
			objectId: broadcast.id,
			details: { reason, source: 'sender_health', senderId },
		})
	}
	return paused.map((broadcast) => broadcast.id)
}

/** Refreshes every sender, one after the other (a handful of numbers, two reads each). */
export async function refreshAllSenderHealth(
	options: { platform?: KapsoPlatform; actorId?: string | null } = {},
) {
	const all = await db.select({ id: senders.id }).from(senders).orderBy(asc(senders.createdAt))
	const outcomes: RefreshOutcome[] = []
	for (const sender of all) {
		const outcome = await refreshSenderHealth(sender.id, options)
		if (outcome) outcomes.push(outcome)
	}
	return outcomes
}

export type SenderWarning = {
	senderId: string
	displayNumber: string
	name: string
	problems: string[]
}

/**
 * Senders in use (a broadcast scheduled, sending or paused on it, or a conversation active in the
 * last 7 days) that are unhealthy or below GREEN: the banner every page shows.
 */
export async function listSenderWarnings(): Promise<SenderWarning[]> {
	const candidates = await db
		.select({
			id: senders.id,
			displayNumber: senders.displayNumber,
			name: senders.name,
			qualityRating: senders.qualityRating,
			health: senders.health,
		})
		.from(senders)
		.where(
			sql`(${senders.qualityRating} in ('YELLOW', 'RED') or (${senders.health} ->> 'healthy') = 'false')
				and (
					exists (select 1 from broadcasts b where b.sender_id = ${senders.id} and b.status in ('scheduled', 'sending', 'paused'))
					or exists (select 1 from conversations c where c.sender_id = ${senders.id} and c.last_message_at > now() - interval '7 days')
				)`,
		)
		.orderBy(asc(senders.createdAt))
	return candidates
		.map((sender) => ({
			senderId: sender.id,
			displayNumber: sender.displayNumber,
			name: sender.name,
			problems: senderProblems(sender),
		}))
		.filter((warning) => warning.problems.length > 0)
}
