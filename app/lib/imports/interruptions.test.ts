import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { db, sql } from '#db/client'
import { importRowErrors, imports } from '#db/schema/index'
import { generateContactsCsv, type GeneratedCsv } from '#tests/bench/contacts-csv'
import { createImport, requestCancel } from './imports.server'
import { runImport } from './run-import.server'
import { chunkTables, importFixture } from './test-helpers'

const root = path.resolve(import.meta.dirname, '../../..')
let dir: string
let big: GeneratedCsv

beforeAll(async () => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pregon-import-'))
	// Big enough that the import is still reading when the test cancels or kills it: at ~100,000
	// rows/s, 150,000 rows were sometimes all read (and the cancel refused) on a loaded machine.
	big = await generateContactsCsv(path.join(dir, 'big.csv'), 500_000)
})

afterAll(() => {
	fs.rmSync(dir, { recursive: true, force: true })
})

beforeEach(async () => {
	await sql`truncate contacts cascade`
	await importFixture('duplicates.csv', { tags: ['before'] })
})

const snapshot = () => sql`select * from contacts order by id`

async function waitForRowsRead(importId: string) {
	for (let i = 0; i < 600; i++) {
		const [row] = await db
			.select({ rowsRead: imports.rowsRead })
			.from(imports)
			.where(eq(imports.id, importId))
		if (row && row.rowsRead > 0) return row.rowsRead
		await new Promise((resolve) => setTimeout(resolve, 50))
	}
	throw new Error('the import never reported progress')
}

test('cancelling mid-way leaves the contacts table exactly as it was', async () => {
	const before = await snapshot()
	const row = await createImport({
		fileName: 'big.csv',
		existingPath: big.path,
		options: { defaultCountry: 'PE', tags: ['new'] },
		enqueue: false,
	})
	const running = runImport(row.id, { phoneThreads: 1 })
	const readSoFar = await waitForRowsRead(row.id)
	expect(readSoFar).toBeLessThan(big.rows)
	// A reader outside the import sees none of its rows while it runs.
	expect(await snapshot()).toEqual(before)
	expect(await requestCancel(row.id)).toBe(true)
	const summary = await running
	expect(summary).toMatchObject({
		status: 'cancelled',
		inserted: 0,
		updated: 0,
		unchanged: 0,
		error: 'Cancelled by the user',
	})
	expect(await snapshot()).toEqual(before)
	expect(
		await db.select().from(importRowErrors).where(eq(importRowErrors.importId, row.id)),
	).toEqual([])
	expect(await chunkTables(row.id)).toEqual([])
})

test('killing the importing process mid-way (SIGKILL) leaves the contacts unchanged; a rerun then completes', async () => {
	const before = await snapshot()
	const file = path.join(dir, 'killed.csv')
	fs.copyFileSync(big.path, file)
	const child = spawn(
		process.execPath,
		['--import', 'tsx', 'app/cli/import.ts', '--file', file, '--country', 'PE', '--tags', 'new'],
		{ cwd: root, env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL }, stdio: 'ignore' },
	)
	let importId: string | undefined
	for (let i = 0; i < 600 && !importId; i++) {
		const [row] = await db
			.select({ id: imports.id })
			.from(imports)
			.where(eq(imports.fileName, 'killed.csv'))
		importId = row?.id
		if (!importId) await new Promise((resolve) => setTimeout(resolve, 50))
	}
	expect(importId).toBeDefined()
	await waitForRowsRead(importId!)
	child.kill('SIGKILL')
	await once(child, 'exit')
	expect(await snapshot()).toEqual(before)
	const [stale] = await db.select().from(imports).where(eq(imports.id, importId!))
	expect(stale.status).toBe('parsing')
	// The killed process could not drop the chunk tables it had staged; the rerun does.
	expect(await chunkTables(importId)).not.toEqual([])

	// What the job's retry does: run the same import again, from the start.
	const summary = await runImport(importId!)
	expect(summary).toMatchObject({
		status: 'completed',
		inserted: big.accepted,
		rejected: big.invalid + big.duplicates,
		updated: 0,
		unchanged: 0,
	})
	const [{ count }] = await sql`select count(*)::int as count from contacts`
	expect(count).toBe(before.length + big.accepted)
	expect(await snapshot().then((rows) => rows.slice(0, before.length))).toEqual(before)
	expect(await chunkTables(importId)).toEqual([])
}, 120_000)
