/**
 * CSV import benchmark: a 1,000,000-row (~57 MB) contact file (100,000 with --quick) imported by
 * `app/cli/import.ts` in its own process — the same runImport a worker runs — under GNU time for
 * its peak RSS. The in-run baseline is papaparse alone streaming the same file. Counts are
 * checked against what the generator wrote.
 *
 * Usage: DATABASE_URL=<fresh migrated db> npx tsx tests/bench/run-one.ts tests/bench/csv-import.ts benchCsvImport [--quick]
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import Papa from 'papaparse'
import postgres from 'postgres'
import { WORKER_NODE_FLAGS } from '#app/lib/launcher.server'
import { generateContactsCsv } from './contacts-csv'
import type { BenchFigure } from './types'

const root = path.resolve(import.meta.dirname, '../..')

async function papaparseSeconds(file: string) {
	const started = performance.now()
	let rows = 0
	await pipeline(
		fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 }),
		Papa.parse(Papa.NODE_STREAM_INPUT, { delimiter: ',', newline: '\n' }),
		new Writable({
			objectMode: true,
			highWaterMark: 4096,
			write(_row, _encoding, callback) {
				rows++
				callback()
			},
		}),
	)
	return { seconds: (performance.now() - started) / 1000, rows }
}

function runImportProcess(file: string, databaseUrl: string) {
	const timeFile = path.join(path.dirname(file), 'time.txt')
	return new Promise<{
		wallSeconds: number
		maxRssMb: number
		cpuSeconds: number
		summary: Record<string, unknown>
	}>((resolve, reject) => {
		const started = performance.now()
		const child = spawn(
			'/usr/bin/time',
			[
				'-f',
				'%M %U %S',
				'-o',
				timeFile,
				process.execPath,
				...WORKER_NODE_FLAGS,
				'--import',
				'tsx',
				'app/cli/import.ts',
				'--file',
				file,
				'--country',
				'PE',
			],
			{
				cwd: root,
				env: { ...process.env, DATABASE_URL: databaseUrl },
				stdio: ['ignore', 'pipe', 'inherit'],
			},
		)
		let output = ''
		child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
		child.on('error', reject)
		child.on('exit', (code) => {
			const wallSeconds = (performance.now() - started) / 1000
			if (code !== 0) return reject(new Error(`the import exited with ${code}`))
			const [maxRssKb, user, system] = (
				fs.readFileSync(timeFile, 'utf8').trim().split('\n').at(-1) ?? ''
			)
				.split(' ')
				.map(Number)
			resolve({
				wallSeconds,
				maxRssMb: maxRssKb / 1024,
				cpuSeconds: user + system,
				summary: JSON.parse(output.trim().split('\n').at(-1) ?? '{}'),
			})
		})
	})
}

export async function benchCsvImport({ quick }: { quick: boolean }): Promise<Array<BenchFigure>> {
	const databaseUrl = process.env.DATABASE_URL
	if (!databaseUrl) throw new Error('DATABASE_URL must point at a fresh migrated database')
	const rows = quick ? 100_000 : 1_000_000
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pregon-bench-csv-'))
	const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
	try {
		const generated = await generateContactsCsv(path.join(dir, 'contacts.csv'), rows)
		console.log(
			`generated ${rows.toLocaleString('en')} rows, ${(generated.bytes / 1e6).toFixed(1)} MB`,
		)
		const papa = await papaparseSeconds(generated.path)
		console.log(`papaparse alone: ${papa.seconds.toFixed(2)} s`)
		const run = await runImportProcess(generated.path, databaseUrl)
		const [row] = await sql<Array<{ seconds: number }>>`
			select extract(epoch from finished_at - started_at)::float8 as seconds from imports order by created_at desc limit 1
		`
		const countsOk =
			run.summary.status === 'completed' &&
			run.summary.inserted === generated.accepted &&
			run.summary.rejected === generated.invalid + generated.duplicates &&
			run.summary.updated === 0 &&
			run.summary.unchanged === 0
		console.log(`phases: ${JSON.stringify(run.summary.timings)}`)
		// Node and PostgreSQL share the two cores: the import process's CPU against the wall time
		// shows how much of the run is Node's own work and how much waits on the database.
		console.log(`import process CPU (user + system): ${run.cpuSeconds.toFixed(2)} s`)
		console.log(
			`import: ${row.seconds.toFixed(2)} s in the job (${run.wallSeconds.toFixed(2)} s with process start), ` +
				`peak RSS ${run.maxRssMb.toFixed(0)} MB, counts ${countsOk ? 'ok' : `WRONG ${JSON.stringify({ ...run.summary, errors: undefined })}`}`,
		)
		const label = quick ? '100k' : '1M'
		return [
			{
				name: `csv_import_${label}_rows_seconds`,
				value: round(row.seconds),
				unit: 's',
				target: quick ? '< 1 (scaled)' : '< 10',
				baseline: round(papa.seconds),
				ratio: round(row.seconds / papa.seconds),
				ok: countsOk && row.seconds < (quick ? 1 : 10),
				note: `import start→commit; ${round(run.wallSeconds)} s including process start; baseline = papaparse alone`,
			},
			{
				name: `csv_import_${label}_rows_per_second`,
				value: Math.round(rows / row.seconds),
				unit: 'rows/s',
				target: '>= 100000',
				baseline: 10_000,
				ratio: round(rows / row.seconds / 10_000),
				ok: rows / row.seconds >= 100_000,
				note: "baseline = listmonk maintainer's reported ~10,000 rows/s",
			},
			{
				name: `csv_import_${label}_peak_rss`,
				value: Math.round(run.maxRssMb),
				unit: 'MB',
				target: '< 256',
				baseline: null,
				ratio: null,
				ok: run.maxRssMb < 256,
				note: 'whole import process (main thread + phone worker threads), GNU time %M',
			},
			{
				name: `csv_import_${label}_counts_exact`,
				value: countsOk ? 1 : 0,
				unit: 'bool',
				target: '= 1',
				baseline: null,
				ratio: null,
				ok: countsOk,
			},
		]
	} finally {
		await sql.end({ timeout: 5 })
		fs.rmSync(dir, { recursive: true, force: true })
	}
}

function round(value: number) {
	return Math.round(value * 100) / 100
}

if (process.argv[1] === import.meta.filename) {
	console.log(JSON.stringify(await benchCsvImport({ quick: process.argv.includes('--quick') })))
}
