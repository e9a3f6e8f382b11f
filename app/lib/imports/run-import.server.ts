import { once } from 'node:events'
import postgres, { type Helper, type TransactionSql } from 'postgres'
import { eq } from 'drizzle-orm'
import { db, sql } from '#db/client'
import { imports } from '#db/schema/index'
import { getEnv } from '#app/lib/env.server'
import { EncodingError } from './text-stream.server'
import { defaultColumns } from './mapping'
import { ImportOptionsSchema, type ColumnMapping, type ImportOptions } from './options'
import { createPhonePool, type PhonePool } from './phone-pool.server'
import { FirstLineIndex } from './first-line-index'
import { formatBatch, planRows, STAGING_COLUMNS, type RowPlan } from './row-format'
import {
	EmptyFileError,
	openImportBytes,
	readSample,
	resolveTextSettings,
	streamRows,
	type CsvRow,
} from './source.server'
import { ZipError } from './zip.server'

export type ImportSummary = {
	importId: string
	status: 'queued' | 'parsing' | 'committing' | 'completed' | 'failed' | 'cancelled'
	rowsRead: number
	inserted: number
	updated: number
	unchanged: number
	rejected: number
	error: string | null
	/** Seconds spent reading/validating/staging and committing (completed runs only). */
	timings?: { parseSeconds: number; commitSeconds: number }
}

/** A problem with the file or its mapping that retrying cannot fix; its message is for the user. */
export class ImportFileError extends Error {}
class CancelledError extends Error {}

const PROGRESS_INTERVAL_MS = 500
/** Files this small are parsed without worker threads: starting them would cost more. */
const THREADED_MIN_BYTES = 2 * 1024 * 1024
const MAX_BATCHES_IN_FLIGHT = 6
const BATCH_ROWS = 2048

/**
 * Runs one import to its end. Reads the stored file as a stream and validates every row; chunk by
 * chunk, COPYs the rows (accepted and rejected) into a temporary staging table and merges them:
 * updates existing contacts, inserts new ones, records rejected rows. All chunks and the final
 * counts share one transaction, so until it commits nothing is visible, and a crash, a cancel or
 * an error leaves the contacts table exactly as it was. Progress is written to the imports row
 * every half second from outside the transaction, where the UI can read it.
 *
 * `signal` interrupts the run (the worker is shutting down): the import goes back to `queued` and
 * the error is rethrown so the job runs again. A finished import is returned as it is.
 */
