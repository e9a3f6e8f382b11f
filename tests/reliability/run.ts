/**
 * `npm run test:reliability [-- --size 20000] [-- --rate 500] [-- --only=crash|faults|pause]
 * [-- --production-timings]`: the crash, fault and pause/cancel scenarios against a fresh
 * database (on DATABASE_URL's server, else an embedded PostgreSQL), a sandbox process and worker
 * processes. By default the crash sweep and reconciler run on a 2-second beat with second-scale
 * thresholds; `--production-timings` uses the product's (dead after 60 s, cron every minute).
 *
 * `npm run test:reliability -- --minutes N [--size 3000] [--rate 100] [--sample-seconds 5]
 * [--retention-minutes 10]`: the soak instead (see soak.ts), with the web server as well.
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

const minutes = argValue('minutes') === undefined ? null : Number(argValue('minutes'))
const size = Number(argValue('size') ?? (minutes === null ? 20_000 : 3000))
const rate = Number(argValue('rate') ?? (minutes === null ? 500 : 100))
const only = argValue('only')
const fast = !process.argv.includes('--production-timings')
if (minutes !== null && !(minutes > 0)) throw new Error('--minutes needs a positive number')

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
	if (minutes !== null) {
		const { soak } = await import('./soak')
		console.log(`Reliability soak: ${minutes} min of broadcasts of ${size} at ${rate}/s`)
		const result = await soak({
			minutes,
			size,
			rate,
			sampleSeconds: Number(argValue('sample-seconds') ?? 5),
			retentionMinutes: Number(argValue('retention-minutes') ?? 10),
			log: (line) => console.log(`  ${line}`),
		})
		console.log(`\n${result.lines.join('\n')}`)
		for (const failure of result.failures) console.log(`  ✗ ${failure}`)
		failed = !result.ok
	} else {
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
	}
	const { closeDatabase } = await import('#db/client')
	await closeDatabase()
} finally {
	await dropDatabase(admin, name).catch(() => {})
	await admin.end({ timeout: 5 })
	await embedded?.stop()
}
const what = minutes === null ? 'Reliability suite' : 'Reliability soak'
console.log(failed ? `\n${what} FAILED` : `\n${what} passed`)
process.exit(failed ? 1 : 0)
