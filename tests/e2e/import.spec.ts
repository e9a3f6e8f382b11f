import fs from 'node:fs'
import { expect, test } from '@playwright/test'
import { login } from './utils'

/**
 * The import flow a marketer goes through: upload a CSV, map its columns, watch the job's
 * progress to the end, read the rejected rows and download them as CSV.
 */
test('upload a CSV, map a column, watch the progress finish and download the error report', async ({
	page,
}) => {
	// Numbers unique to this run, so a rerun against the same database still inserts them.
	const stamp = String(Date.now() % 100_000).padStart(5, '0')
	const phone = (i: number) => `98${stamp}${String(i).padStart(2, '0')}`
	const lines = [
		'Celular;Nombre;Ciudad;Código interno',
		`${phone(1)};Rosa Quispe;Lima;A-1`,
		`+51 ${phone(2)};Pedro Flores;Cusco;A-2`,
		`0051${phone(2)};Pedro otra vez;Cusco;A-3`,
		`12345;Corto;Piura;A-4`,
		`01 4567890;Fijo;Lima;A-5`,
		`${phone(3)};"Ana; María";Arequipa;A-6`,
	]
	await login(page, 'marketer')
	await page.goto('/imports')
	await page.getByLabel('File').setInputFiles({
		name: `e2e-${stamp}.csv`,
		mimeType: 'text/csv',
		buffer: Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8'),
	})
	await page.getByRole('button', { name: 'Upload' }).click()

	const mapping = page.getByTestId('mapping')
	await expect(mapping).toBeVisible()
	await expect(page.getByLabel('Celular becomes')).toHaveValue('phone')
	await page.getByLabel('Código interno becomes').selectOption('ignore')
	await page.getByLabel('Ciudad attribute name').fill('city')
	await page.getByLabel('Tags for every imported contact').fill(`e2e-${stamp}`)
	await page.getByRole('button', { name: 'Start import' }).click()

	await expect(page.getByTestId('import-progress')).toBeVisible()
	await expect(page.getByTestId('import-status')).toHaveText('completed', { timeout: 60_000 })
	await expect(page.getByTestId('rows-read')).toHaveText('6')
	await expect(page.getByTestId('rows-inserted')).toHaveText('3')
	await expect(page.getByTestId('rows-rejected')).toHaveText('3')
	const rejected = page.getByTestId('rejected-rows')
	await expect(rejected).toContainText('Duplicate of line 3 in this file')
	await expect(rejected).toContainText('Invalid phone number: too short')
	await expect(rejected).toContainText('Not a mobile number: a fixed line')

	const downloading = page.waitForEvent('download')
	await page.getByTestId('download-errors').click()
	const download = await downloading
	const report = fs.readFileSync(await download.path(), 'utf8')
	expect(report.split('\r\n')).toEqual([
		'line,value,code,reason',
		`4,0051${phone(2)},duplicate,Duplicate of line 3 in this file`,
		'5,12345,invalid_phone,Invalid phone number: too short',
		'6,01 4567890,not_mobile,Not a mobile number: a fixed line',
		'',
	])

	await page.goto(`/contacts?tag=e2e-${stamp}`)
	const table = page.getByTestId('contacts-table')
	await expect(table.getByRole('row')).toHaveCount(4)
	await table.getByRole('link', { name: `+51${phone(3)}` }).click()
	await expect(page.getByRole('heading', { name: 'Ana; María' })).toBeVisible()
	await expect(page.getByText('Arequipa')).toBeVisible()
})
