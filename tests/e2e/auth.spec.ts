import { expect, test } from '@playwright/test'
import { login } from './utils'

for (const role of ['admin', 'marketer', 'analyst'] as const) {
	test(`${role} signs in and sees the app shell with their role`, async ({ page }) => {
		await login(page, role)
		await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible()
		for (const item of ['Templates', 'Contacts', 'Broadcasts', 'Reports', 'Inbox', 'Settings']) {
			await expect(page.getByRole('link', { name: item, exact: true })).toBeVisible()
		}
		await expect(page.getByText('Sandbox', { exact: true })).toBeVisible()
	})
}

test('a marketer cannot open user management', async ({ page }) => {
	await login(page, 'marketer')
	const response = await page.goto('/settings/users')
	expect(response?.status()).toBe(403)
	await expect(page.getByText('You do not have access to this page')).toBeVisible()
})

test('an admin creates a user who can then sign in', async ({ page, browser }) => {
	await login(page, 'admin')
	await page.goto('/settings/users')
	await page.getByLabel('Email').fill('new.analyst@pregon.test')
	await page.getByLabel('Name').fill('New Analyst')
	await page.getByLabel('Role', { exact: true }).selectOption('analyst')
	await page.getByRole('button', { name: 'Add user' }).click()
	const password = await page.getByTestId('generated-password').textContent()
	expect(password?.length).toBeGreaterThanOrEqual(12)

	const other = await browser.newPage()
	await other.goto('/login')
	await other.getByLabel('Email').fill('new.analyst@pregon.test')
	await other.getByLabel('Password').fill(password as string)
	await other.getByRole('button', { name: 'Sign in' }).click()
	await expect(other.getByTestId('current-user')).toContainText('analyst')
	await other.close()
})

test('signing out ends the session', async ({ page, context }) => {
	await login(page, 'marketer')
	const cookies = await context.cookies()
	await page.getByRole('button', { name: 'Sign out' }).click()
	await expect(page).toHaveURL(/\/login/)
	// The old cookie is dead on the server, not just removed from the browser.
	await context.addCookies(cookies)
	await page.goto('/broadcasts')
	await expect(page).toHaveURL(/\/login\?redirectTo=%2Fbroadcasts/)
})

test('wrong password shows a clear error', async ({ page }) => {
	await page.goto('/login')
	await page.getByLabel('Email').fill('admin@pregon.test')
	await page.getByLabel('Password').fill('not-the-password')
	await page.getByRole('button', { name: 'Sign in' }).click()
	await expect(page.getByRole('alert')).toContainText('Email or password is incorrect')
})
