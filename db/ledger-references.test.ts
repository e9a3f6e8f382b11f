import postgres from 'postgres'
import { afterAll, beforeEach, describe, expect, test } from 'vitest'
import { sql } from '#db/client'

// The ledger's references are enforced by statement-level triggers (migration 0014); these
// tests hold them to what the foreign keys they replace guaranteed, concurrency included.

const other = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} })
afterAll(async () => {
	await other.end({ timeout: 5 })
})

let broadcastId: string
let contactId: number

beforeEach(async () => {
	const [broadcast] = await sql<Array<{ id: string }>>`
		insert into broadcasts (name, status) values ('References', 'sending') returning id`
	broadcastId = broadcast.id
	const [contact] = await sql<Array<{ id: number }>>`
		insert into contacts (phone_e164) values (${`+5198${String(Math.random()).slice(2, 9)}`})
		returning id`
	contactId = Number(contact.id)
})

function insertRecipient(executor: postgres.Sql | postgres.TransactionSql, contact: number) {
	return executor`
		insert into broadcast_recipients (broadcast_id, contact_id, phone_e164)
		values (${broadcastId}::uuid, ${contact}, '+51980000000')`
}

const FOREIGN_KEY_VIOLATION = { code: '23503' }

/** Resolves to 'pending' when the promise has not settled within `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number) {
	const outcome = await Promise.race([
		promise.then(
			() => 'resolved',
			() => 'rejected',
		),
		new Promise((resolve) => setTimeout(() => resolve('pending'), ms)),
	])
	return outcome
}

describe('broadcast_recipients references', () => {
	test('a row for a contact or a broadcast that does not exist is refused', async () => {
		await expect(insertRecipient(sql, contactId + 1_000_000)).rejects.toMatchObject(
			FOREIGN_KEY_VIOLATION,
		)
		await expect(
			sql`insert into broadcast_recipients (broadcast_id, contact_id, phone_e164)
				values (gen_random_uuid(), ${contactId}, '+51980000000')`,
		).rejects.toMatchObject(FOREIGN_KEY_VIOLATION)
		await insertRecipient(sql, contactId)
		const [{ n }] = await sql`
			select count(*)::int as n from broadcast_recipients where broadcast_id = ${broadcastId}::uuid`
		expect(n).toBe(1)
	})

	test('a contact in a ledger cannot be deleted; one that is not can', async () => {
		await insertRecipient(sql, contactId)
		await expect(sql`delete from contacts where id = ${contactId}`).rejects.toMatchObject(
			FOREIGN_KEY_VIOLATION,
		)
		const [free] = await sql`insert into contacts (phone_e164) values ('+51981111111') returning id`
		await sql`delete from contacts where id = ${free.id}`
		const [{ n }] = await sql`select count(*)::int as n from contacts where id = ${contactId}`
		expect(n).toBe(1)
	})

	test('a ledger row keeps its broadcast and contact', async () => {
		await insertRecipient(sql, contactId)
		const [second] =
			await sql`insert into contacts (phone_e164) values ('+51982222222') returning id`
		await expect(
			sql`update broadcast_recipients set contact_id = ${second.id} where broadcast_id = ${broadcastId}::uuid`,
		).rejects.toMatchObject(FOREIGN_KEY_VIOLATION)
	})

	test('deleting a broadcast deletes its ledger rows', async () => {
		await insertRecipient(sql, contactId)
		await sql`delete from broadcasts where id = ${broadcastId}::uuid`
		const [{ n }] = await sql`
			select count(*)::int as n from broadcast_recipients where broadcast_id = ${broadcastId}::uuid`
		expect(n).toBe(0)
	})

	test('a delete that waits for a ledger insert is refused once the insert commits', async () => {
		let commit!: () => void
		const committed = new Promise<void>((resolve) => (commit = resolve))
		const insert = other.begin(async (tx) => {
			await insertRecipient(tx, contactId)
			await committed
		})
		// Let the insert take its lock before the delete starts.
		await new Promise((resolve) => setTimeout(resolve, 200))
		const remove = sql`delete from contacts where id = ${contactId}`
		expect(await settledWithin(remove, 300)).toBe('pending')
		commit()
		await insert
		await expect(remove).rejects.toMatchObject(FOREIGN_KEY_VIOLATION)
	})

	test('an insert that waits for a contact delete is refused once the delete commits', async () => {
		let commit!: () => void
		const committed = new Promise<void>((resolve) => (commit = resolve))
		const remove = other.begin(async (tx) => {
			await tx`delete from contacts where id = ${contactId}`
			await committed
		})
		await new Promise((resolve) => setTimeout(resolve, 200))
		const insert = insertRecipient(sql, contactId)
		expect(await settledWithin(insert, 300)).toBe('pending')
		commit()
		await remove
		await expect(insert).rejects.toMatchObject(FOREIGN_KEY_VIOLATION)
		const [{ n }] = await sql`
			select count(*)::int as n from broadcast_recipients where broadcast_id = ${broadcastId}::uuid`
		expect(n).toBe(0)
	})

	test('a broadcast delete that waits for a ledger insert removes the committed rows too', async () => {
		let commit!: () => void
		const committed = new Promise<void>((resolve) => (commit = resolve))
		const insert = other.begin(async (tx) => {
			await insertRecipient(tx, contactId)
			await committed
		})
		await new Promise((resolve) => setTimeout(resolve, 200))
		const remove = sql`delete from broadcasts where id = ${broadcastId}::uuid`
		expect(await settledWithin(remove, 300)).toBe('pending')
		commit()
		await insert
		await remove
		const [{ n }] = await sql`
			select count(*)::int as n from broadcast_recipients where broadcast_id = ${broadcastId}::uuid`
		expect(n).toBe(0)
	})
})
