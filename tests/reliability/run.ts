/**
 * `npm run test:reliability [-- --size 20000] [-- --rate 500] [-- --only=crash|faults|pause]
 * [-- --production-timings]`: the crash, fault and pause/cancel scenarios against a fresh
 * database (on DATABASE_URL's server, else an embedded PostgreSQL), a sandbox process and worker
 * processes. By default the crash sweep and reconciler run on a 2-second beat with second-scale
 * thresholds; `--production-timings` uses the product's (dead after 60 s, cron every minute).
 */
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '#db/embedded'
import { migrateDatabase } from '#db/migrate'
import { dropDatabase, withDatabase } from '../setup/database'

function argValue(name: string) {
	const index = process.argv.indexOf(`--${name}`)
	if (index !== -1) return process.argv[index + 1]
	return process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
}

const size = Number(argValue('size') ?? 20_000)
const rate = Number(argValue('rate') ?? 500)
const only = argValue('only')
const fast = !process.argv.includes('--production-timings')

let embedded: EmbeddedDatabase | undefined
let serverUrl = process.env.DATABASE_URL
if (!serverUrl) {
	embedded = await startEmbeddedPostgres({
		dataDir: path.join(os.tmpdir(), `pregon-reliability-pg-${process.pid}`),
		port: 57000 + Math.floor(Math.random() * 2000),
		database: 'postgres',
		persistent: false,
		durable: false,
	})
	serverUrl = embedded.adminUrl
}
const name = `pregon_reliability_${process.pid}`
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database "${name}"`)
process.env.DATABASE_URL = withDatabase(serverUrl, name)
await migrateDatabase(process.env.DATABASE_URL)

let failed = false
try {
	const scenarios = await import('./scenarios')
	const options = { size, rate, fast, log: (line: string) => console.log(`  ${line}`) }
	const chosen = [
		['crash', scenarios.crashScenario],
		['faults', scenarios.faultScenario],
		['pause', scenarios.pauseCancelScenario],
	] as const
	console.log(
		`Reliability suite: ${size} recipients at ${rate}/s${fast ? ' (fast recovery beat)' : ' (production timings)'}`,
	)
	for (const [key, scenario] of chosen) {
		if (only && only !== key) continue
		console.log(`\n== ${key}`)
		const result = await scenario(options)
		console.log(`${result.ok ? 'PASS' : 'FAIL'} ${result.name}`)
		for (const [figure, value] of Object.entries(result.figures))
			console.log(`  ${figure}: ${value}`)
		for (const failure of result.failures) console.log(`  ✗ ${failure}`)
		failed ||= !result.ok
	}
	const { closeDatabase } = await import('#db/client')
	await closeDatabase()
} finally {
	await dropDatabase(admin, name).catch(() => {})
	await admin.end({ timeout: 5 })
	await embedded?.stop()
}
console.log(failed ? '\nReliability suite FAILED' : '\nReliability suite passed')
process.exit(failed ? 1 : 0)
