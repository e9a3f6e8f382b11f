import { expect, type Page } from '@playwright/test'
import postgres from 'postgres'
import type { Role } from '#db/schema/index'

export const ADMIN = { email: 'admin@pregon.test', password: 'admin-password-123' }
export const PASSWORD = 'e2e-password-123'

export function emailFor(role: Role) {
	return role === 'admin' ? ADMIN.email : `${role}@pregon.test`
}

/**
 * Makes sure a user of `role` exists in the e2e database. Users are created through the app's
 * own domain code, so they are exactly what the admin page would create.
 */
export async function ensureUser(role: Role) {
	if (role === 'admin') return ADMIN
	const email = emailFor(role)
	const sql = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} })
	try {
		const [existing] = await sql`select id from users where lower(email) = ${email}`
		if (!existing) {
			const { createUser } = await import('#app/lib/auth/users.server')
			await createUser({ email, name: `E2E ${role}`, role, password: PASSWORD }, null)
		}
	} finally {
		await sql.end({ timeout: 5 })
	}
	return { email, password: PASSWORD }
}

export async function login(page: Page, role: Role) {
	const credentials = await ensureUser(role)
	await page.goto('/login')
	await page.getByLabel('Email').fill(credentials.email)
	await page.getByLabel('Password').fill(credentials.password)
	await page.getByRole('button', { name: 'Sign in' }).click()
	await expect(page.getByTestId('current-user')).toContainText(role)
}

/** A direct connection to the e2e database for arranging data and checking results. */
export function e2eDatabase() {
	return postgres(process.env.DATABASE_URL as string, { max: 2, onnotice: () => {} })
}
