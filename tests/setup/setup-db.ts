import postgres from 'postgres'
import { afterAll, inject } from 'vitest'
import { createDatabaseFromTemplate, dropDatabase } from './database'

// Runs before each test file is imported, so `#db/client` connects to this file's own database.
const serverUrl = inject('pgServerUrl')
const name = `pregon_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
process.env.DATABASE_URL = await createDatabaseFromTemplate(serverUrl, inject('pgTemplateName'), name)
process.env.NODE_ENV = 'test'

afterAll(async () => {
	const { closeDatabase } = await import('#db/client')
	await closeDatabase()
	const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
	try {
		await dropDatabase(admin, name)
	} finally {
		await admin.end({ timeout: 5 })
	}
})
