/**
 * `npm test`: unit and DB tests (vitest), then browser tests (Playwright against a production
 * build in Debian's Chromium), against `DATABASE_URL` when set or an embedded PostgreSQL.
 * Ends with one summary line: "Summary: N passed, N failed".
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres } from '#db/embedded'
import { migrateDatabase } from '#db/migrate'
import { dropDatabase, withDatabase } from './setup/database'

type Counts = { passed: number; failed: number; skipped: number }

const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length)
const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pregon-test-reports-'))

function run(command: string, args: Array<string>, env: NodeJS.ProcessEnv) {
	return new Promise<number>((resolve) => {
		const child = spawn(command, args, { stdio: 'inherit', env })
		child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
	})
}

function readJson(file: string): unknown {
	try {
		return JSON.parse(fs.readFileSync(file, 'utf8'))
	} catch {
		return undefined
	}
}

function vitestCounts(file: string): Counts | undefined {
	const report = readJson(file) as
		| { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number }
		| undefined
	if (!report) return undefined
	return {
		passed: report.numPassedTests,
		failed: report.numFailedTests,
		skipped: report.numPendingTests + report.numTodoTests,
	}
}

function playwrightCounts(file: string): Counts | undefined {
	const report = readJson(file) as
		| { stats: { expected: number; unexpected: number; flaky: number; skipped: number } }
		| undefined
	if (!report) return undefined
	return {
		passed: report.stats.expected + report.stats.flaky,
		failed: report.stats.unexpected,
		skipped: report.stats.skipped,
	}
}

const totals: Counts = { passed: 0, failed: 0, skipped: 0 }
let exitCode = 0
let stopEmbedded: (() => Promise<void>) | undefined
const env: NodeJS.ProcessEnv = { ...process.env }

try {
	if (!env.DATABASE_URL) {
		const embedded = await startEmbeddedPostgres({
			dataDir: path.join(os.tmpdir(), `pregon-test-pg-${process.pid}`),
			port: 55000 + Math.floor(Math.random() * 5000),
			database: 'postgres',
			persistent: false,
			durable: false,
		})
		stopEmbedded = embedded.stop
		env.DATABASE_URL = embedded.adminUrl
		console.log('Tests use an embedded PostgreSQL (no DATABASE_URL set).')
	}
	const serverUrl = env.DATABASE_URL as string

	// The web-server tests and the browser tests both run the production build.
	const build = await run('npx', ['remix', 'vite:build'], env)
	if (build !== 0) throw new Error('The production build failed')

	if (only !== 'e2e') {
		const report = path.join(reportDir, 'vitest.json')
		const code = await run(
			'npx',
			['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
			env,
		)
		const counts = vitestCounts(report)
		if (counts) addCounts(counts)
		if (code !== 0) {
			exitCode = 1
			if (!counts || counts.failed === 0) totals.failed += 1
		}
	}

	if (only !== 'unit') {
		const code = await runBrowserTests(serverUrl)
		if (code !== 0) exitCode = 1
	}
} catch (error) {
	console.error(error)
	exitCode = 1
	totals.failed += 1
} finally {
	await stopEmbedded?.()
}

console.log(`\nSummary: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exit(exitCode)

function addCounts(counts: Counts) {
	totals.passed += counts.passed
	totals.failed += counts.failed
	totals.skipped += counts.skipped
}

async function runBrowserTests(serverUrl: string) {
	const name = `pregon_e2e_${process.pid}`
	const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
	try {
		await dropDatabase(admin, name)
		await admin.unsafe(`create database "${name}"`)
		const databaseUrl = withDatabase(serverUrl, name)
		await migrateDatabase(databaseUrl)
		const report = path.join(reportDir, 'e2e.json')
		const code = await run('npx', ['playwright', 'test'], {
			...env,
			DATABASE_URL: databaseUrl,
			E2E_JSON_REPORT: report,
			PREGON_DATA_DIR: path.join(reportDir, 'data'),
		})
		const counts = playwrightCounts(report)
		if (counts) addCounts(counts)
		if (code !== 0 && (!counts || counts.failed === 0)) totals.failed += 1
		return code
	} finally {
		await dropDatabase(admin, name)
		await admin.end({ timeout: 5 })
	}
}