export async function runImport(
	importId: string,
	{
		signal,
		phoneThreads,
		chunkRows = CHUNK_ROWS,
	}: {
		signal?: AbortSignal
		phoneThreads?: number
		/** Rows staged and merged per step (tests make it small to cross many chunk boundaries). */
		chunkRows?: number
	} = {},
): Promise<ImportSummary> {
	const [row] = await db.select().from(imports).where(eq(imports.id, importId))
	if (!row) throw new Error(`Import ${importId} does not exist`)
	if (row.status === 'completed' || row.status === 'failed' || row.status === 'cancelled')
		return summarise(row)
	if (row.cancelRequestedAt)
		return finish(importId, { status: 'cancelled', error: 'Cancelled before it started' })
	const parsedOptions = ImportOptionsSchema.safeParse(row.options)
	if (!parsedOptions.success)
		return finish(importId, { status: 'failed', error: 'The import options are invalid' })
	if (!row.filePath)
		return finish(importId, { status: 'failed', error: 'The uploaded file is missing' })

	await db
		.update(imports)
		.set({
			status: 'parsing',
			startedAt: new Date(),
			rowsRead: 0,
			rejected: 0,
			error: null,
			finishedAt: null,
		})
		.where(eq(imports.id, importId))

	const stop = new AbortController()
	const onOuterAbort = () => stop.abort(signal?.reason ?? new Error('Interrupted'))
	signal?.addEventListener('abort', onOuterAbort, { once: true })
	const progress = { rowsRead: 0, rejected: 0, estimate: 0 }
	let ticker: NodeJS.Timeout | undefined
	let lastReport: Promise<unknown> = Promise.resolve()
	let pool: PhonePool | undefined
	let stager: postgres.ReservedSql | undefined
	try {
		const filePath = row.filePath
		const sample = await readSample(filePath)
		const settings = resolveTextSettings(sample, parsedOptions.data)
		const threads = phoneThreads ?? getEnv().IMPORT_PHONE_THREADS
		pool = createPhonePool(row.fileSize >= THREADED_MIN_BYTES ? threads : 0)
		const phonePool = pool
		let bytes: Awaited<ReturnType<typeof openImportBytes>> | undefined
		ticker = setInterval(() => {
			if (bytes && bytes.bytesRead() > 0) {
				progress.estimate = Math.round((progress.rowsRead * bytes.size) / bytes.bytesRead())
			}
			lastReport = reportProgress(importId, progress).then((cancelled) => {
				if (cancelled) stop.abort(new CancelledError('Cancelled'))
			})
		}, PROGRESS_INTERVAL_MS)

		const options = parsedOptions.data
		const began = performance.now()
		let parsedAt = began
		stager = await sql.reserve()
		const chunkStager = stager
		await dropChunkTables(chunkStager, importId)
		const totals = await sql.begin(async (tx) => {
			// Custom plans: the merge statements run once per chunk while contacts grows under them,
			// and a generic plan made when the table looked empty rescans it for every row.
			await tx.unsafe(`set local plan_cache_mode = force_custom_plan`)
			await tx.unsafe(`set local work_mem = '64MB'`)
			const merged = { inserted: 0, updated: 0, accepted: 0, rejected: 0 }
			const merge = { onlyNewPhonesSoFar: true }
			const chunks = createChunkPipeline(
				chunkStager,
				importId,
				chunkRows,
				stop.signal,
				async (table, accepted) => {
					const counts = await mergeChunk(tx, table, importId, options, accepted, merge)
					merged.inserted += counts.inserted
					merged.updated += counts.updated
					merged.rejected += counts.rejected
					merged.accepted += accepted
				},
			)
			try {
				bytes = await openImportBytes(filePath)
				let plan: RowPlan | undefined
				const inFlight = new Set<Promise<void>>()
				const seen = new FirstLineIndex()
				// Phones are checked in parallel, but batches are formatted in file order so that a
				// duplicate always names the earlier line.
				let formatted: Promise<unknown> = Promise.resolve()
				const handle = (rows: CsvRow[], activePlan: RowPlan) => {
					const phones = rows.map((r) => r.fields[activePlan.phoneIndex] ?? '')
					const normalised = phonePool.normalise(options.defaultCountry, phones)
					const task: Promise<void> = Promise.all([normalised, formatted]).then(
						async ([results]) => {
							const batch = formatBatch(rows, results, activePlan, seen)
							progress.rowsRead += rows.length
							progress.rejected += batch.rejected
							await chunks.add(batch.text, rows.length, batch.accepted)
						},
					)
					formatted = task
					inFlight.add(task)
					void task.finally(() => inFlight.delete(task)).catch(() => {})
					return task
				}
				await streamRows(
					bytes.stream,
					settings,
					{
						header: (headers) => {
							plan = planRows(resolveColumns(options, headers), headers.length)
						},
						batch: async (rows) => {
							if (!plan) return
							handle(rows, plan)
							while (inFlight.size >= MAX_BATCHES_IN_FLIGHT) await Promise.race(inFlight)
						},
					},
					{ signal: stop.signal, batchSize: Math.min(BATCH_ROWS, chunkRows) },
				)
				await Promise.all(inFlight)
				clearInterval(ticker)
				await lastReport
				if (stop.signal.aborted) throw stop.signal.reason
				await db
					.update(imports)
					.set({
						status: 'committing',
						rowsRead: progress.rowsRead,
						rejected: progress.rejected,
						rowsTotalEstimate: progress.rowsRead,
					})
					.where(eq(imports.id, importId))
				await chunks.finish()
				// A cancel asked for while the last chunks merged still wins: the ticker that notices
				// cancels has stopped by now, and nothing is committed yet.
				if (await cancelRequested(importId)) throw new CancelledError('Cancelled')
			} catch (error) {
				// Stops the chunk being staged or merged, and waits for it: the transaction can only
				// roll back once its connection is free again.
				if (!stop.signal.aborted) stop.abort(error)
				await chunks.settled()
				throw error
			}
			parsedAt = performance.now()
			return completeImport(tx, importId, merged)
		})
		return {
			importId,
			status: 'completed',
			rowsRead: progress.rowsRead,
			...totals,
			error: null,
			timings: {
				parseSeconds: Math.round(parsedAt - began) / 1000,
				commitSeconds: Math.round(performance.now() - parsedAt) / 1000,
			},
		}
	} catch (error) {
		const reason = stop.signal.aborted ? stop.signal.reason : error
		if (reason instanceof CancelledError)
			return finish(importId, { status: 'cancelled', error: 'Cancelled by the user' }, progress)
		if (signal?.aborted) {
			await db
				.update(imports)
				.set({ status: 'queued', error: 'Interrupted; it will start again' })
				.where(eq(imports.id, importId))
			throw reason
		}
		return finish(importId, { status: 'failed', error: userMessage(reason) }, progress)
	} finally {
		clearInterval(ticker)
		await lastReport
		signal?.removeEventListener('abort', onOuterAbort)
		await pool?.close()
		if (stager) {
			// After the transaction has ended: it holds a lock on every chunk table it read. A failed
			// drop must not turn the import's own outcome into an error; a rerun drops leftovers.
			await dropChunkTables(stager, importId)
				.catch((error: unknown) =>
					console.error(`dropping import ${importId}'s chunk tables failed`, error),
				)
				.finally(() => stager?.release())
		}
	}
}

