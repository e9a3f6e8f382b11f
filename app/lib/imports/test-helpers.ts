import path from 'node:path'
import { asc, eq, sql as dsql } from 'drizzle-orm'
import { db, sql } from '#db/client'
import { contacts, importRowErrors } from '#db/schema/index'
import { importContactIds } from './import-contacts.server'
import { createImport } from './imports.server'
import type { ImportOptionsInput } from './options'
import { runImport } from './run-import.server'

export const FIXTURES = path.resolve(import.meta.dirname, '../../../tests/fixtures/csv')

/** Imports a fixture in place and returns the summary and the rejected rows in line order. */
export async function importFixture(
	name: string,
	options: Partial<ImportOptionsInput> = {},
	{ chunkRows }: { chunkRows?: number } = {},
) {
	const row = await createImport({
		fileName: name,
		existingPath: path.join(FIXTURES, name),
		options: { defaultCountry: 'PE', ...options },
	})
	const summary = await runImport(row.id, { phoneThreads: 0, chunkRows })
	const errors = await db
		.select({
			line: importRowErrors.line,
			value: importRowErrors.rawValue,
			code: importRowErrors.code,
			reason: importRowErrors.reason,
		})
		.from(importRowErrors)
		.where(eq(importRowErrors.importId, row.id))
		.orderBy(asc(importRowErrors.line))
	return { importId: row.id, summary, errors }
}

export async function contactsByPhone() {
	const rows = await db.select().from(contacts).orderBy(asc(contacts.id))
	return new Map(rows.map((row) => [row.phoneE164, row]))
}

/** The COPY tables an import stages its chunks in; none may outlive the import. */
export async function chunkTables(importId?: string) {
	const rows = await sql<Array<{ name: string }>>`
		select tablename as name from pg_tables
		where schemaname = 'import_chunks' and (${importId ?? null}::text is null or starts_with(tablename, ${importId ?? ''}))
		order by 1
	`
	return rows.map((row) => row.name)
}

/** The phones of the contacts an import recorded as its own, as a broadcast audience sees them. */
export async function importedPhones(importId: string) {
	const rows = await db.execute<{ phone: string }>(
		dsql`select phone_e164 as phone from contacts where id in ${importContactIds(importId)} order by 1`,
	)
	return [...rows].map((row) => row.phone)
}
