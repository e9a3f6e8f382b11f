import { and, desc, eq, isNull, sql as dsql } from 'drizzle-orm'
import type { Readable } from 'node:stream'
import { db, type Executor } from '#db/client'
import { importRowErrors, imports } from '#db/schema/index'
import { enqueueJob } from '#app/lib/jobs/enqueue.server'
import { neutraliseCell } from '#app/lib/csv/neutralise'
import { ImportOptionsSchema, type ImportOptionsInput } from './options'
import { describeFile, storeUpload, type StoredFile } from './store.server'
import { maskPhone } from '#app/lib/contacts/mask'

export type ImportRow = typeof imports.$inferSelect

/**
 * Records an import. `upload` is streamed to the uploads folder (size limit enforced while
 * streaming); `existingPath` imports a file where it lies (the CLI). With `options` the job is
 * enqueued in the same transaction as the row; without, the import waits for the mapping step
 * (`startImport`).
 */
export async function createImport(input: {
	fileName: string
	upload?: Readable | AsyncIterable<Uint8Array>
	existingPath?: string
	options?: ImportOptionsInput
	createdBy?: string | null
	maxBytes?: number
	/** false when the caller runs the import itself (the CLI). */
	enqueue?: boolean
}): Promise<ImportRow> {
	const options = input.options ? ImportOptionsSchema.parse(input.options) : undefined
	let stored: StoredFile
	if (input.upload) stored = await storeUpload(input.upload, { maxBytes: input.maxBytes })
	else if (input.existingPath) stored = await describeFile(input.existingPath)
	else throw new Error('createImport needs an upload or an existing path')
	return db.transaction(async (tx) => {
		const [row] = await tx
			.insert(imports)
			.values({
				fileName: input.fileName.slice(0, 255),
				fileSize: stored.size,
				filePath: stored.path,
				fileSha256: stored.sha256,
				options: options ?? {},
				createdBy: input.createdBy ?? null,
			})
			.returning()
		if (options && input.enqueue !== false) await enqueueImportJob(tx, row.id)
		return row
	})
}

/** Saves the mapping chosen for a waiting import and enqueues it, atomically. */
export async function startImport(importId: string, input: ImportOptionsInput) {
	const options = ImportOptionsSchema.parse(input)
	return db.transaction(async (tx) => {
		const [row] = await tx
			.update(imports)
			.set({ options })
			.where(
				and(
					eq(imports.id, importId),
					eq(imports.status, 'queued'),
					dsql`${imports.startedAt} is null`,
				),
			)
			.returning()
		if (!row) return undefined
		await enqueueImportJob(tx, row.id)
		return row
	})
}

async function enqueueImportJob(executor: Executor, importId: string) {
	await enqueueJob(
		executor,
		'import_contacts',
		{ importId },
		{ jobKey: `import:${importId}`, maxAttempts: 3 },
	)
}

/** Asks a running import to stop; the job notices within half a second and rolls back. */
export async function requestCancel(importId: string) {
	const [row] = await db
		.update(imports)
		.set({ cancelRequestedAt: new Date() })
		.where(
			and(
				eq(imports.id, importId),
				isNull(imports.cancelRequestedAt),
				dsql`${imports.status} in ('queued', 'parsing')`,
			),
		)
		.returning({ id: imports.id })
	return Boolean(row)
}

export async function getImport(importId: string) {
	const [row] = await db.select().from(imports).where(eq(imports.id, importId))
	return row
}

export type ImportProgress = {
	status: ImportRow['status']
	rowsRead: number
	rejected: number
	rowsTotalEstimate: number | null
	inserted: number
	updated: number
	unchanged: number
	startedAt: string | null
	finishedAt: string | null
	now: string
	error: string | null
	cancelRequested: boolean
}

/** What the progress bar shows; the page derives rate and time left from two readings. */
export async function importProgress(importId: string): Promise<ImportProgress | undefined> {
	const row = await getImport(importId)
	if (!row) return undefined
	return {
		status: row.status,
		rowsRead: row.rowsRead,
		rejected: row.rejected,
		rowsTotalEstimate: row.rowsTotalEstimate,
		inserted: row.inserted,
		updated: row.updated,
		unchanged: row.unchanged,
		startedAt: row.startedAt?.toISOString() ?? null,
		finishedAt: row.finishedAt?.toISOString() ?? null,
		now: new Date().toISOString(),
		error: row.error,
		cancelRequested: Boolean(row.cancelRequestedAt),
	}
}

export async function listImports({ limit = 50 }: { limit?: number } = {}) {
	return db.select().from(imports).orderBy(desc(imports.createdAt)).limit(limit)
}

/** An earlier completed import of the very same bytes, to tell the user before they start. */
export async function findPreviousImportOfFile(sha256: string, exceptId: string) {
	const [row] = await db
		.select({ id: imports.id, finishedAt: imports.finishedAt, fileName: imports.fileName })
		.from(imports)
		.where(
			and(
				eq(imports.fileSha256, sha256),
				eq(imports.status, 'completed'),
				dsql`${imports.id} <> ${exceptId}`,
			),
		)
		.orderBy(desc(imports.finishedAt))
		.limit(1)
	return row
}

/** Analysts see rejected values masked: a rejected cell is often a real phone number. */
export type ErrorValueView = { maskValues?: boolean }

export async function listImportErrors(
	importId: string,
	{
		limit = 100,
		offset = 0,
		maskValues = false,
	}: { limit?: number; offset?: number } & ErrorValueView = {},
) {
	const rows = await db
		.select({
			line: importRowErrors.line,
			value: importRowErrors.rawValue,
			code: importRowErrors.code,
			reason: importRowErrors.reason,
		})
		.from(importRowErrors)
		.where(eq(importRowErrors.importId, importId))
		.orderBy(importRowErrors.line)
		.limit(limit)
		.offset(offset)
	return maskValues ? rows.map((row) => ({ ...row, value: maskPhone(row.value) })) : rows
}

/** The rejected rows as CSV lines (header first), read in pages so any number streams out. */
export async function* importErrorsCsv(
	importId: string,
	{ maskValues = false }: ErrorValueView = {},
): AsyncGenerator<string> {
	yield 'line,value,code,reason\r\n'
	let after = 0
	for (;;) {
		const page = await db
			.select({
				line: importRowErrors.line,
				value: importRowErrors.rawValue,
				code: importRowErrors.code,
				reason: importRowErrors.reason,
			})
			.from(importRowErrors)
			.where(and(eq(importRowErrors.importId, importId), dsql`${importRowErrors.line} > ${after}`))
			.orderBy(importRowErrors.line)
			.limit(5000)
		if (page.length === 0) return
		yield page
			.map(
				(e) =>
					[
						String(e.line),
						maskValues ? maskPhone(e.value) : (e.value ?? ''),
						e.code ?? '',
						e.reason,
					]
						.map(neutraliseCell)
						.join(',') + '\r\n',
			)
			.join('')
		after = page[page.length - 1].line
	}
}