function resolveColumns(options: ImportOptions, headers: string[]): ColumnMapping[] {
	const columns = options.columns ?? defaultColumns(headers)
	const phone = columns.find((c) => c.target === 'phone')
	if (!phone) {
		throw new ImportFileError(
			'No phone column was found. Name it phone, telefono, celular, mobile or whatsapp, or choose it in the mapping step.',
		)
	}
	if (phone.index >= headers.length)
		throw new ImportFileError('The mapped phone column is not in this file.')
	return columns
}

type Tx = TransactionSql<Record<string, unknown>>

/**
 * Rows staged and merged per step. The file is applied a chunk at a time, inside the import's one
 * transaction, so PostgreSQL merges one chunk while the next is read and validated: the two run on
 * different cores instead of one after the other.
 */
const CHUNK_ROWS = 65_536
const FIRST_CHUNK_ROWS = 8_192

const CHUNK_TABLE_COLUMNS = `line integer not null, phone text, raw text, name text, email text,
	attributes jsonb, opt_out boolean not null, code text, reason text`

/** Named after the import, so that a rerun after a crash finds and drops its leftovers. */
function chunkTable(importId: string, index: number) {
	return { schema: 'import_chunks', name: `${importId}_${index}` }
}
type ChunkTable = ReturnType<typeof chunkTable>

function quoted(table: ChunkTable) {
	return `"${table.schema}"."${table.name}"`
}

async function dropChunkTables(connection: postgres.Sql, importId: string) {
	const leftovers = await connection<Array<{ name: string }>>`
		select format('%I.%I', schemaname, tablename) as name from pg_tables
		where schemaname = 'import_chunks' and starts_with(tablename, ${`${importId}_`})
	`
	if (leftovers.length === 0) return
	await connection.unsafe(`drop table if exists ${leftovers.map((t) => t.name).join(', ')}`)
}

/**
 * Collects the COPY text of formatted batches. A full chunk is COPYed by a second connection
 * (`stager`) into an unlogged table of its own while the import's transaction merges the previous
 * chunk, so PostgreSQL parses one chunk and merges another on both cores at once; the transaction
 * reads a chunk table once its COPY has committed. While the next chunk fills, at most one chunk
 * is being copied and one merged; `add` waits beyond that, which holds the parser back.
 */
