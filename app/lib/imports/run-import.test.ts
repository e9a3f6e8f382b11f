import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { sql } from '#db/client'
import { chunkTables, contactsByPhone, importedPhones, importFixture } from './test-helpers'

beforeEach(async () => {
	await sql`truncate contacts cascade`
})

afterEach(async () => {
	// Completed or failed, an import drops the tables it staged its chunks in.
	expect(await chunkTables()).toEqual([])
})

const accepted = (summary: { inserted: number; updated: number; unchanged: number }) =>
	summary.inserted + summary.updated + summary.unchanged

describe('encodings', () => {
	test('UTF-8 with BOM and CRLF: accented header detected as the phone column, names intact', async () => {
		const { summary, errors } = await importFixture('utf8-bom-crlf.csv')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 2, inserted: 2, rejected: 0 })
		expect(errors).toEqual([])
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987654321')).toMatchObject({
			name: 'María Pérez',
			attributes: { ciudad: 'Lima' },
		})
		expect(byPhone.get('+51912345678')?.name).toBe('José Ñúñez')
	})

	test('UTF-16LE with BOM, tab-delimited', async () => {
		const { summary } = await importFixture('utf16le-tab.txt')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 2, inserted: 2, rejected: 0 })
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000001')).toMatchObject({
			name: 'Andrés',
			attributes: { plan: 'gold' },
		})
		expect(byPhone.get('+51987000002')?.name).toBe('Zoë')
	})

	test('Windows-1252 with ";" is detected when the bytes are not UTF-8', async () => {
		const { summary } = await importFixture('windows-1252-semicolon.csv')
		expect(summary).toMatchObject({ status: 'completed', inserted: 2, rejected: 0 })
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000011')).toMatchObject({
			name: 'Muñoz',
			attributes: { ano: '1999' },
		})
		expect(byPhone.get('+51987000012')?.name).toBe('Peña ©')
	})

	test('a file that stops being UTF-8 after the sampled part fails with a clear message and imports nothing', async () => {
		const { summary } = await importFixture('late-windows-1252.csv')
		expect(summary.status).toBe('failed')
		expect(summary.error).toMatch(/not valid UTF-8 .*Windows-1252/)
		expect((await contactsByPhone()).size).toBe(0)
	})

	test('choosing Windows-1252 for that file imports it', async () => {
		const { summary, errors } = await importFixture('late-windows-1252.csv', {
			encoding: 'windows-1252',
		})
		expect(summary).toMatchObject({
			status: 'completed',
			rowsRead: 4001,
			inserted: 4000,
			rejected: 1,
		})
		expect(errors).toEqual([
			{
				line: 4002,
				value: 'phone2',
				code: 'invalid_phone',
				reason: 'Invalid phone number: contains letters',
			},
		])
	})
})

describe('delimiters and line ends', () => {
	test('";" with LF', async () => {
		const { summary } = await importFixture('utf8-semicolon-lf.csv')
		expect(summary).toMatchObject({ status: 'completed', inserted: 2, rejected: 0 })
		expect((await contactsByPhone()).get('+51987000021')).toMatchObject({
			name: 'Ana',
			email: 'ana@example.com',
		})
	})

	test('CR-only line ends, with a blank line', async () => {
		const { summary } = await importFixture('cr-line-ends.csv')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 3, inserted: 3, rejected: 0 })
	})

	test('CRLF, LF and CR mixed in one file', async () => {
		const { summary } = await importFixture('mixed-line-ends.csv')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 3, inserted: 3, rejected: 0 })
		expect([...(await contactsByPhone()).values()].map((c) => c.name)).toEqual([
			'Uno',
			'Dos',
			'Tres',
		])
	})
})

