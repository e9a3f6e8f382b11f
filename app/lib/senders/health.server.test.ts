import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { auditLog, broadcasts, senders } from '#db/schema/index'
import { setKapsoPlatform } from '#app/lib/kapso/platform.server'
import refreshSenderHealthTask from '#jobs/tasks/refresh_sender_health'
import { startSandboxWithExtras } from '#tests/support/sandbox'
import {
	listSenderWarnings,
	parseSenderHealth,
	qualityDropped,
	refreshSenderHealth,
	senderProblems,
} from './health.server'

let sandbox: Awaited<ReturnType<typeof startSandboxWithExtras>>

beforeAll(async () => {
	sandbox = await startSandboxWithExtras()
	setKapsoPlatform(sandbox.platform)
})

afterAll(async () => {
	setKapsoPlatform(null)
	await sandbox.close()
})

beforeEach(async () => {
	await sandbox.control('extras/reset', {})
})

async function createSender() {
	const phoneNumberId = String(100000000000000 + Math.floor(Math.random() * 1e12))
	const [sender] = await db
		.insert(senders)
		.values({ phoneNumberId, wabaId: '200000000000001', displayNumber: '+51 999 000 111' })
		.returning()
	return sender
}

async function createBroadcast(senderId: string, status: 'sending' | 'scheduled' | 'draft') {
	const [broadcast] = await db
		.insert(broadcasts)
		.values({ name: `Broadcast ${status}`, senderId, status })
		.returning()
	return broadcast
}

async function broadcastRow(id: string) {
	const [row] = await db.select().from(broadcasts).where(eq(broadcasts.id, id))
	return row
}

const noopHelpers = {
	logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
} as never

describe('quality ordering', () => {
	test('only a move to a worse known rating is a drop', () => {
		expect(qualityDropped('GREEN', 'YELLOW')).toBe(true)
		expect(qualityDropped('YELLOW', 'RED')).toBe(true)
		expect(qualityDropped('GREEN', 'RED')).toBe(true)
		expect(qualityDropped('RED', 'YELLOW')).toBe(false)
		expect(qualityDropped('GREEN', 'GREEN')).toBe(false)
		expect(qualityDropped(null, 'RED')).toBe(false)
		expect(qualityDropped('GREEN', 'UNKNOWN')).toBe(false)
	})

	test('problems name every failed check and a low rating', () => {
		expect(senderProblems({ qualityRating: 'GREEN', health: null })).toEqual([])
		expect(
			senderProblems({
				qualityRating: 'RED',
				health: {
					status: 'unhealthy',
					connected: true,
					tokenValid: false,
					webhookReachable: false,
					healthy: false,
				},
			}),
		).toEqual([
			'its access token is not valid',
			'its webhook is not reachable',
			'quality rating is RED (low)',
		])
	})
})