function createChunkPipeline(
	stager: postgres.Sql,
	importId: string,
	chunkRows: number,
	signal: AbortSignal,
	merge: (table: ChunkTable, accepted: number) => Promise<void>,
) {
	let parts: Buffer[] = []
	let rows = 0
	let accepted = 0
	let chunks = 0
	// Small at first and doubling: PostgreSQL starts merging as soon as a few rows are read,
	// instead of idling while the first full chunk fills.
	let limit = Math.min(chunkRows, FIRST_CHUNK_ROWS)
	let staging: Promise<void> = Promise.resolve()
	let merging: Promise<void> = Promise.resolve()
	let mergingBefore: Promise<void> = Promise.resolve()

	const stage = async (table: ChunkTable, chunk: { text: Buffer[] }) => {
		signal.throwIfAborted()
		await stager.unsafe(
			`create unlogged table ${quoted(table)} (${CHUNK_TABLE_COLUMNS}) with (autovacuum_enabled = off)`,
		)
		const copy = await stager
			.unsafe(`copy ${quoted(table)} (${STAGING_COLUMNS.join(', ')}) from stdin`)
			.writable()
		try {
			signal.throwIfAborted()
			// Written at once, not drain by drain: the chunk is in memory anyway, and every wait for
			// 'drain' lasted until the parser gave the event loop back, which kept PostgreSQL idle.
			for (const part of chunk.text) copy.write(part)
			chunk.text = []
			copy.end()
			await once(copy, 'finish', { signal })
		} catch (error) {
			// Ends the COPY (CopyFail) so that the connection is free and the real error surfaces.
			// The error is rethrown below; without a listener, destroy's 'error' event (an aborted
			// `once` has removed its own) would be an uncaught exception.
			copy.on('error', () => {})
			if (!copy.destroyed) copy.destroy(error instanceof Error ? error : new Error(String(error)))
			throw error
		}
	}

	const flush = async () => {
		const text = parts
		const chunkAccepted = accepted
		parts = []
		rows = 0
		accepted = 0
		limit = Math.min(chunkRows, limit * 2)
		await Promise.all([staging, mergingBefore])
		const table = chunkTable(importId, chunks++)
		staging = stage(table, { text })
		mergingBefore = merging
		merging = Promise.all([staging, merging]).then(() => {
			signal.throwIfAborted()
			return merge(table, chunkAccepted)
		})
		// Seen by the next add or by finish; meanwhile the parser keeps reading.
		staging.catch(() => {})
		merging.catch(() => {})
	}

	return {
		async add(text: string, rowCount: number, acceptedCount: number) {
			// As bytes: the string is a rope of slices that would keep the parser's input alive.
			parts.push(Buffer.from(text))
			rows += rowCount
			accepted += acceptedCount
			if (rows >= limit) await flush()
		},
		async finish() {
			if (rows > 0) await flush()
			await Promise.all([staging, merging])
		},
		/** Resolves once neither connection is busy with a chunk, whatever the outcome. */
		settled: async () => {
			await Promise.allSettled([staging, merging, mergingBefore])
		},
	}
}

/**
 * Applies the staged chunk: its accepted rows become contacts linked to this import (an audience
 * choice), its rejected rows are stored. Staged accepted rows have unique phones (duplicates were
 * refused while reading), across chunks too.
 */
async function mergeChunk(
	tx: Tx,
	table: ChunkTable,
	importId: string,
	options: ImportOptions,
	accepted: number,
	merge: { onlyNewPhonesSoFar: boolean },
) {
	const staged = tx(`${table.schema}.${table.name}`)
	let counts = merge.onlyNewPhonesSoFar
		? await insertNewContacts(tx, staged, importId, options)
		: undefined
	if (!counts) {
		merge.onlyNewPhonesSoFar = false
		counts = await upsertContacts(tx, staged, importId, options, accepted)
	}
	const rejected = await tx`
		insert into import_row_errors (import_id, line, raw_value, code, reason)
		select ${importId}, line, raw, code, reason from ${staged} where code is not null
	`
	return { ...counts, rejected: rejected.count }
}

