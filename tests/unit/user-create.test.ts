import { spawn } from 'node:child_process'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { users } from '#db/schema/index'
import { getSessionUser } from '#app/lib/auth/sessions.server'
import { login } from '#app/lib/auth/users.server'

/** `npm run user:create -- --email … --role …` against this file's database. */
const root = path.resolve(__dirname, '../..')

function userCreate(...args: Array<string>) {
	// With DATABASE_URL unset the command would start the embedded database in .data/.
	if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL must point at the test database')
	const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/user-create.ts', ...args], {
		cwd: root,
		env: process.env,
		stdio: ['ignore', 'pipe', 'pipe'],
	})
	let stdout = ''
	let stderr = ''
	child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
	child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
	return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
		child.once('exit', (code) => resolve({ code, stdout, stderr })),
	)
}

async function userCount(email: string) {
	const [{ count }] = await db
		.select({ count: sql<number>`count(*)::int` })
		.from(users)
		.where(sql`lower(${users.email}) = ${email}`)
	return count
}

describe('npm run user:create', () => {
	test('creates a user who can sign in, with a generated or a given password; refuses a bad role', async () => {
		const [generated, given, badRole] = await Promise.all([
			userCreate('--email', 'Carla@CLI.test', '--role', 'analyst', '--name', 'Carla'),
			userCreate('--email', 'dan@cli.test', '--role', 'marketer', '--password', 'dan-password-123'),
			userCreate('--email', 'eve@cli.test', '--role', 'boss'),
		])

		expect(generated.code, generated.stderr).toBe(0)
		expect(generated.stdout).toContain('Created analyst carla@cli.test')
		const password = /Password \(shown once\): (\S+)/.exec(generated.stdout)?.[1]
		expect(password?.length).toBeGreaterThanOrEqual(12)
		const carla = await login(
			{ email: 'carla@cli.test', password: password as string },
			{ ip: '10.3.3.3' },
		)
		if (!carla.ok) throw new Error(`sign-in refused: ${carla.reason}`)
		expect(await getSessionUser(carla.token)).toMatchObject({ name: 'Carla', role: 'analyst' })

		expect(given.code, given.stderr).toBe(0)
		expect(given.stdout).not.toContain('Password')
		expect(
			(await login({ email: 'dan@cli.test', password: 'dan-password-123' }, { ip: '10.3.3.3' })).ok,
		).toBe(true)

		expect(badRole.code).toBe(1)
		expect(badRole.stderr).toMatch(/role/)
		for (const role of ['admin', 'marketer', 'analyst']) expect(badRole.stderr).toContain(role)
		expect(await userCount('eve@cli.test')).toBe(0)
	}, 120_000)
})
