import postgres from 'postgres'
import { afterAll, describe, expect, test } from 'vitest'
import { db, sql } from '#db/client'
import { senders } from '#db/schema/index'
import { bucketParameters } from './token-bucket'
import { currentSenderRate, slowSender, takeSenderTokens } from './token-bucket.server'

async function createSender(ratePerSecond: number) {
	const [sender] = await db
		.insert(senders)
		.values({
			phoneNumberId: String(Math.floor(Math.random() * 1e12)),
			wabaId: '1000001',
			displayNumber: '+51 999 000 111',
			ratePerSecond,
		})
		.returning()
	return sender
}

const others: Array<postgres.Sql> = []
afterAll(async () => {
	await Promise.all(others.map((client) => client.end({ timeout: 5 })))
})

describe('take_sender_tokens', () => {
	test('slots booked from many connections at once never overlap nor exceed the rate per second', async () => {
		const sender = await createSender(200)
		const p = bucketParameters(200)
		const clients = Array.from({ length: 4 }, () => {
			const client = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} })
			others.push(client)
			return client
		})
		const grants: Array<{ start: number; n: number; rate: number }> = []
		const until = Date.now() + 1500
		await Promise.all(
			clients.map(async (client) => {
				while (Date.now() < until) {
					const [row] = await client<Array<{ granted: number; start: number; slot_rate: number }>>`
						select granted, (extract(epoch from first_slot_at) * 1000)::float8 as start, slot_rate
						from take_sender_tokens(${sender.id}::uuid, 7, ${p.rate}::float8, ${p.capacity}::float8, ${p.recoveryPerSecond}::float8)
					`
					if (row.granted > 0)
						grants.push({ start: row.start, n: row.granted, rate: row.slot_rate })
					await new Promise((resolve) => setTimeout(resolve, 5))
				}
			}),
		)
		const slots = grants
			.flatMap((g) => Array.from({ length: g.n }, (_, i) => g.start + (i * 1000) / g.rate))
			.sort((a, b) => a - b)
		for (let i = 1; i < slots.length; i++) {
			expect(slots[i] - slots[i - 1]).toBeGreaterThanOrEqual(1000 / p.rate - 1e-3)
		}
		let lo = 0
		for (let hi = 0; hi < slots.length; hi++) {
			while (slots[hi] - slots[lo] >= 1000) lo++
			expect(hi - lo + 1).toBeLessThanOrEqual(200)
		}
		// The four connections together got close to the full rate.
		expect(slots.length).toBeGreaterThan(p.rate * 1.2)
	})

	test('grants follow the pure function: capacity first, then the booking horizon', async () => {
		const sender = await createSender(100)
		const p = bucketParameters(100)
		const first = await takeSenderTokens(sender.id, 100, 1000)
		expect(first.granted).toBe(Math.floor(p.capacity))
		expect(first.firstSlotInMs).toBe(0)
		expect(first.intervalMs).toBeCloseTo(1000 / p.rate, 6)
		const second = await takeSenderTokens(sender.id, 100, 1000)
		expect(second.granted).toBeLessThanOrEqual(4)
		expect(second.firstSlotInMs).toBeGreaterThan(40)
	})

	test('130429 halves the rate in force once per second, and it recovers', async () => {
		const sender = await createSender(100)
		const p = bucketParameters(100)
		await takeSenderTokens(sender.id, 100, 1)
		await slowSender(sender.id, 100)
		await slowSender(sender.id, 100)
		const rate = await currentSenderRate(sender.id, 100)
		expect(rate).toBeGreaterThan(p.rate / 2 - 1)
		expect(rate).toBeLessThan(p.rate / 2 + 2)
		await sql`update sender_rate_buckets set slowed_at = slowed_at - interval '3 seconds' where sender_id = ${sender.id}`
		expect(await currentSenderRate(sender.id, 100)).toBeCloseTo(
			p.rate / 2 + 3 * p.recoveryPerSecond,
			0,
		)
		const grant = await takeSenderTokens(sender.id, 100, 1)
		expect(grant.rate).toBeCloseTo(p.rate / 2 + 3 * p.recoveryPerSecond, 0)
	})
})
