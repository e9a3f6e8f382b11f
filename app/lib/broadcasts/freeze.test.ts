import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sql } from '#db/client'
import {
	recipientCounts,
	seedBroadcast,
	seedContacts,
	seedSender,
	seedTemplate,
	startTestSandbox,
} from '#app/lib/sending/testing.server'
import { freezeAudience, getBroadcast, updateBroadcast } from './broadcasts.server'
import { previewAudience } from './preflight.server'
import { VALID_E164 } from './audience.server'
import { db } from '#db/client'
import { sql as q } from 'drizzle-orm'

let sandbox: Awaited<ReturnType<typeof startTestSandbox>>
beforeAll(async () => {
	sandbox = await startTestSandbox()
})
afterAll(async () => {
	await sandbox.close()
})

async function counters(broadcastId: string) {
	const rows = await sql<Array<{ state: string; n: number }>>`
		select state, sum(delta)::int as n from broadcast_counter_deltas where broadcast_id = ${broadcastId}::uuid
		group by state having sum(delta) <> 0`
	return Object.fromEntries(rows.map((row) => [row.state, row.n]))
}

describe('freezeAudience', () => {
	test('judges a number valid E.164 exactly as the regular expression the app uses elsewhere', async () => {
		const E164 = /^\+[1-9]\d{6,14}$/
		const samples = [
			'+5491112345678',
			'+1234567',
			'+123456',
			'+123456789012345',
			'+1234567890123456',
			'+0123456789',
			'5491112345678',
			'++549111234567',
			'+54 9111234567',
			'+54911a234567',
			'+５４９１１１２３４５６',
			'',
			'+',
			'+١٢٣٤٥٦٧٨',
			'+12345678\n',
			' +12345678',
			'+12345678 ',
		]
		let seed = 7
		const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
		// Mostly near-valid numbers: a plus and digits, with an occasional wrong character.
		const pick = () => {
			const r = random()
			return r < 0.9
				? String(Math.floor(random() * 10))
				: r < 0.95
					? '+'
					: ' a-'[Math.floor(random() * 3)]
		}
		for (let i = 0; i < 2000; i++) {
			const length = Math.floor(random() * 19)
			const body = Array.from({ length }, pick).join('')
			samples.push(random() < 0.85 ? `+${body}` : body)
		}
		const rows = await db.execute<{ phone: string; valid: boolean }>(q`
			select c.phone_e164 as phone, ${VALID_E164} as valid
			from unnest(${`{${samples.map((s) => JSON.stringify(s)).join(',')}}`}::text[]) as c(phone_e164)`)
		expect(rows.length).toBe(samples.length)
		const disagreements = rows.filter((row) => row.valid !== E164.test(row.phone))
		expect(disagreements).toEqual([])
		expect(rows.filter((row) => row.valid).length).toBeGreaterThan(100)
	})

	test('renders variables in SQL and records every exclusion with its reason, once', async () => {
		const sender = await seedSender(80)
		const template = await seedTemplate()
		await seedContacts(100, 'freeze', { optedOutEvery: 10, noCodeEvery: 7 })
		// An invalid number, and two contacts of one WhatsApp account (the second is a duplicate).
		await sql`insert into contacts (phone_e164, name, attributes, tags) values
			('12345', 'Bad', '{"code":"X"}', '{freeze}'),
			('+5511987654321', 'Ana', '{"code":"A"}', '{freeze}'),
			('+551187654321', 'Ana bis', '{"code":"B"}', '{freeze}')`
		await sql`update contacts set wa_id = '551187654321' where phone_e164 in ('+5511987654321', '+551187654321')`
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'freeze',
		})

		const preview = await previewAudience(broadcast.id)
		const inserted = await freezeAudience(broadcast.id)
		expect(inserted).toBe(103)
		const counts = await recipientCounts(broadcast.id)
		// 10 opted out (every 10th); of the rest, every 7th lacks the code: 7,14,…,98 minus 70 → 13.
		expect(counts).toEqual({ queued: 103 - 10 - 13 - 2, skipped: 10 + 13 + 2 })
		const reasons = await sql<Array<{ skip_reason: string; n: number }>>`
			select skip_reason, count(*)::int as n from broadcast_recipients
			where broadcast_id = ${broadcast.id}::uuid and state = 'skipped' group by 1 order by 1`
		expect(reasons).toEqual([
			{ skip_reason: 'duplicate', n: 1 },
			{ skip_reason: 'invalid_number', n: 1 },
			{ skip_reason: 'missing_variable', n: 13 },
			{ skip_reason: 'opted_out', n: 10 },
		])
		expect(preview.eligible).toBe(counts.queued)
		expect(preview.excluded).toEqual({
			opted_out: 10,
			invalid_number: 1,
			duplicate: 1,
			missing_variable: 13,
		})

		const [row] = await sql<Array<{ variables: Record<string, string> }>>`
			select r.variables from broadcast_recipients r join contacts c on c.id = r.contact_id
			where r.broadcast_id = ${broadcast.id}::uuid and c.phone_e164 = '+5511987654321'`
		expect(row.variables).toEqual({ 'body:1': 'Ana', 'body:2': 'A' })

		// Idempotent: a second freeze adds nothing and changes nothing.
		expect(await freezeAudience(broadcast.id)).toBe(0)
		expect(await recipientCounts(broadcast.id)).toEqual(counts)
		// The trigger-maintained counters agree with the ledger.
		expect(await counters(broadcast.id)).toEqual(counts)
	})

	test('fallbacks fill empty values; fixed text; attribute filters are case-insensitive', async () => {
		const sender = await seedSender(80)
		const template = await seedTemplate('APPROVED', 'promo_engine_b')
		await seedContacts(20, 'attr', { noCodeEvery: 4 })
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'attr',
			mapping: {
				'body:1': { source: 'text', text: 'cliente' },
				'body:2': { source: 'attribute', key: 'code', fallback: 'SIN-CODIGO' },
			},
		})
		await updateBroadcast(
			broadcast.id,
			{ audience: { tagsAll: ['attr'], attributes: [{ key: 'city', value: ' lima ' }] } },
			null,
		)
		expect((await getBroadcast(broadcast.id))!.audience).toMatchObject({ tagsAll: ['attr'] })
		await freezeAudience(broadcast.id)
		const rows = await sql<Array<{ variables: Record<string, string>; state: string }>>`
			select variables, state from broadcast_recipients where broadcast_id = ${broadcast.id}::uuid order by id`
		// Every 4th contact has no attributes; of the others the even ones live in Lima: 2, 6, 10, 14, 18.
		expect(rows.length).toBe(5)
		for (const row of rows) {
			expect(row.state).toBe('queued')
			expect(row.variables['body:1']).toBe('cliente')
			expect(row.variables['body:2']).toMatch(/^C\d+$/)
		}
	})

	test('an import audience freezes exactly the contacts of that import, opted-out ones skipped', async () => {
		const sender = await seedSender(80)
		const template = await seedTemplate('APPROVED', 'promo_engine_c')
		await seedContacts(20, 'byimport', { optedOutEvery: 4 })
		const imported = Array.from({ length: 12 }, (_, i) => `Contacto ${i + 1}`)
		const [done] = await sql<Array<{ id: string }>>`
			insert into imports (file_name, file_size, status) values ('leads.csv', 10, 'completed') returning id`
		// Contacts 1–12 came with the import (4, 8 and 12 are opted out); 13–20 share the tag only.
		// It created 1–6 as one block of ids and found 7–12 already there.
		await sql`
			insert into import_contact_ranges (import_id, first_id, last_id)
			select ${done.id}::uuid, min(id), max(id) from contacts
			where 'byimport' = any(tags) and name = any(${imported.slice(0, 6)})`
		await sql`
			insert into import_contacts (import_id, contact_id)
			select ${done.id}::uuid, id from contacts
			where 'byimport' = any(tags) and name = any(${imported.slice(6)})`
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'byimport',
		})
		await updateBroadcast(broadcast.id, { audience: { importId: done.id } }, null)

		expect(await freezeAudience(broadcast.id)).toBe(12)
		const rows = await sql<Array<{ name: string; state: string; skip_reason: string | null }>>`
			select c.name, r.state, r.skip_reason from broadcast_recipients r join contacts c on c.id = r.contact_id
			where r.broadcast_id = ${broadcast.id}::uuid order by c.id`
		expect(rows.map((row) => row.name)).toEqual(imported)
		expect(rows.filter((row) => row.state === 'skipped')).toEqual([
			{ name: 'Contacto 4', state: 'skipped', skip_reason: 'opted_out' },
			{ name: 'Contacto 8', state: 'skipped', skip_reason: 'opted_out' },
			{ name: 'Contacto 12', state: 'skipped', skip_reason: 'opted_out' },
		])
		expect(await recipientCounts(broadcast.id)).toEqual({ queued: 9, skipped: 3 })
	})

	test('a contact deleted while the freeze waits for the ledger lock is not frozen', async () => {
		const sender = await seedSender(80)
		const template = await seedTemplate('APPROVED', 'promo_engine_d')
		await seedContacts(5, 'racing')
		const broadcast = await seedBroadcast({
			senderId: sender.id,
			templateId: template.id,
			tag: 'racing',
		})
		const [victim] = await sql<Array<{ id: string }>>`
			select id from contacts where 'racing' = any(tags) order by id limit 1`
		let commit!: () => void
		const committed = new Promise<void>((resolve) => (commit = resolve))
		let deleted!: () => void
		const deleteDone = new Promise<void>((resolve) => (deleted = resolve))
		// The delete's trigger holds the ledger lock until it commits; the freeze must wait for it
		// before it reads the audience, or it would freeze a contact that no longer exists.
		const remove = sql.begin(async (tx) => {
			await tx`delete from contacts where id = ${victim.id}`
			deleted()
			await committed
		})
		await deleteDone
		const freeze = freezeAudience(broadcast.id)
		await new Promise((resolve) => setTimeout(resolve, 200))
		commit()
		await remove
		expect(await freeze).toBe(4)
		const [{ dangling }] = await sql<Array<{ dangling: number }>>`
			select count(*)::int as dangling from broadcast_recipients r
			where r.broadcast_id = ${broadcast.id}::uuid
				and not exists (select 1 from contacts c where c.id = r.contact_id)`
		expect(dangling).toBe(0)
	})
})
