import { and, eq } from 'drizzle-orm'
import { beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { db, sql } from '#db/client'
import { auditLog, calls, contacts, senders, users } from '#db/schema/index'
import {
	addNote,
	bulkTag,
	deleteNote,
	exportContactsCsv,
	getContact,
	listContacts,
	setOptOut,
	updateNote,
} from './contacts.server'
import { ContactFilterSchema } from './filters'
import { maskPhone } from './mask'
import { indexPendingContacts } from './search-index.server'

let actorId: string
const filter = (
	input: Partial<{ q: string; tag: string; optOut: 'any' | 'subscribed' | 'opted_out' }> = {},
) => ContactFilterSchema.parse(input)

beforeAll(async () => {
	const [user] = await db
		.insert(users)
		.values({
			email: 'marketer@contacts.test',
			name: 'Mara',
			role: 'marketer',
			passwordHash: 'not-used',
		})
		.returning()
	actorId = user.id
})

beforeEach(async () => {
	await sql`truncate contacts cascade`
	await db.insert(contacts).values([
		{
			phoneE164: '+51987000001',
			name: 'María Pérez',
			tags: ['vip', 'lima'],
			attributes: { city: 'Lima' },
		},
		{
			phoneE164: '+51987000002',
			name: 'Jose Quispe',
			email: 'jq@example.com',
			tags: ['lima'],
			attributes: { plan: 'Oro' },
		},
		{
			phoneE164: '+51987000003',
			name: '=cmd|calc',
			tags: [],
			attributes: { note: '+1+1' },
			optedOutAt: new Date(),
			optOutSource: 'keyword',
		},
		{ phoneE164: '+5511987654321', name: 'Ana Souza', tags: ['br'], attributes: {} },
	])
})

const names = (rows: Array<{ name: string | null }>) => rows.map((row) => row.name)

describe('search and filters', () => {
	test.each([['before indexing'], ['after indexing']])(
		'search by name, accents folded, by phone digits and by attribute value (%s)',
		async (when) => {
			if (when === 'after indexing') expect(await indexPendingContacts()).toBe(4)
			expect(names((await listContacts(filter({ q: 'maria' }))).contacts)).toEqual(['María Pérez'])
			expect(names((await listContacts(filter({ q: 'PÉREZ' }))).contacts)).toEqual(['María Pérez'])
			expect(names((await listContacts(filter({ q: '987 000 002' }))).contacts)).toEqual([
				'Jose Quispe',
			])
			expect(names((await listContacts(filter({ q: '+55 11' }))).contacts)).toEqual(['Ana Souza'])
			expect(names((await listContacts(filter({ q: 'oro' }))).contacts)).toEqual(['Jose Quispe'])
			expect(names((await listContacts(filter({ q: 'example.com' }))).contacts)).toEqual([
				'Jose Quispe',
			])
			expect(names((await listContacts(filter({ q: '100%' }))).contacts)).toEqual([])
		},
	)

	test('filter by tag and opt-out state, combined with search', async () => {
		expect(names((await listContacts(filter({ tag: 'lima' }))).contacts)).toEqual([
			'Jose Quispe',
			'María Pérez',
		])
		expect(names((await listContacts(filter({ optOut: 'opted_out' }))).contacts)).toEqual([
			'=cmd|calc',
		])
		expect((await listContacts(filter({ optOut: 'subscribed' }))).contacts).toHaveLength(3)
		expect(names((await listContacts(filter({ tag: 'lima', q: 'quispe' }))).contacts)).toEqual([
			'Jose Quispe',
		])
	})

	test('keyset pagination walks every contact once, newest first', async () => {
		const first = await listContacts(filter(), { limit: 3 })
		expect(first.contacts).toHaveLength(3)
		expect(first.nextBefore).toBe(first.contacts[2].id)
		const second = await listContacts(filter(), { limit: 3, before: first.nextBefore })
		expect(names(second.contacts)).toEqual(['María Pérez'])
		expect(second.nextBefore).toBeUndefined()
	})
})

describe('changes', () => {
	test('bulk tag and untag apply to the filtered contacts only, and are audited', async () => {
		expect(
			await bulkTag({ filter: filter({ tag: 'lima' }), tag: 'promo', mode: 'add', actorId }),
		).toBe(2)
		expect(
			await bulkTag({ filter: filter({ tag: 'lima' }), tag: 'promo', mode: 'add', actorId }),
		).toBe(0)
		expect(names((await listContacts(filter({ tag: 'promo' }))).contacts)).toEqual([
			'Jose Quispe',
			'María Pérez',
		])
		expect(
			await bulkTag({ filter: filter({ q: 'maria' }), tag: 'promo', mode: 'remove', actorId }),
		).toBe(1)
		expect(names((await listContacts(filter({ tag: 'promo' }))).contacts)).toEqual(['Jose Quispe'])
		const audit = await db.select().from(auditLog).where(eq(auditLog.action, 'contact.bulk_tag'))
		expect(audit.at(-1)?.details).toMatchObject({ tag: 'promo', count: 0 })
	})

	test('manual opt-out and opt-in record source, time and an audit entry', async () => {
		const [contact] = await db.select().from(contacts).where(eq(contacts.phoneE164, '+51987000001'))
		expect(await setOptOut({ contactId: contact.id, optedOut: true, actorId })).toBe(true)
		expect(await setOptOut({ contactId: contact.id, optedOut: true, actorId })).toBe(false)
		let detail = await getContact(contact.id)
		expect(detail?.contact.optOutSource).toBe('manual')
		expect(detail?.contact.optedOutAt).toBeInstanceOf(Date)
		expect(await setOptOut({ contactId: contact.id, optedOut: false, actorId })).toBe(true)
		detail = await getContact(contact.id)
		expect(detail?.contact).toMatchObject({ optedOutAt: null, optOutSource: null })
		const audit = await db
			.select({ action: auditLog.action })
			.from(auditLog)
			.where(and(eq(auditLog.objectType, 'contact'), eq(auditLog.objectId, String(contact.id))))
		expect(audit.map((a) => a.action)).toEqual(['contact.opt_out', 'contact.opt_in'])
	})

	test('notes: add, edit, delete (scoped to their contact)', async () => {
		const [a, b] = await db.select().from(contacts).orderBy(contacts.id).limit(2)
		const note = await addNote({ contactId: a.id, body: 'Prefers mornings', authorId: actorId })
		expect((await getContact(a.id))?.notes).toMatchObject([
			{ body: 'Prefers mornings', authorName: 'Mara' },
		])
		expect(
			await updateNote({ contactId: b.id, noteId: note.id, body: 'hijack', actorId }),
		).toBeUndefined()
		await updateNote({ contactId: a.id, noteId: note.id, body: 'Prefers evenings', actorId })
		expect((await getContact(a.id))?.notes[0].body).toBe('Prefers evenings')
		expect(await deleteNote({ contactId: a.id, noteId: note.id, actorId })).toBe(true)
		expect((await getContact(a.id))?.notes).toEqual([])
	})

	test('the contact page lists the calls of that contact only', async () => {
		const [a, b] = await db.select().from(contacts).orderBy(contacts.id).limit(2)
		const [sender] = await db
			.insert(senders)
			.values({
				phoneNumberId: '100000000000777',
				wabaId: '200000000000777',
				displayNumber: '+1 555 000 0777',
			})
			.returning()
		await db.insert(calls).values([
			{
				senderId: sender.id,
				kapsoCallId: 'call-a',
				contactId: a.id,
				direction: 'inbound',
				status: 'completed',
				durationSeconds: 42,
			},
			{
				senderId: sender.id,
				kapsoCallId: 'call-b',
				contactId: b.id,
				direction: 'outbound',
				status: 'missed',
			},
		])
		expect((await getContact(a.id))?.calls).toMatchObject([
			{ direction: 'inbound', status: 'completed', durationSeconds: 42 },
		])
	})
})

describe('export', () => {
	async function exportText(...args: Parameters<typeof exportContactsCsv>) {
		let text = ''
		for await (const chunk of exportContactsCsv(...args)) text += chunk
		return text
	}

	test('cells that start with = + - @ are neutralised; filters apply', async () => {
		const csv = await exportText(filter({ optOut: 'opted_out' }))
		const [header, row, end] = csv.split('\r\n')
		expect(header).toBe(
			'phone,name,email,tags,opted_out_at,opt_out_source,created_at,note,other_attributes',
		)
		expect(row.startsWith("'+51987000003,'=cmd|calc,,,")).toBe(true)
		expect(row).toContain(',keyword,')
		expect(row).toContain(",'+1+1,")
		expect(end).toBe('')
	})

	test('analysts get masked phones', async () => {
		const csv = await exportText(filter({ q: 'ana souza' }), { maskPhones: true })
		expect(csv.split('\r\n')[1].startsWith(`'${maskPhone('+5511987654321')},Ana Souza`)).toBe(true)
		expect(csv).not.toContain('987654')
	})
})

test('maskPhone keeps the country prefix and the last three digits', () => {
	expect(maskPhone('+51987654321')).toBe('+51••••••321')
	expect(maskPhone('')).toBe('')
	expect(maskPhone('+5112')).toBe('•••••')
})