/**
 * A list of people not yet in Pregón, the usual first import, needs no upsert: a plain INSERT
 * costs a third less than INSERT … ON CONFLICT, whose speculative insertion checks and logs every
 * row twice. The chunk is tried that way under a savepoint; the first phone that already exists
 * (or that another session inserts meanwhile) undoes it, and this chunk and the rest of the file
 * take the upsert. At most one chunk's work is thrown away. The new contacts are recorded as one
 * id range when no other session's insert took ids in between (count = span), else one by one.
 */
async function insertNewContacts(
	tx: Tx,
	staged: Helper<string, []>,
	importId: string,
	options: ImportOptions,
) {
	try {
		return await tx.savepoint(async (chunk) => {
			const [{ inserted }] = await chunk<Array<{ inserted: number }>>`
				with inserted as (
					insert into contacts (phone_e164, name, email, attributes, tags, opted_out_at, opt_out_source)
					select s.phone, s.name, s.email, s.attributes, ${options.tags}::text[],
						case when s.opt_out then now() end,
						case when s.opt_out then 'import'::opt_out_source end
					from ${staged} s
					where s.code is null
					returning id
				),
				block as (
					select min(id) as first_id, max(id) as last_id, count(*)::int as count from inserted
				),
				ranged as (
					insert into import_contact_ranges (import_id, first_id, last_id)
					select ${importId}, first_id, last_id from block
					where count > 0 and last_id - first_id + 1 = count
				),
				linked as (
					insert into import_contacts (import_id, contact_id)
					select ${importId}, id from inserted
					where (select last_id - first_id + 1 <> count from block)
				)
				select count as inserted from block
			`
			return { inserted, updated: 0 }
		})
	} catch (error) {
		if (isExistingPhone(error)) return undefined
		throw error
	}
}

function isExistingPhone(error: unknown) {
	return (
		error instanceof postgres.PostgresError &&
		error.code === '23505' &&
		error.constraint_name === 'contacts_phone_e164_unique'
	)
}

/**
 * New contacts are inserted, existing ones updated where the file really changes them (only those
 * count as updated), and both are linked to this import. Existing contacts the file leaves
 * unchanged are linked by a second statement, needed only when the chunk has some.
 */
async function upsertContacts(
	tx: Tx,
	staged: Helper<string, []>,
	importId: string,
	options: ImportOptions,
	accepted: number,
) {
	const update = options.updateExisting
	const tags = options.tags
	// No anti-join against contacts: planned while the table looked empty it rescanned the table it
	// was filling for every row (minutes on a million rows). A contact this import created has the
	// transaction's timestamp as created_at; one it updated was created before the transaction.
	const [{ inserted, updated }] = await tx<Array<{ inserted: number; updated: number }>>`
		with upserted as (
			insert into contacts as c (phone_e164, name, email, attributes, tags, opted_out_at, opt_out_source)
			select s.phone, s.name, s.email, s.attributes, ${tags}::text[],
				case when s.opt_out then now() end,
				case when s.opt_out then 'import'::opt_out_source end
			from ${staged} s
			where s.code is null
			on conflict (phone_e164) do update set
				name = case when ${update} and excluded.name is not null then excluded.name else c.name end,
				email = case when ${update} and excluded.email is not null then excluded.email else c.email end,
				attributes = case when ${update} then c.attributes || excluded.attributes else c.attributes end,
				tags = c.tags || array(select t from unnest(excluded.tags) t where t <> all(c.tags)),
				opted_out_at = coalesce(c.opted_out_at, excluded.opted_out_at),
				opt_out_source = case when c.opted_out_at is null and excluded.opted_out_at is not null
					then 'import' else c.opt_out_source end,
				search_text = case when ${update} then null else c.search_text end,
				updated_at = now()
			where (${update} and (
					(excluded.name is not null and excluded.name is distinct from c.name)
					or (excluded.email is not null and excluded.email is distinct from c.email)
					or not c.attributes @> excluded.attributes))
				or not c.tags @> excluded.tags
				or (excluded.opted_out_at is not null and c.opted_out_at is null)
			returning c.id, c.created_at = now() as created
		),
		linked as (
			insert into import_contacts (import_id, contact_id) select ${importId}, id from upserted
		)
		select count(*) filter (where created)::int as inserted,
			count(*) filter (where not created)::int as updated
		from upserted
	`
	if (inserted + updated < accepted) {
		await tx`
			insert into import_contacts (import_id, contact_id)
			select ${importId}, c.id
			from ${staged} s join contacts c on c.phone_e164 = s.phone
			where s.code is null
			order by c.id
			on conflict do nothing
		`
	}
	return { inserted, updated }
}