describe('messy content', () => {
	test('quoted delimiters, doubled quotes and newlines inside quotes keep physical line numbers right', async () => {
		const { summary, errors } = await importFixture('quoted-fields.csv')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 5, inserted: 3, rejected: 2 })
		expect(errors).toEqual([
			{
				line: 7,
				value: 'abc',
				code: 'invalid_phone',
				reason: 'Invalid phone number: contains letters',
			},
			{ line: 9, value: '12', code: 'invalid_phone', reason: 'Invalid phone number: too short' },
		])
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000051')).toMatchObject({
			name: 'Pérez, Juan',
			attributes: { notes: 'said "hola"' },
		})
		expect(byPhone.get('+51987000052')).toMatchObject({
			name: 'Ana\nMaría',
			attributes: { notes: 'line one\nline two\nline three' },
		})
		expect(byPhone.has('+51987000053')).toBe(true)
	})

	test('blank lines are skipped, short rows accepted, rows with extra non-empty cells refused', async () => {
		const { summary, errors } = await importFixture('blank-and-ragged.csv')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 5, inserted: 4, rejected: 1 })
		expect(errors).toEqual([
			{
				line: 7,
				value: '987000063',
				code: 'too_many_fields',
				reason: 'More cells than the header (4 > 3): check delimiters and quotes',
			},
		])
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000062')).toMatchObject({ name: 'Short', attributes: {} })
		expect(byPhone.get('+51987000064')).toMatchObject({
			name: 'Trailing',
			attributes: { city: 'Lima' },
		})
	})

	test('duplicate and oddly spaced headers become separate columns; values are trimmed', async () => {
		const { summary } = await importFixture('duplicate-headers.csv')
		expect(summary).toMatchObject({ status: 'completed', inserted: 2, rejected: 0 })
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000071')).toMatchObject({
			name: 'Ana',
			attributes: { name_2: 'Ana B', city: 'Lima', city_2: 'Callao' },
		})
		expect(byPhone.get('+51987000072')).toMatchObject({
			name: 'Beto',
			attributes: { city: 'Piura' },
		})
	})

	test('formula-looking cells are stored as text, unchanged', async () => {
		const { summary } = await importFixture('formula-cells.csv')
		expect(summary).toMatchObject({ status: 'completed', inserted: 3, rejected: 0 })
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000081')).toMatchObject({
			name: '=HYPERLINK("http://evil","x")',
			attributes: { company: '@SUM(A1)' },
		})
		expect(byPhone.get('+51987000082')).toMatchObject({
			name: '+cmd',
			attributes: { company: '-2+3' },
		})
	})

	test('an unclosed quote that swallows the rest of the file is reported, not silently merged', async () => {
		const { summary, errors } = await importFixture('unterminated-quote.csv')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 2, inserted: 1, rejected: 1 })
		expect(errors).toEqual([
			{
				line: 3,
				value: '987000142',
				code: 'malformed_row',
				reason: 'Unclosed quote: lines 3–6 were read as one cell',
			},
		])
	})
})

describe('phones', () => {
	test('every kind of invalid phone is refused with its reason', async () => {
		const { summary, errors } = await importFixture('invalid-phones.csv')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 11, inserted: 3, rejected: 8 })
		expect(errors).toEqual([
			{
				line: 2,
				value: '98765432a',
				code: 'invalid_phone',
				reason: 'Invalid phone number: contains letters',
			},
			{ line: 3, value: '12345', code: 'invalid_phone', reason: 'Invalid phone number: too short' },
			{
				line: 4,
				value: '98765432101234567',
				code: 'invalid_phone',
				reason: 'Invalid phone number: too long',
			},
			{
				line: 5,
				value: '014567890',
				code: 'not_mobile',
				reason: 'Not a mobile number: a fixed line',
			},
			{
				line: 6,
				value: '+34 912345678',
				code: 'not_mobile',
				reason: 'Not a mobile number: a fixed line',
			},
			{
				line: 7,
				value: '0800 12345',
				code: 'not_mobile',
				reason: 'Not a mobile number: a toll-free number',
			},
			{ line: 8, value: '', code: 'empty_phone', reason: 'Empty phone' },
			{ line: 12, value: '+999 1234567', code: 'invalid_phone', reason: 'Invalid phone number' },
		])
		expect([...(await contactsByPhone()).keys()]).toEqual([
			'+12125550123',
			'+447911123456',
			'+51987000091',
		])
	})

	test('duplicates after E.164 normalisation (spaces, 00, punctuation, BR ninth digit, trunk 0) name the first line', async () => {
		const { summary, errors } = await importFixture('duplicates.csv')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 9, inserted: 4, rejected: 5 })
		expect(errors.map((e) => [e.line, e.code, e.reason])).toEqual([
			[3, 'duplicate', 'Duplicate of line 2 in this file'],
			[4, 'duplicate', 'Duplicate of line 2 in this file'],
			[5, 'duplicate', 'Duplicate of line 2 in this file'],
			[8, 'duplicate', 'Duplicate of line 7 in this file'],
			[10, 'duplicate', 'Duplicate of line 9 in this file'],
		])
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000101')?.name).toBe('First')
		expect(byPhone.get('+5511987654321')?.name).toBe('BR new')
	})

	test('the opt-out column opts contacts out with source "import"', async () => {
		const { summary } = await importFixture('opt-out-column.csv', {
			columns: [
				{ index: 0, header: 'phone', target: 'phone' },
				{ index: 1, header: 'name', target: 'name' },
				{ index: 2, header: 'unsubscribed', target: 'opt_out' },
			],
		})
		expect(summary).toMatchObject({ status: 'completed', inserted: 4 })
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000131')?.optedOutAt).toBeNull()
		expect(byPhone.get('+51987000132')).toMatchObject({ optOutSource: 'import' })
		expect(byPhone.get('+51987000132')?.optedOutAt).toBeInstanceOf(Date)
		expect(byPhone.get('+51987000133')?.optOutSource).toBe('import')
		expect(byPhone.get('+51987000134')?.optedOutAt).toBeNull()
	})

	test('the opt-out column opts existing contacts out too, and never back in', async () => {
		await sql`
			insert into contacts (phone_e164, name, opted_out_at, opt_out_source) values
				('+51987000131', 'Was out', '2026-01-01', 'keyword'),
				('+51987000132', 'Was in', null, null)`
		const { summary } = await importFixture('opt-out-column.csv', {
			columns: [
				{ index: 0, header: 'phone', target: 'phone' },
				{ index: 2, header: 'unsubscribed', target: 'opt_out' },
			],
		})
		expect(summary).toMatchObject({ inserted: 2, updated: 1, unchanged: 1 })
		const byPhone = await contactsByPhone()
		expect(byPhone.get('+51987000131')).toMatchObject({
			optOutSource: 'keyword',
			optedOutAt: new Date('2026-01-01'),
		})
		expect(byPhone.get('+51987000132')).toMatchObject({ name: 'Was in', optOutSource: 'import' })
		expect(byPhone.get('+51987000132')?.optedOutAt).toBeInstanceOf(Date)
	})
})

