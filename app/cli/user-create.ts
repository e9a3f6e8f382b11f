/** `npm run user:create -- --email a@b.c --role marketer [--name "Ann"] [--password …]` */
import { parseArgs } from 'node:util'
import { z } from 'zod'

const { values } = parseArgs({
	options: {
		email: { type: 'string' },
		role: { type: 'string' },
		name: { type: 'string' },
		password: { type: 'string' },
	},
})

import { ensureDatabaseForCli } from './database'

const stopDatabase = await ensureDatabaseForCli()
const { closeDatabase } = await import('#db/client')
const { createUser, generatePassword, NewUserSchema } = await import('#app/lib/auth/users.server')
const password = values.password ?? generatePassword()
const parsed = NewUserSchema.safeParse({
	email: values.email,
	role: values.role,
	name: values.name ?? values.email?.split('@')[0],
	password,
})
if (!parsed.success) {
	console.error(z.prettifyError(parsed.error))
	await closeDatabase()
	await stopDatabase()
	process.exit(1)
}
try {
	const user = await createUser(parsed.data, null)
	console.log(`Created ${user.role} ${user.email}`)
	if (!values.password) console.log(`Password (shown once): ${password}`)
} catch (error) {
	console.error(error instanceof Error ? error.message : error)
	process.exitCode = 1
} finally {
	await closeDatabase()
	await stopDatabase()
}