/** The last step inside the transaction: the final counts, and search indexing for what changed. */
async function completeImport(
	tx: Tx,
	importId: string,
	merged: { inserted: number; updated: number; accepted: number; rejected: number },
) {
	const totals = {
		inserted: merged.inserted,
		updated: merged.updated,
		unchanged: merged.accepted - merged.inserted - merged.updated,
		rejected: merged.rejected,
	}
	await tx`
		update imports set status = 'completed', inserted = ${totals.inserted}, updated = ${totals.updated},
			unchanged = ${totals.unchanged}, rejected = ${totals.rejected}, finished_at = clock_timestamp(), updated_at = now(),
			error = null
		where id = ${importId}
	`
	if (totals.inserted + totals.updated > 0) {
		await tx`select graphile_worker.add_job('index_contact_search', '{}'::json, job_key => 'index_contact_search')`
	}
	return totals
}

/** Whether the user has asked to cancel this import. */
async function cancelRequested(importId: string) {
	const [row] = await db
		.select({ cancelRequestedAt: imports.cancelRequestedAt })
		.from(imports)
		.where(eq(imports.id, importId))
	return Boolean(row?.cancelRequestedAt)
}

/** Writes the counters; answers whether a cancel was requested. */
async function reportProgress(
	importId: string,
	progress: { rowsRead: number; rejected: number; estimate: number },
) {
	try {
		const [row] = await db
			.update(imports)
			.set({
				rowsRead: progress.rowsRead,
				rejected: progress.rejected,
				rowsTotalEstimate: progress.estimate || null,
			})
			.where(eq(imports.id, importId))
			.returning({ cancelRequestedAt: imports.cancelRequestedAt })
		return Boolean(row?.cancelRequestedAt)
	} catch {
		// A missed progress write is harmless; the next tick tries again.
		return false
	}
}

async function finish(
	importId: string,
	outcome: { status: 'failed' | 'cancelled'; error: string },
	progress?: { rowsRead: number; rejected: number },
): Promise<ImportSummary> {
	const [row] = await db
		.update(imports)
		.set({
			status: outcome.status,
			error: outcome.error,
			finishedAt: new Date(),
			inserted: 0,
			updated: 0,
			unchanged: 0,
			...(progress ? { rowsRead: progress.rowsRead, rejected: progress.rejected } : {}),
		})
		.where(eq(imports.id, importId))
		.returning()
	return summarise(row)
}

function summarise(row: typeof imports.$inferSelect): ImportSummary {
	return {
		importId: row.id,
		status: row.status,
		rowsRead: row.rowsRead,
		inserted: row.inserted,
		updated: row.updated,
		unchanged: row.unchanged,
		rejected: row.rejected,
		error: row.error,
	}
}

function userMessage(error: unknown) {
	if (
		error instanceof ImportFileError ||
		error instanceof EncodingError ||
		error instanceof ZipError ||
		error instanceof EmptyFileError
	) {
		return error.message
	}
	const message = error instanceof Error ? error.message : String(error)
	return `The import failed: ${message}`
}
