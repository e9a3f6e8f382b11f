import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { calls, contacts, senders } from '#db/schema/index'
import { setKapsoPlatform } from '#app/lib/kapso/platform.server'
import importCallsTask from '#jobs/tasks/import_calls'
import { startSandboxWithExtras } from '#tests/support/sandbox'
import { importCallsForSender, listCalls, listCallsForContact } from './calls.server'
import { callStatusTone, formatCallDuration } from './format'

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
		.values({
			phoneNumberId,
			wabaId: '200000000000001',
			displayNumber: `+1 555 ${phoneNumberId.slice(-7)}`,
		})
		.returning()
	return sender
}

async function callsOf(senderId: string) {
	return db.select().from(calls).where(eq(calls.senderId, senderId))
}

const noopHelpers = {
	logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
} as never

describe('importCallsForSender', () => {
	test('imports the sandbox calls once; running again adds no duplicates', async () => {
		const sender = await createSender()
		const first = await importCallsForSender(sender.id)
		expect(first).toMatchObject({ ok: true, read: 3, inserted: 3 })
		const second = await importCallsForSender(sender.id)
		expect(second).toMatchObject({ ok: true, read: 3, inserted: 0 })
		const rows = await callsOf(sender.id)
		expect(rows).toHaveLength(3)
		expect(new Set(rows.map((row) => row.kapsoCallId)).size).toBe(3)
		const completed = rows.find((row) => row.durationSeconds === 184)
		expect(completed).toMatchObject({
			direction: 'inbound',
			status: 'completed',
			waId: '51987650001',
		})
		expect(completed?.startedAt).toBeInstanceOf(Date)
	})

	test('pages through long histories and picks up new calls and changed ones', async () => {
		const sender = await createSender()
		for (let i = 0; i < 130; i++) {
			await sandbox.control('extras/calls', {
				phoneNumberId: sender.phoneNumberId,
				id: `bulk-${i}`,
				from: '51911000' + String(i).padStart(3, '0'),
				durationSeconds: i,
				startedAt: new Date(Date.now() - i * 60_000).toISOString(),
			})
		}
		const first = await importCallsForSender(sender.id)
		expect(first).toMatchObject({ ok: true, read: 133, inserted: 133 })

		await sandbox.control('extras/calls', {
			phoneNumberId: sender.phoneNumberId,
			id: 'later',
			from: '51922000111',
			status: 'missed',
		})
		const second = await importCallsForSender(sender.id)
		expect(second?.inserted).toBe(1)
		expect(await callsOf(sender.id)).toHaveLength(134)
	})

	test('two imports at once still store each call once', async () => {
		const sender = await createSender()
		await Promise.all([importCallsForSender(sender.id), importCallsForSender(sender.id)])
		expect(await callsOf(sender.id)).toHaveLength(3)
	})

	test('links calls to contacts by phone, also contacts created after the import', async () => {
		const sender = await createSender()
		const [known] = await db
			.insert(contacts)
			.values({ phoneE164: '+51987650001', name: 'Ana' })
			.onConflictDoUpdate({ target: contacts.phoneE164, set: { name: 'Ana' } })
			.returning()
		await importCallsForSender(sender.id)
		const linked = (await callsOf(sender.id)).filter((row) => row.contactId === known.id)
		expect(linked).toHaveLength(2)

		const [later] = await db
			.insert(contacts)
			.values({ phoneE164: '+51987650002', name: 'Bruno' })
			.onConflictDoUpdate({ target: contacts.phoneE164, set: { name: 'Bruno' } })
			.returning()
		const forLater = await listCallsForContact(later.id)
		expect(forLater.filter((call) => call.senderId === sender.id)).toMatchObject([
			{ status: 'missed', direction: 'inbound', durationSeconds: 0 },
		])
		const forKnown = (await listCallsForContact(known.id)).filter(
			(call) => call.senderId === sender.id,
		)
		expect(forKnown.map((call) => call.contactName)).toEqual(['Ana', 'Ana'])
		expect(forKnown[0].startedAt!.getTime()).toBeGreaterThan(forKnown[1].startedAt!.getTime())
	})

	test('a Kapso failure is reported, nothing stored', async () => {
		const sender = await createSender()
		const { createKapsoPlatform } = await import('#app/lib/kapso/platform.server')
		const unreachable = createKapsoPlatform({
			baseUrl: 'http://127.0.0.1:9',
			apiKey: 'x',
			timeoutMs: 1000,
		})
		const outcome = await importCallsForSender(sender.id, { platform: unreachable })
		expect(outcome).toMatchObject({ ok: false, inserted: 0 })
		expect(outcome?.error).toBeTruthy()
		expect(await callsOf(sender.id)).toHaveLength(0)
	})
})

describe('calls page and job', () => {
	test('the import_calls task imports every sender; the list filters by number and direction', async () => {
		const a = await createSender()
		const b = await createSender()
		await importCallsTask({}, noopHelpers)
		await importCallsTask({ senderId: a.id }, noopHelpers)
		expect(await callsOf(a.id)).toHaveLength(3)
		expect(await callsOf(b.id)).toHaveLength(3)

		const onA = await listCalls({ senderId: a.id })
		expect(onA.calls).toHaveLength(3)
		expect(onA.calls.every((call) => call.senderNumber === a.displayNumber)).toBe(true)
		const outbound = await listCalls({ senderId: a.id, direction: 'outbound' })
		expect(outbound.calls.map((call) => call.durationSeconds)).toEqual([47])
		await expect(importCallsTask({ senderId: 'x' }, noopHelpers)).rejects.toThrow()
	})

	test('durations and status tones read well', () => {
		expect(formatCallDuration(184)).toBe('3:04')
		expect(formatCallDuration(3723)).toBe('1:02:03')
		expect(formatCallDuration(0)).toBe('—')
		expect(formatCallDuration(null)).toBe('—')
		expect(callStatusTone('missed')).toBe('yellow')
		expect(callStatusTone('weird')).toBe('gray')
	})
})
