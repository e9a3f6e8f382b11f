import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema/index'

export type Database = ReturnType<typeof createDatabase>['db']
/** A transaction handle, or the database itself: domain functions accept either. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0]

export function createDatabase(url: string, options: { max?: number } = {}) {
	const sql = postgres(url, {
		max: options.max ?? 10,
		idle_timeout: 20,
		connect_timeout: 10,
		onnotice: () => {},
	})
	return { sql, db: drizzle(sql, { schema }) }
}

function requireDatabaseUrl() {
	const url = process.env.DATABASE_URL
	if (!url) throw new Error('DATABASE_URL is not set: start the app with `npm start` or set it')
	return url
}

const shared = createDatabase(requireDatabaseUrl(), {
	max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
})

/** The process-wide postgres.js client, for raw SQL such as COPY. */
export const sql = shared.sql
/** The process-wide drizzle client. */
export const db = shared.db

export async function closeDatabase() {
	await sql.end({ timeout: 5 })
}
