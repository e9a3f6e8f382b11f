import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '#db/embedded'
import { migrateDatabase } from '#db/migrate'

/**
 * The PostgreSQL server tests run against: `DATABASE_URL` when set, else an embedded one in a
 * temporary folder. A migrated template database is built once per run; each test file gets its
 * own copy (CREATE DATABASE … TEMPLATE), which takes milliseconds.
 */
export type TestServer = { serverUrl: string; templateName: string; stop: () => Promise<void> }

export async function startTestServer(): Promise<TestServer> {
	let embedded: EmbeddedDatabase | undefined
	let serverUrl = process.env.DATABASE_URL
	if (!serverUrl) {
		const dir = path.join(os.tmpdir(), `pregon-test-pg-${process.pid}-${Date.now()}`)
		embedded = await startEmbeddedPostgres({
			dataDir: dir,
			port: 55000 + Math.floor(Math.random() * 5000),
			database: 'postgres',
			persistent: false,
			durable: false,
		})
		serverUrl = embedded.adminUrl
	}
	const templateName = `pregon_tpl_${process.pid}_${Date.now().toString(36)}`
	const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
	try {
		await admin.unsafe(`create database "${templateName}"`)
		await migrateDatabase(withDatabase(serverUrl, templateName))
	} finally {
		await admin.end({ timeout: 5 })
	}
	return {
		serverUrl,
		templateName,
		async stop() {
			const cleanup = postgres(serverUrl, { max: 1, onnotice: () => {} })
			try {
				await dropDatabase(cleanup, templateName)
			} finally {
				await cleanup.end({ timeout: 5 })
			}
			await embedded?.stop()
		},
	}
}

export function withDatabase(url: string, database: string) {
	const parsed = new URL(url)
	parsed.pathname = `/${database}`
	return parsed.toString()
}

/** Creates a fresh database from the migrated template and returns its URL. */
export async function createDatabaseFromTemplate(serverUrl: string, templateName: string, name: string) {
	const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
	try {
		await admin.unsafe(`create database "${name}" template "${templateName}"`)
	} finally {
		await admin.end({ timeout: 5 })
	}
	return withDatabase(serverUrl, name)
}

export async function dropDatabase(admin: postgres.Sql, name: string) {
	await admin.unsafe(`drop database if exists "${name}" with (force)`)
}
