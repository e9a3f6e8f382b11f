import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate as migrateDrizzle } from 'drizzle-orm/postgres-js/migrator'
import { runMigrations } from 'graphile-worker'
import postgres from 'postgres'

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations')

/**
 * Applies the drizzle migrations and graphile-worker's schema. Safe to run concurrently from
 * several processes: an advisory lock serialises them.
 */
export async function migrateDatabase(url: string) {
	const sql = postgres(url, { max: 1, onnotice: () => {} })
	try {
		await sql`select pg_advisory_lock(72210)`
		await migrateDrizzle(drizzle(sql), { migrationsFolder })
		await runMigrations({ connectionString: url, logger: silentLogger() })
		await sql`select pg_advisory_unlock(72210)`
	} finally {
		await sql.end({ timeout: 5 })
	}
}

function silentLogger() {
	// graphile-worker's Logger wants a factory; migrations have nothing worth printing.
	return new (class {
		scope() {
			return this
		}
		error(message: string) {
			console.error(message)
		}
		warn() {}
		info() {}
		debug() {}
	})() as never
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const url = process.env.DATABASE_URL
	if (!url) {
		console.error('DATABASE_URL must be set to migrate')
		process.exit(1)
	}
	await migrateDatabase(url)
	console.log('Migrations applied.')
}