describe('files that cannot be imported', () => {
	test.each([
		['empty.csv', 'The file is empty: no header row was found.'],
		['no-phone-column.csv', /^No phone column was found/],
		['random-binary.bin', /^No phone column was found/],
		['two-csv.zip', 'The .zip must contain exactly one CSV file; it contains 2 files.'],
	])('%s fails with a clear message and changes nothing', async (name, message) => {
		const { summary } = await importFixture(name)
		expect(summary.status).toBe('failed')
		expect(summary.error).toMatch(message)
		expect((await contactsByPhone()).size).toBe(0)
	})

	test('a .zip with one CSV (plus macOS metadata) is imported', async () => {
		const { summary, errors } = await importFixture('one-csv.zip')
		expect(summary).toMatchObject({ status: 'completed', rowsRead: 3, inserted: 2, rejected: 1 })
		expect(errors).toEqual([
			{
				line: 4,
				value: 'bad',
				code: 'invalid_phone',
				reason: 'Invalid phone number: contains letters',
			},
		])
	})
})

describe('existing contacts', () => {
	test('an import records every accepted contact of its file, new or existing, and no other', async () => {
		await sql`insert into contacts (phone_e164, name) values ('+51987654321', 'Ya estaba'), ('+51900000001', 'Otro')`
		const { importId, summary } = await importFixture('utf8-bom-crlf.csv')
		expect(summary).toMatchObject({ inserted: 1, unchanged: 1 })
		expect(await importedPhones(importId)).toEqual(['+51912345678', '+51987654321'])
	})

	test('new contacts are recorded as one id range, or one by one when their ids have gaps', async () => {
		const recorded = async (importId: string) => {
			const [counts] = await sql<Array<{ links: number; ranges: number }>>`
				select (select count(*)::int from import_contacts where import_id = ${importId}::uuid) as links,
					(select count(*)::int from import_contact_ranges where import_id = ${importId}::uuid) as ranges`
			return counts
		}
		const block = await importFixture('utf8-bom-crlf.csv')
		expect(await recorded(block.importId)).toEqual({ links: 0, ranges: 1 })
		expect(await importedPhones(block.importId)).toEqual(['+51912345678', '+51987654321'])

		// What a concurrent insert taking ids in the middle of the import's looks like.
		await sql`truncate contacts cascade`
		await sql`alter sequence contacts_id_seq increment by 2`
		try {
			const gaps = await importFixture('utf8-bom-crlf.csv')
			expect(await recorded(gaps.importId)).toEqual({ links: 2, ranges: 0 })
			expect(await importedPhones(gaps.importId)).toEqual(['+51912345678', '+51987654321'])
		} finally {
			await sql`alter sequence contacts_id_seq increment by 1`
		}
	})

	test.each([
		['links', true],
		['a range', false],
	])('deleting a contact or an import forgets it, recorded as %s', async (_, oneExisted) => {
		if (oneExisted)
			await sql`insert into contacts (phone_e164, name) values ('+51912345678', 'Ya estaba')`
		const { importId } = await importFixture('utf8-bom-crlf.csv')
		const rows = async () => {
			const [counts] = await sql<Array<{ count: number }>>`
				select (select count(*)::int from import_contacts where import_id = ${importId}::uuid)
					+ (select count(*)::int from import_contact_ranges where import_id = ${importId}::uuid) as count`
			return counts.count
		}
		expect(await importedPhones(importId)).toEqual(['+51912345678', '+51987654321'])
		await sql`delete from contacts where phone_e164 = '+51987654321'`
		expect(await importedPhones(importId)).toEqual(['+51912345678'])
		await sql`delete from imports where id = ${importId}::uuid`
		expect(await rows()).toBe(0)
	})

	test('importing the same file again changes nothing: every row is unchanged', async () => {
		const first = await importFixture('duplicates.csv', { tags: ['fair'] })
		expect(first.summary).toMatchObject({ inserted: 4, updated: 0, unchanged: 0 })
		const before = await sql`select id, updated_at, tags, name from contacts order by id`
		const again = await importFixture('duplicates.csv', { tags: ['fair'] })
		expect(again.summary).toMatchObject({
			status: 'completed',
			inserted: 0,
			updated: 0,
			unchanged: 4,
			rejected: 5,
		})
		const updateAgain = await importFixture('duplicates.csv', {
			tags: ['fair'],
			updateExisting: true,
		})
		expect(updateAgain.summary).toMatchObject({ inserted: 0, updated: 0, unchanged: 4 })
		expect(await sql`select id, updated_at, tags, name from contacts order by id`).toEqual(before)
	})

	test('tags are added to existing contacts; attributes change only with "update existing"', async () => {
		await importFixture('utf8-bom-crlf.csv')
		const kept = await importFixture('utf8-bom-crlf.csv', { tags: ['vip'], columns: renamed() })
		expect(kept.summary).toMatchObject({ inserted: 0, updated: 2, unchanged: 0 })
		let contact = (await contactsByPhone()).get('+51987654321')
		expect(contact).toMatchObject({
			name: 'María Pérez',
			tags: ['vip'],
			attributes: { ciudad: 'Lima' },
		})

		const changed = await importFixture('utf8-bom-crlf.csv', {
			tags: ['vip'],
			updateExisting: true,
			columns: renamed(),
		})
		expect(changed.summary).toMatchObject({ inserted: 0, updated: 2, unchanged: 0 })
		contact = (await contactsByPhone()).get('+51987654321')
		expect(contact).toMatchObject({
			tags: ['vip'],
			attributes: { ciudad: 'Lima', district: 'Lima' },
		})
		expect(accepted(changed.summary)).toBe(2)
	})
})

