import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, describe, expect, test } from 'vitest'
import { applyStatusFacts } from '#app/lib/webhooks/process.server'
import type { StatusFact } from '#app/lib/webhooks/events'
import { db, sql } from '#db/client'
import { writeResults, type Result } from './ledger.server'
import { seedBroadcast, seedContacts, seedSender, seedTemplate } from './testing.server'

// The dispatcher's result writes and the webhook processor's status writes change overlapping
// ledger rows at the same time. Found by the soak: taken in different orders, they deadlocked
// and the dispatcher's unhandled rejection killed the worker process mid-broadcast.

const blocker = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} })
afterAll(async () => {
	await blocker.end({ timeout: 5 })
})

async function sendingRows() {
	const sender = await seedSender(100)
	const template = await seedTemplate()
	await seedContacts(3, 'lock-order')
	const broadcast = await seedBroadcast({
		senderId: sender.id,
		templateId: template.id,
		tag: 'lock-order',
	})
	await sql`
		insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, state, attempt_id, claimed_at, attempts)
		select ${broadcast.id}::uuid, id, phone_e164, 'sending', gen_random_uuid(), now(), 1
		from contacts where 'lock-order' = any(tags) order by id`
	const rows = await sql<Array<{ id: string; attempt_id: string; phone_e164: string }>>`
		select id, attempt_id, phone_e164 from broadcast_recipients
		where broadcast_id = ${broadcast.id}::uuid order by id`
	// Wamids that sort the other way round from the row ids.
	return rows.map((row, index) => ({
		id: Number(row.id),
		attemptId: row.attempt_id,
		phoneE164: row.phone_e164,
		wamid: `wamid.${9 - index}.${randomUUID()}`,
	}))
}

describe('ledger writers lock rows in one order', () => {
	test('result writes and status webhooks on the same rows both complete, without a deadlock', async () => {
		const [first, middle, last] = await sendingRows()
		const all = [first, middle, last]
		// Statuses arrive for messages whose send result is not written yet: adopted by callback data.
		const facts: StatusFact[] = [last, middle, first].map((row) => ({
			kind: 'status',
			wamid: row.wamid,
			status: 'delivered',
			at: new Date(),
			recipientId: row.id,
			errorCode: null,
			errorTitle: null,
			pricingCategory: null,
			waId: null,
		}))
		const results: Result[] = all.map((row) => ({
			row: {
				id: row.id,
				attemptId: row.attemptId,
				phoneE164: row.phoneE164,
				variables: {},
				attempts: 1,
			},
			outcome: { state: 'sent', wamid: row.wamid, waId: null },
			at: new Date(),
		}))

		// A third transaction holds the middle row, so both writers stop half-way through their rows.
		let release!: () => void
		const released = new Promise<void>((resolve) => (release = resolve))
		const holding = blocker.begin(async (tx) => {
			await tx`select id from broadcast_recipients where id = ${middle.id} for update`
			await released
		})
		await new Promise((resolve) => setTimeout(resolve, 100))
		const write = writeResults(results)
		const statuses = db.transaction((tx) => applyStatusFacts(tx, facts))
		await new Promise((resolve) => setTimeout(resolve, 300))
		release()
		await holding

		const [written, unmatched] = await Promise.all([write, statuses])
		const final = await sql<Array<{ id: string; state: string; wamid: string }>>`
			select id, state, wamid from broadcast_recipients where id in ${sql(all.map((row) => row.id))} order by id`
		expect(final.map((row) => row.wamid)).toEqual(all.map((row) => row.wamid))
		// Whichever writer came second, a row is delivered, or sent with its status kept for later.
		for (const row of final) {
			expect(written.has(Number(row.id)) || row.state === 'delivered').toBe(true)
			expect(row.state === 'delivered' || (row.state === 'sent' && unmatched.has(row.wamid))).toBe(
				true,
			)
		}
	})
})