describe('refreshSenderHealth', () => {
	test('stores the health check, quality rating, messaging-limit tier and throughput level', async () => {
		const sender = await createSender()
		await sandbox.control(`extras/phone_numbers/${sender.phoneNumberId}`, {
			messaging_limit_tier: 'TIER_100K',
			throughput_level: 'HIGH',
		})
		const outcome = await refreshSenderHealth(sender.id)
		expect(outcome).toMatchObject({
			ok: true,
			healthy: true,
			qualityRating: 'GREEN',
			pausedBroadcastIds: [],
		})
		const [row] = await db.select().from(senders).where(eq(senders.id, sender.id))
		expect(row.qualityRating).toBe('GREEN')
		expect(row.messagingLimitTier).toBe('TIER_100K')
		expect(row.throughputLevel).toBe('HIGH')
		expect(row.healthCheckedAt).toBeInstanceOf(Date)
		const health = parseSenderHealth(row.health)
		expect(health).toMatchObject({
			status: 'healthy',
			connected: true,
			tokenValid: true,
			webhookReachable: true,
		})
		expect(health?.checks.map((check) => check.name)).toContain('webhook_subscription')
	})

	test('a quality drop pauses the sending broadcasts on that number, with the reason, audited', async () => {
		const sender = await createSender()
		const other = await createSender()
		await refreshSenderHealth(sender.id)
		const sending = await createBroadcast(sender.id, 'sending')
		const scheduled = await createBroadcast(sender.id, 'scheduled')
		const elsewhere = await createBroadcast(other.id, 'sending')

		await sandbox.control(`extras/phone_numbers/${sender.phoneNumberId}`, {
			quality_rating: 'YELLOW',
		})
		const outcome = await refreshSenderHealth(sender.id)

		expect(outcome?.pausedBroadcastIds).toEqual([sending.id])
		const paused = await broadcastRow(sending.id)
		expect(paused.status).toBe('paused')
		expect(paused.statusReason).toContain('quality rating is YELLOW')
		expect(paused.statusReason).toContain('+51 999 000 111')
		// A scheduled broadcast has no frozen audience yet, so it is not paused here (a resume
		// would skip its launch): its launch refuses the number instead
		// (app/lib/broadcasts/sender-health-guard.test.ts).
		expect((await broadcastRow(scheduled.id)).status).toBe('scheduled')
		expect((await broadcastRow(elsewhere.id)).status).toBe('sending')
		const audits = await db
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.objectId, sending.id), eq(auditLog.action, 'broadcast.pause')))
		expect(audits).toHaveLength(1)
		expect(audits[0].details).toMatchObject({ source: 'sender_health', senderId: sender.id })
		const senderAudits = await db
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.objectId, sender.id), eq(auditLog.action, 'sender.quality_dropped')))
		expect(senderAudits[0].details).toMatchObject({
			qualityBefore: 'GREEN',
			qualityAfter: 'YELLOW',
		})
	})

	test('a broadcast resumed on a number that stays YELLOW is not paused again', async () => {
		const sender = await createSender()
		await refreshSenderHealth(sender.id)
		await sandbox.control(`extras/phone_numbers/${sender.phoneNumberId}`, {
			quality_rating: 'YELLOW',
		})
		await refreshSenderHealth(sender.id)
		const resumed = await createBroadcast(sender.id, 'sending')
		const outcome = await refreshSenderHealth(sender.id)
		expect(outcome?.pausedBroadcastIds).toEqual([])
		expect((await broadcastRow(resumed.id)).status).toBe('sending')
	})

	test('a number that turns unhealthy pauses its broadcasts; the failed checks are named', async () => {
		const sender = await createSender()
		await refreshSenderHealth(sender.id)
		const sending = await createBroadcast(sender.id, 'sending')
		await sandbox.control(`extras/phone_numbers/${sender.phoneNumberId}`, {
			checks: { webhook_verified: false },
		})
		const outcome = await refreshSenderHealth(sender.id)
		expect(outcome).toMatchObject({ healthy: false, pausedBroadcastIds: [sending.id] })
		expect((await broadcastRow(sending.id)).statusReason).toContain('webhook is not reachable')
		const [row] = await db.select().from(senders).where(eq(senders.id, sender.id))
		const failed = parseSenderHealth(row.health)?.checks.filter((check) => !check.passed)
		expect(failed?.map((check) => check.name)).toEqual(['webhook_verified'])
	})

	test('when Kapso cannot be reached nothing is paused and the error is kept', async () => {
		const sender = await createSender()
		await refreshSenderHealth(sender.id)
		const sending = await createBroadcast(sender.id, 'sending')
		const { createKapsoPlatform } = await import('#app/lib/kapso/platform.server')
		const unreachable = createKapsoPlatform({
			baseUrl: 'http://127.0.0.1:9',
			apiKey: 'x',
			timeoutMs: 1000,
		})
		const outcome = await refreshSenderHealth(sender.id, { platform: unreachable })
		expect(outcome).toMatchObject({ ok: false, healthy: true, pausedBroadcastIds: [] })
		expect(outcome?.error).toBeTruthy()
		expect((await broadcastRow(sending.id)).status).toBe('sending')
		const [row] = await db.select().from(senders).where(eq(senders.id, sender.id))
		expect(parseSenderHealth(row.health)).toMatchObject({ healthy: true, error: outcome?.error })
	})
})

describe('refresh_sender_health task and the warning banner', () => {
	test('the task refreshes every sender and the banner lists the numbers in use that have problems', async () => {
		const inUse = await createSender()
		const idle = await createSender()
		await createBroadcast(inUse.id, 'scheduled')
		await createBroadcast(idle.id, 'draft')
		await refreshSenderHealthTask({}, noopHelpers)
		expect((await listSenderWarnings()).map((w) => w.senderId)).not.toContain(inUse.id)

		await sandbox.control(`extras/phone_numbers/${inUse.phoneNumberId}`, { quality_rating: 'RED' })
		await sandbox.control(`extras/phone_numbers/${idle.phoneNumberId}`, { quality_rating: 'RED' })
		await refreshSenderHealthTask({}, noopHelpers)

		const warnings = await listSenderWarnings()
		const mine = warnings.filter((w) => w.senderId === inUse.id || w.senderId === idle.id)
		expect(mine).toEqual([
			{
				senderId: inUse.id,
				displayNumber: inUse.displayNumber,
				name: inUse.name,
				problems: ['quality rating is RED (low)'],
			},
		])
	})

	test('the task refreshes a single sender when given its id, and rejects a bad payload', async () => {
		const sender = await createSender()
		await refreshSenderHealthTask({ senderId: sender.id }, noopHelpers)
		const [row] = await db.select().from(senders).where(eq(senders.id, sender.id))
		expect(row.healthCheckedAt).not.toBeNull()
		await expect(refreshSenderHealthTask({ senderId: 'nope' }, noopHelpers)).rejects.toThrow()
	})
})