describe('chunks', () => {
	const state = () => sql`
		select c.phone_e164, c.name, c.tags, c.opted_out_at is not null as opted_out,
			exists (select 1 from import_contacts ic where ic.contact_id = c.id)
				or exists (select 1 from import_contact_ranges r where c.id between r.first_id and r.last_id)
				as linked
		from contacts c order by c.phone_e164`

	test('a file merged one row at a time ends exactly as when merged in one piece', async () => {
		const existing = () =>
			sql`insert into contacts (phone_e164, name, tags) values ('+51987000102', 'Known', '{fair}'), ('+447911123456', 'Known UK', '{}')`
		await existing()
		const whole = await importFixture('duplicates.csv', { tags: ['fair'] })
		const wholeState = await state()
		await sql`truncate contacts cascade`
		await existing()
		const chunked = await importFixture('duplicates.csv', { tags: ['fair'] }, { chunkRows: 1 })
		expect(whole.summary).toMatchObject({ inserted: 2, updated: 1, unchanged: 1, rejected: 5 })
		expect({ ...chunked.summary, importId: undefined, timings: undefined }).toEqual({
			...whole.summary,
			importId: undefined,
			timings: undefined,
		})
		expect(chunked.errors).toEqual(whole.errors)
		expect(chunked.errors.map((e) => e.reason)).toContain('Duplicate of line 2 in this file')
		expect(await state()).toEqual(wholeState)
	})
})

/** Maps the third column of utf8-bom-crlf.csv to a new attribute key, so an update has something to change. */
function renamed() {
	return [
		{ index: 0, header: 'Teléfono', target: 'phone' as const },
		{ index: 1, header: 'Nombre', target: 'name' as const },
		{ index: 2, header: 'Ciudad', target: 'attribute' as const, key: 'district' },
	]
}
