import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { contacts } from '#db/schema/index'
import { createImport } from '#app/lib/imports/imports.server'
import { runImport } from '#app/lib/imports/run-import.server'
import { roleCookies, startSecurityServer } from './server'
import { seedWorld, WORLD_PHONE } from './world'

/**
 * Issue #9: CSV exports neutralise formula cells, checked on the files the server sends (contact
 * export, import errors, broadcast report) with formulas planted in every field a user or an
 * imported file controls; and the analyst's copies carry no full phone number.
 */
let server: Awaited<ReturnType<typeof startSecurityServer>>
let cookies: Map<string, string>
let params: Record<string, string>
let importId: string

const FORMULAS = [
	'=HYPERLINK("http://evil.example","x")',
	'+1+2',
	'-2+3',
	'@SUM(A1)',
	'\t=1',
	'\r=1',
]

beforeAll(async () => {
	server = await startSecurityServer()
	cookies = (await roleCookies('export.test')).cookies
	params = await seedWorld()
	await db.insert(contacts).values(
		FORMULAS.map((formula, i) => ({
			phoneE164: `+5198700010${i}`,
			name: formula,
			email: `x${i}@example.com`,
			tags: ['security', formula],
			attributes: { note: formula },
		})),
	)
	// An import whose rejected rows carry formulas as their raw values.
	const file = path.join(server.dataDir!, 'formulas.csv')
	const lines = FORMULAS.map((f) => `"${f.replaceAll('"', '""')}",${f.includes(',') ? '"x"' : f}`)
	// And a valid number twice: the second is rejected as a duplicate, its raw value a full phone.
	fs.writeFileSync(file, ['phone,name', ...lines, '987654329,Dup', '987654329,Dup'].join('\n'))
	const row = await createImport({
		fileName: 'formulas.csv',
		existingPath: file,
		options: { defaultCountry: 'PE' },
		enqueue: false,
	})
	await runImport(row.id)
	importId = row.id
})

afterAll(() => server?.close())

/** RFC 4180 cells (quoted fields may hold commas, quotes and line breaks). */
function cells(csv: string) {
	const out: string[] = []
	let cell = ''
	let quoted = false
	for (let i = 0; i < csv.length; i++) {
		const char = csv[i]
		if (quoted && char === '"' && csv[i + 1] === '"') {
			cell += '"'
			i++
		} else if (quoted && char === '"') {
			quoted = false
		} else if (quoted) {
			cell += char
		} else if (char === '"' && cell === '') {
			quoted = true
		} else if (char === ',' || char === '\n') {
			out.push(cell.replace(/\r$/, ''))
			cell = ''
		} else {
			cell += char
		}
	}
	if (cell !== '') out.push(cell)
	return out
}

async function download(url: string, role: string) {
	const response = await fetch(`${server.base}${url}`, { headers: { cookie: cookies.get(role)! } })
	expect(response.status, url).toBe(200)
	return response.text()
}

function exportsFor() {
	return [
		'/contacts/export',
		`/imports/${importId}/errors`,
		`/reports/broadcasts/${params.broadcastId}/export`,
	]
}

describe('CSV exports', () => {
	test('no cell of any export starts a formula', async () => {
		let planted = 0
		for (const url of exportsFor()) {
			const csv = await download(url, 'admin')
			const dangerous = cells(csv).filter((cell) => /^[=+\-@\t\r]/.test(cell))
			expect(dangerous, url).toEqual([])
			planted += cells(csv).filter((cell) => cell.startsWith("'=") || cell.startsWith("'@")).length
		}
		// The planted formulas did reach the exports (neutralised), or this proved nothing.
		expect(planted).toBeGreaterThan(FORMULAS.length)
	})

	test("an analyst's contact and report exports carry no full phone number", async () => {
		const phones = (await db.select({ phone: contacts.phoneE164 }).from(contacts)).map(
			(row) => row.phone,
		)
		expect(phones).toContain(WORLD_PHONE)
		for (const url of ['/contacts/export', `/reports/broadcasts/${params.broadcastId}/export`]) {
			const csv = await download(url, 'analyst')
			// Compared on the national digits, as a file may have written them.
			for (const phone of phones) {
				expect(csv, `${url} shows ${phone}`).not.toContain(phone.slice(-9))
			}
		}
		// An admin's export does show them (the masking is the analyst's).
		expect(await download('/contacts/export', 'admin')).toContain(WORLD_PHONE)
	})

	test("an analyst's import-error export masks raw phone values", async () => {
		const csv = await download(`/imports/${importId}/errors`, 'analyst')
		expect(csv).toContain('Duplicate')
		expect(csv).not.toContain('987654329')
	})
})
