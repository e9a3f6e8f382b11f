import { expect, test } from '@playwright/test'
import { login } from './utils'

const SANDBOX = `http://127.0.0.1:${Number(process.env.E2E_SANDBOX_PORT ?? 4399)}`

/** The sandbox decides a review after this long, so the test sees PENDING then APPROVED. */
async function setSandboxReview(settings: {
	delayMs: number
	mode: 'auto' | 'approve' | 'reject'
}) {
	const response = await fetch(`${SANDBOX}/_sandbox/settings`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ review: settings }),
	})
	expect(response.ok, `sandbox settings answered ${response.status}`).toBe(true)
}

let previousReview: unknown
test.beforeAll(async () => {
	const response = await fetch(`${SANDBOX}/_sandbox/settings`)
	previousReview = ((await response.json()) as { review: unknown }).review
})
test.afterAll(async () => {
	await fetch(`${SANDBOX}/_sandbox/settings`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ review: previousReview }),
	})
})

test('a marketer drafts a template, an admin approves it, WhatsApp approves it', async ({
	page,
}) => {
	await setSandboxReview({ delayMs: 1500, mode: 'auto' })
	const name = `e2e_order_${Date.now().toString(36)}`

	await login(page, 'marketer')
	await page.goto('/templates')
	await page.getByRole('link', { name: 'New template' }).click()
	await expect(page.getByRole('heading', { name: 'New template' })).toBeVisible()

	await page.getByLabel('Name', { exact: true }).fill(name)
	await page.getByLabel('Category').selectOption('UTILITY')

	// Live validation, from the same validator the server runs.
	await page.getByLabel('Message text').fill('{{1}} your order is ready.')
	await expect(page.getByText('do not start the message with a variable')).toBeVisible()

	await page.getByLabel('Message text').fill('Hi {{1}}, your order {{2}} is ready for pickup.')
	await expect(page.getByText('do not start the message with a variable')).toHaveCount(0)
	await page.getByLabel('Body example for {{1}}').fill('Ana')
	await page.getByLabel('Body example for {{2}}').fill('A-42')

	await page.getByRole('button', { name: 'Add button' }).click()
	await page.getByLabel('Button 1 type').selectOption('URL')
	await page.getByLabel('Button 1 text').fill('Track order')
	await page.getByLabel('Button 1 URL', { exact: true }).fill('https://shop.example/track/{{1}}')
	await page.getByLabel('Button 1 URL example').fill('https://shop.example/track/A-42')

	const preview = page.getByTestId('template-preview')
	await expect(preview).toContainText('Hi Ana, your order A-42 is ready for pickup.')
	await expect(preview).toContainText('Track order')
	await expect(page.getByText('Ready for review.')).toBeVisible()

	await page.getByRole('button', { name: 'Save draft' }).click()
	await expect(page.getByRole('heading', { name })).toBeVisible()
	await expect(page.getByTestId('review-state')).toHaveText('Draft')
	await expect(page.getByTestId('template-preview')).toContainText(
		'Hi Ana, your order A-42 is ready for pickup.',
	)
	const templateUrl = page.url()

	await page.getByRole('button', { name: 'Send for review' }).click()
	await expect(page.getByTestId('review-state')).toHaveText('In review')
	await expect(page.getByRole('button', { name: /Approve/ })).toHaveCount(0)

	await page.context().clearCookies()
	await login(page, 'admin')
	await page.goto(templateUrl)
	await page.getByRole('button', { name: 'Approve and submit to WhatsApp' }).click()
	await expect(page.getByText('Approved and submitted to WhatsApp')).toBeVisible()
	await expect(page.getByTestId('review-state')).toHaveText('Submitted to WhatsApp')

	// The worker polls the sandbox, whose review approves the template after its delay.
	await expect(page.getByTestId('meta-status')).toHaveText('APPROVED', { timeout: 45_000 })
	const history = page.getByTestId('template-history')
	await expect(history).toContainText('Sent for review')
	await expect(history).toContainText('Approved')
	await expect(history).toContainText('WhatsApp status changed → APPROVED')

	await page.goto(`/templates?status=APPROVED&q=${name}`)
	await expect(page.getByTestId('templates-table')).toContainText(name)
})
