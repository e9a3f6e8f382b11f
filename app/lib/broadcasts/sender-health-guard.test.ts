import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { db, sql } from '#db/client'
import { auditLog } from '#db/schema/index'
import { createKapsoPlatform } from '#app/lib/kapso/platform.server'
import { refreshSenderHealth } from '#app/lib/senders/health.server'
import { dispatchSlice } from '#app/lib/sending/dispatch.server'
import {
	broadcastStatus,
	recipientCounts,
	seedBroadcast,
	seedContacts,
	seedSender,
	seedTemplate,
	startTestSandbox,
} from '#app/lib/sending/testing.server'
import launchBroadcastTask from '#jobs/tasks/launch_broadcast'
import { BroadcastError, resumeBroadcast, scheduleBroadcast } from './broadcasts.server'

let sandbox: Awaited<ReturnType<typeof startTestSandbox>>
let platform: ReturnType<typeof createKapsoPlatform>

beforeAll(async () => {
	sandbox = await startTestSandbox()
	platform = createKapsoPlatform({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 5000 })
})
afterAll(async () => {
	await sandbox.close()
})

const noopHelpers = {
	logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
} as never

/** Sets what Kapso will report for the number at the next health refresh. */
async function kapsoReports(phoneNumberId: string, patch: Record<string, unknown>) {
	const response = await fetch(`${sandbox.url}/_sandbox/extras/phone_numbers/${phoneNumberId}`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(patch),
	})
	expect(response.ok).toBe(true)
}

let tagCounter = 0
/** A broadcast of `count` contacts scheduled for later on a fresh sender checked healthy and GREEN. */
async function scheduledBroadcast(count = 6) {
	const tag = `guard-${++tagCounter}-${Date.now()}`
	const sender = await seedSender(200)
	await refreshSenderHealth(sender.id, { platform })
	const template = await seedTemplate()
	await seedContacts(count, tag)
	const broadcast = await seedBroadcast({ senderId: sender.id, templateId: template.id, tag })
	await scheduleBroadcast(broadcast.id, { at: new Date(Date.now() + 3600_000) }, null)
	return { sender, broadcast }
}

function sendsFrom(phoneNumberId: string) {
	return sandbox.ledger().filter((entry) => entry.phoneNumberId === phoneNumberId)
}

describe('a broadcast never goes out on an unhealthy or RED sender', () => {
	test('a scheduled broadcast whose number dropped to RED is paused with the reason at launch; nothing is sent', async () => {
		const { sender, broadcast } = await scheduledBroadcast()
		await kapsoReports(sender.phoneNumberId, { quality_rating: 'RED' })
		const refresh = await refreshSenderHealth(sender.id, { platform })
		// The refresh pauses only what is sending; the scheduled one is caught at its launch.
		expect(refresh?.pausedBroadcastIds).toEqual([])
		expect((await broadcastStatus(broadcast.id)).status).toBe('scheduled')

		await launchBroadcastTask({ broadcastId: broadcast.id }, noopHelpers)

		const after = await broadcastStatus(broadcast.id)
		expect(after.status).toBe('paused')
		expect(after.status_reason).toContain('quality rating is RED')
		expect(after.status_reason).toContain(sender.displayNumber)
		expect(await recipientCounts(broadcast.id)).toEqual({ queued: 6 })
		expect(
			await sql`select 1 from graphile_worker.jobs where key = ${`dispatch:${broadcast.id}`}`,
		).toHaveLength(0)
		const audits = await db
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.objectId, broadcast.id), eq(auditLog.action, 'broadcast.auto_pause')))
		expect(audits).toHaveLength(1)
		expect(sendsFrom(sender.phoneNumberId)).toHaveLength(0)
	})

	test('resume is refused while the number is unhealthy, and sends once it is healthy again', async () => {
		const { sender, broadcast } = await scheduledBroadcast()
		await kapsoReports(sender.phoneNumberId, { checks: { webhook_verified: false } })
		await refreshSenderHealth(sender.id, { platform })
		await launchBroadcastTask({ broadcastId: broadcast.id }, noopHelpers)
		expect((await broadcastStatus(broadcast.id)).status_reason).toContain(
			'webhook is not reachable',
		)

		const refused = resumeBroadcast(broadcast.id, null)
		await expect(refused).rejects.toThrow(BroadcastError)
		await expect(refused).rejects.toThrow(/webhook is not reachable/)
		expect((await broadcastStatus(broadcast.id)).status).toBe('paused')

		await kapsoReports(sender.phoneNumberId, { checks: { webhook_verified: true } })
		await refreshSenderHealth(sender.id, { platform })
		expect((await resumeBroadcast(broadcast.id, null)).changed).toBe(true)
		expect((await dispatchSlice(broadcast.id, { sliceMs: 3000 })).next).toBe('completed')
		expect(sendsFrom(sender.phoneNumberId)).toHaveLength(6)
	})

	test('a slice on a number that turned unhealthy after launch pauses before claiming anything', async () => {
		const { sender, broadcast } = await scheduledBroadcast()
		await launchBroadcastTask({ broadcastId: broadcast.id }, noopHelpers)
		expect((await broadcastStatus(broadcast.id)).status).toBe('sending')
		// The number's state changed between the launch and the slice (a refresh racing the launch).
		await sql`update senders set health = jsonb_set(health, '{healthy}', 'false') || '{"connected": false}'::jsonb
			where id = ${sender.id}::uuid`

		const slice = await dispatchSlice(broadcast.id, { sliceMs: 3000 })

		expect(slice).toMatchObject({ next: 'stopped', attempted: 0, reason: 'sender' })
		const after = await broadcastStatus(broadcast.id)
		expect(after.status).toBe('paused')
		expect(after.status_reason).toContain('not connected to WhatsApp')
		expect(await recipientCounts(broadcast.id)).toEqual({ queued: 6 })
		expect(sendsFrom(sender.phoneNumberId)).toHaveLength(0)
	})

	test('a healthy sender, and one that is only YELLOW, launch and send as usual', async () => {
		for (const quality of ['GREEN', 'YELLOW']) {
			const { sender, broadcast } = await scheduledBroadcast()
			await kapsoReports(sender.phoneNumberId, { quality_rating: quality })
			await refreshSenderHealth(sender.id, { platform })
			await launchBroadcastTask({ broadcastId: broadcast.id }, noopHelpers)
			expect((await broadcastStatus(broadcast.id)).status).toBe('sending')
			expect((await dispatchSlice(broadcast.id, { sliceMs: 3000 })).next).toBe('completed')
			expect(sendsFrom(sender.phoneNumberId)).toHaveLength(6)
		}
	})
})
