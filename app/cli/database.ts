import path from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres } from '#db/embedded'
import { migrateDatabase } from '#db/migrate'
import { getEnv } from '#app/lib/env.server'

/**
 * For shell commands: makes sure process.env.DATABASE_URL names a migrated database. Uses
 * DATABASE_URL when set; else the embedded database of `npm start` if it is running; else starts
 * that embedded database for the duration of the command. Returns a function that stops it.
 */
export async function ensureDatabaseForCli(): Promise<() => Promise<void>> {
	const env = getEnv()
	if (env.DATABASE_URL) return async () => {}
	const url = `postgres://pregon:pregon@127.0.0.1:${env.EMBEDDED_PG_PORT}/pregon`
	const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
	try {
		await probe`select 1`
		process.env.DATABASE_URL = url
		return async () => {}
	} catch {
		const embedded = await startEmbeddedPostgres({
			dataDir: path.resolve(env.PREGON_DATA_DIR, 'pg'),
			port: env.EMBEDDED_PG_PORT,
			database: 'pregon',
		})
		await migrateDatabase(embedded.url)
		process.env.DATABASE_URL = embedded.url
		return embedded.stop
	} finally {
		await probe.end({ timeout: 1 })
	}
}
