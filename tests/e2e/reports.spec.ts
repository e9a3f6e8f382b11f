import fs from 'node:fs'
import { expect, test } from '@playwright/test'
import { e2eDatabase, login } from './utils'

/**
 * An analyst reads a finished broadcast's report: the funnel, why messages failed, the failed
 * recipients (phone numbers masked), and exports them as CSV.
 */

const TAG = `r${Date.now().toString(36)}`

async function arrangeFinishedBroadcast() {
	const sql = e2eDatabase()
	try {
		const [sender] = await sql<Array<{ id: string }>>`
			insert into senders (phone_number_id, waba_id, display_number, name)
			values (${`1009${Date.now().toString().slice(-11)}`}, '200000000000555', '+1 555 010 0555', 'Reports e2e')
			returning id
		`
		const [broadcast] = await sql<Array<{ id: string }>>`
			insert into broadcasts (name, sender_id, status, launched_at, completed_at)
			values (${`Report e2e ${TAG}`}, ${sender.id}, 'completed', now() - interval '2 hours', now() - interval '1 hour')
			returning id
		`
		// 12 recipients: 6 read, 3 delivered, 2 failed (131049, 131026), 1 skipped.
		await sql`
			with c as (
				insert into contacts (phone_e164, name)
				select '+5197' || lpad((${Date.now() % 100_000}::int * 12 + i)::text, 7, '0'),
					case when i = 10 then '=cmd|calc' else 'Cliente ' || i end
				from generate_series(1, 12) as i
				returning id, phone_e164, name
			)
			insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, state, wamid, sent_at, delivered_at, read_at,
				failed_at, error_code, error_title, skip_reason, attempts)
			select ${broadcast.id}, c.id, c.phone_e164, s.state::recipient_state,
				case when s.state <> 'skipped' then 'wamid.e2e.' || ${TAG} || '.' || c.id end,
				case when s.state <> 'skipped' then now() - interval '110 minutes' end,
				case when s.state in ('delivered', 'read') then now() - interval '109 minutes' end,
				case when s.state = 'read' then now() - interval '100 minutes' end,
				case when s.state = 'failed' then now() - interval '109 minutes' end,
				case when s.state = 'failed' then (case when n = 10 then 131049 else 131026 end) end,
				case when s.state = 'failed' then 'Failed' end,
				case when s.state = 'skipped' then 'opted_out' end,
				1
			from (select c.*, row_number() over (order by c.id) as n from c) c
			cross join lateral (select case
				when n <= 6 then 'read' when n <= 9 then 'delivered' when n <= 11 then 'failed' else 'skipped' end as state) s
		`
		const failedPhones = await sql<Array<{ phone_e164: string }>>`
			select phone_e164 from broadcast_recipients where broadcast_id = ${broadcast.id} and state = 'failed' order by id
		`
		return { id: broadcast.id, failedPhones: failedPhones.map((r) => r.phone_e164) }
	} finally {
		await sql.end({ timeout: 5 })
	}
}

test('an analyst opens a finished broadcast report, filters failed recipients and exports them', async ({ page }) => {
	const broadcast = await arrangeFinishedBroadcast()
	await login(page, 'analyst')
	await page.goto('/reports')
	await expect(page.getByRole('heading', { name: 'Reports', exact: true })).toBeVisible()
	await page.getByRole('link', { name: `Report e2e ${TAG}` }).click()

	await expect(page.getByRole('heading', { name: `Report e2e ${TAG}` })).toBeVisible()
	await expect(page.getByTestId('funnel-recipients')).toContainText('12')
	await expect(page.getByTestId('funnel-sent')).toContainText('11')
	await expect(page.getByTestId('funnel-delivered')).toContainText('9')
	await expect(page.getByTestId('funnel-read')).toContainText('6')
	await expect(page.getByTestId('funnel-failed')).toContainText('2')
	const failures = page.getByTestId('failures-table')
	await expect(failures.getByRole('row')).toHaveCount(3)
	await expect(failures).toContainText('131049')
	await expect(failures).toContainText('131026')

	await page.getByLabel('State').selectOption('failed')
	await page.getByRole('button', { name: 'Apply' }).click()
	await expect(page).toHaveURL(/state=failed/)
	const table = page.getByTestId('recipients-table')
	await expect(table.locator('tbody tr')).toHaveCount(2)
	await expect(page.getByTestId('recipients-count')).toContainText('2 recipients')
	await expect(page.getByTestId('recipients-count')).toContainText('masked')
	for (const phone of broadcast.failedPhones) {
		await expect(table).not.toContainText(phone)
		await expect(table).toContainText(phone.slice(-3))
	}

	const downloading = page.waitForEvent('download')
	await page.getByRole('link', { name: 'Export CSV' }).click()
	const download = await downloading
	expect(download.suggestedFilename()).toMatch(/failed-recipients\.csv$/)
	const csv = fs.readFileSync((await download.path()) as string, 'utf8')
	const lines = csv.trimEnd().split('\r\n')
	expect(lines[0]).toMatch(/^phone,name,state,/)
	expect(lines).toHaveLength(3)
	expect(lines.slice(1).every((line) => line.includes(',failed,'))).toBe(true)
	for (const phone of broadcast.failedPhones) expect(csv).not.toContain(phone)
	// A name that looks like a formula is exported as text.
	expect(csv).toContain("'=cmd|calc")
})
