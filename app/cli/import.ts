/**
 * `npm run import -- --file contacts.csv --country PE [--tags a,b] [--update] [--encoding windows-1252]
 * [--delimiter ";"]`: runs the same import as the web app, in this process, and prints a JSON summary
 * on its last line: {"status","inserted","updated","unchanged","rejected","errors":[{"line","value","reason"}]}.
 *
 * Uses DATABASE_URL; without it, the embedded PostgreSQL of `npm start` (started here if it is not
 * already running). Ctrl-C cancels the import, which then leaves the contacts as they were.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { z } from 'zod'
import { getEnv } from '#app/lib/env.server'
import { DELIMITERS } from '#app/lib/imports/delimiter'
import { ENCODINGS } from '#app/lib/imports/encoding'
import { CountrySchema, parseTags } from '#app/lib/imports/options'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '#db/embedded'
import { migrateDatabase } from '#db/migrate'

const usage =
	'Usage: npm run import -- --file contacts.csv --country PE [--tags a,b] [--update] [--encoding utf-8|utf-16le|utf-16be|windows-1252] [--delimiter ","|";"|tab]'

const Args = z.object({
	file: z.string({ error: '--file is required' }).min(1),
	country: CountrySchema,
	tags: z.string().default(''),
	update: z.boolean().default(false),
	encoding: z.enum(ENCODINGS).optional(),
	delimiter: z
		.string()
		.transform((value) => (value === 'tab' || value === '\\t' ? '\t' : value))
		.pipe(z.enum(DELIMITERS))
		.optional(),
})

async function resolveDatabaseUrl(): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
	const env = getEnv()
	if (env.DATABASE_URL) return { url: env.DATABASE_URL }
	const url = `postgres://pregon:pregon@127.0.0.1:${env.EMBEDDED_PG_PORT}/pregon`
	const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
	try {
		await probe`select 1`
		return { url }
	} catch {
		const embedded = await startEmbeddedPostgres({
			dataDir: path.resolve(env.PREGON_DATA_DIR, 'pg'),
			port: env.EMBEDDED_PG_PORT,
			database: 'pregon',
		})
		return { url: embedded.url, embedded }
	} finally {
		await probe.end({ timeout: 1 })
	}
}

async function main() {
	const { values } = parseArgs({
		options: {
			file: { type: 'string' },
			country: { type: 'string' },
			tags: { type: 'string' },
			update: { type: 'boolean' },
			encoding: { type: 'string' },
			delimiter: { type: 'string' },
		},
	})
	const parsed = Args.safeParse(values)
	if (!parsed.success) {
		console.error(
			parsed.error.issues
				.map((issue) => `${issue.path.join('.') || 'arguments'}: ${issue.message}`)
				.join('\n'),
		)
		console.error(usage)
		return 2
	}
	const args = parsed.data
	const { url, embedded } = await resolveDatabaseUrl()
	process.env.DATABASE_URL = url
	try {
		await migrateDatabase(url)
		// Imported only now: #db/client connects to DATABASE_URL when it loads.
		const { createImport, listImportErrors, requestCancel } =
			await import('#app/lib/imports/imports.server')
		const { runImport } = await import('#app/lib/imports/run-import.server')
		const { closeDatabase } = await import('#db/client')
		try {
			const row = await createImport({
				fileName: path.basename(args.file),
				existingPath: args.file,
				options: {
					defaultCountry: args.country,
					tags: parseTags(args.tags),
					updateExisting: args.update,
					encoding: args.encoding,
					delimiter: args.delimiter,
				},
				enqueue: false,
			})
			console.error(`Importing ${args.file} (import ${row.id})…`)
			process.once('SIGINT', () => {
				console.error('Cancelling…')
				void requestCancel(row.id)
			})
			const summary = await runImport(row.id)
			const errors = await listImportErrors(row.id, { limit: 1_000_000 })
			console.log(
				JSON.stringify({
					status: summary.status,
					inserted: summary.inserted,
					updated: summary.updated,
					unchanged: summary.unchanged,
					rejected: summary.rejected,
					...(summary.error ? { error: summary.error } : {}),
					...(summary.timings ? { timings: summary.timings } : {}),
					errors: errors.map((e) => ({
						line: e.line,
						value: e.value,
						reason: e.reason,
						code: e.code,
					})),
				}),
			)
			return summary.status === 'completed' ? 0 : 1
		} finally {
			await closeDatabase()
		}
	} finally {
		await embedded?.stop()
	}
}

try {
	process.exitCode = await main()
} catch (error) {
	console.error(error instanceof Error ? error.message : error)
	process.exitCode = 1
}
