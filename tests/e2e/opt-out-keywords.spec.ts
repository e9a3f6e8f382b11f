import { expect, test } from '@playwright/test'
import { e2eDatabase, login } from './utils'

test.afterEach(async () => {
	const sql = e2eDatabase()
	await sql`delete from app_settings where key = 'opt_out_keywords'`
	await sql.end({ timeout: 5 })
})

test('an admin edits the opt-out keywords, sees a field error, and restores the defaults after confirming', async ({
	page,
}) => {
	await login(page, 'admin')
	await page.goto('/settings')
	await page.getByRole('link', { name: 'Opt-out keywords' }).click()
	const keywords = page.getByLabel('Keywords')
	await expect(keywords).toHaveValue(/^STOP\nBAJA\n/)
	await expect(page.getByText('Defaults', { exact: true })).toBeVisible()

	await keywords.fill(`STOP\n${'x'.repeat(31)}`)
	await page.getByRole('button', { name: 'Save' }).click()
	await expect(page.getByText(`“${'x'.repeat(31)}” is longer than 30 characters`)).toBeVisible()

	await keywords.fill(' Alto \nbasta, ALTO')
	await page.getByRole('button', { name: 'Save' }).click()
	await expect(page.getByText('Saved 2 keyword(s).')).toBeVisible()
	await expect(keywords).toHaveValue('Alto\nbasta')
	await page.reload()
	await expect(keywords).toHaveValue('Alto\nbasta')
	await expect(page.getByText('Custom list', { exact: true })).toBeVisible()

	let asked = ''
	page.once('dialog', (dialog) => {
		asked = dialog.message()
		void dialog.dismiss()
	})
	await page.getByRole('button', { name: 'Restore defaults' }).click()
	await expect.poll(() => asked).toContain('with the defaults')
	await page.reload()
	await expect(keywords).toHaveValue('Alto\nbasta')

	page.once('dialog', (dialog) => dialog.accept())
	await page.getByRole('button', { name: 'Restore defaults' }).click()
	await expect(page.getByText('Default keywords restored.')).toBeVisible()
	await expect(keywords).toHaveValue(/^STOP\nBAJA\n/)
	await expect(page.getByRole('button', { name: 'Restore defaults' })).toHaveCount(0)
})

test('a marketer cannot open the opt-out keywords', async ({ page }) => {
	await login(page, 'marketer')
	const response = await page.goto('/settings/opt-out-keywords')
	expect(response?.status()).toBe(403)
})
