import { expect, test, type Page } from '@playwright/test'
import { e2eDatabase, login } from './utils'

/**
 * Broadcasts end to end, against the app running with the Kapso sandbox: a marketer builds a
 * broadcast, previews it, test-sends it and sends it now, and the sandbox's ledger shows each
 * recipient got it once; another broadcast, on a slow number, is paused and resumed.
 */

const SANDBOX = `http://127.0.0.1:${Number(process.env.E2E_SANDBOX_PORT ?? 4399)}`
const WABA_ID = '200000000000001'
const run = Date.now().toString(36)

type LedgerEntry = {
	to: string
	template: string | null
	phoneNumberId: string
	callbackData: string | null
}

const digits = (phone: string) => phone.replace(/\D/g, '')

async function sandboxLedger(phoneNumberId: string): Promise<LedgerEntry[]> {
	const response = await fetch(
		`${SANDBOX}/_sandbox/ledger?phone_number_id=${phoneNumberId}&limit=100000`,
	)
	expect(response.ok).toBe(true)
	return ((await response.json()) as { data: LedgerEntry[] }).data
}

/**
 * An approved template both in the sandbox (so sends succeed) and in the app's database, as a
 * template sync would record it.
 */
async function approvedTemplate(name: string) {
	const components = [
		{
			type: 'BODY',
			text: 'Hola {{1}}, esta semana hay ofertas en {{2}}.',
			example: { body_text: [['Ana', 'Lima']] },
		},
	]
	const created = await fetch(`${SANDBOX}/meta/whatsapp/v24.0/${WABA_ID}/message_templates`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-api-key': 'sandbox' },
		body: JSON.stringify({ name, language: 'es', category: 'MARKETING', components }),
	})
	expect(created.ok, await created.clone().text()).toBe(true)
	const { id } = (await created.json()) as { id: string }
	const approved = await fetch(`${SANDBOX}/_sandbox/templates/status`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ id, status: 'APPROVED' }),
	})
	expect(approved.ok).toBe(true)
	const sql = e2eDatabase()
	try {
		const [row] = await sql<Array<{ id: string }>>`
			insert into templates (waba_id, name, language, category, components, remote_components,
				review_state, meta_status, remote_id, origin, last_synced_at)
			values (${WABA_ID}, ${name}, 'es', 'MARKETING', ${sql.json(components)}, ${sql.json(components)},
				'submitted', 'APPROVED', ${id}, 'external', now())
			on conflict (waba_id, name, language) do update set meta_status = 'APPROVED', remote_id = ${id}
			returning id
		`
		return row.id
	} finally {
		await sql.end({ timeout: 5 })
	}
}

async function arrangeContacts(
	tag: string,
	people: Array<{ name: string; phone: string; city: string }>,
) {
	const sql = e2eDatabase()
	try {
		for (const person of people) {
			await sql`
				insert into contacts (phone_e164, name, tags, attributes)
				values (${person.phone}, ${person.name}, array[${tag}::text], ${sql.json({ city: person.city })})
				on conflict (phone_e164) do update
				set name = excluded.name, tags = excluded.tags, attributes = excluded.attributes, opted_out_at = null
			`
		}
	} finally {
		await sql.end({ timeout: 5 })
	}
}

async function optOut(phone: string) {
	const sql = e2eDatabase()
	try {
		await sql`update contacts set opted_out_at = now(), opt_out_source = 'keyword' where phone_e164 = ${phone}`
	} finally {
		await sql.end({ timeout: 5 })
	}
}

async function sandboxSenderId() {
	const sql = e2eDatabase()
	try {
		const [row] = await sql<
			Array<{ id: string }>
		>`select id from senders where phone_number_id = '100000000000001'`
		return row.id
	} finally {
		await sql.end({ timeout: 5 })
	}
}

async function statusOf(page: Page) {
	return page.getByTestId('broadcast-status').first()
}

test('a marketer builds, previews, test-sends and sends a broadcast that the sandbox delivers once to each recipient', async ({
	page,
}) => {
	test.setTimeout(120_000)
	const tag = `e2e-${run}`
	const template = `ofertas_${run}`
	await approvedTemplate(template)
	const phones = ['+51987100001', '+51987100002', '+51987100003', '+51987100004']
	await arrangeContacts(tag, [
		{ name: 'Ana', phone: phones[0], city: 'Lima' },
		{ name: '', phone: phones[1], city: 'lima ' },
		{ name: 'Oscar', phone: phones[2], city: 'Lima' },
		{ name: 'Cusqueña', phone: phones[3], city: 'Cusco' },
		{ name: 'Olga', phone: '+51987100005', city: 'Lima' },
	])
	// Opted-out contacts match the filters but are always left out.
	await optOut('+51987100005')

	await login(page, 'marketer')
	await page.goto('/broadcasts')
	await page.getByRole('link', { name: 'New broadcast' }).click()

	// 1. Name and sender.
	await page.getByLabel('Name').fill(`Ofertas Lima ${run}`)
	const sandboxNumber = await page
		.locator('#broadcast-sender option', { hasText: 'Sandbox number' })
		.getAttribute('value')
	await page.getByLabel('Sender number').selectOption(sandboxNumber!)
	await page.getByRole('button', { name: 'Save and continue' }).click()

	// 2. Template: only approved ones can be chosen.
	await expect(page).toHaveURL(/step=template/)
	await page.getByRole('radio', { name: new RegExp(template) }).check()
	await page.getByRole('button', { name: 'Save and continue' }).click()

	// 3. Audience: the tag, and city = Lima (any case, spaces trimmed).
	await expect(page).toHaveURL(/step=audience/)
	await page.getByRole('button', { name: 'Save and continue' }).click()
	await expect(page.getByText(/Choose who receives it/)).toBeVisible()
	await page.locator('input[name="tagsAny"][value="' + tag + '"]').check()
	await page.getByLabel('Attribute 1').fill('city')
	await page.getByLabel('Value 1').fill('Lima')
	await page.getByRole('button', { name: 'Save and continue' }).click()

	// 4. Variables: {{1}} from the name with a fallback, {{2}} from the city attribute.
	await expect(page).toHaveURL(/step=variables/)
	const first = page.getByTestId('mapping-body:1')
	await first.getByRole('radio', { name: 'Contact field' }).check()
	await first.getByLabel('Contact field for Body {{1}}').selectOption('name')
	await first.getByLabel('Fallback for Body {{1}}').fill('amigo')
	const second = page.getByTestId('mapping-body:2')
	await second.getByRole('radio', { name: 'Attribute' }).check()
	await second.getByLabel('Attribute for Body {{2}}').fill('')
	await page.getByRole('button', { name: 'Save and continue' }).click()
	await expect(page.getByTestId('mapping-body:2').getByText('Choose an attribute')).toBeVisible()
	await page.getByTestId('mapping-body:2').getByLabel('Attribute for Body {{2}}').fill('city')
	await page.getByRole('button', { name: 'Save and continue' }).click()

	// 5. Preview: three real recipients, with their own values.
	await expect(page).toHaveURL(/step=preview/)
	const previews = page.getByTestId('recipient-preview')
	await expect(previews).toHaveCount(3)
	await expect(previews.nth(0)).toContainText('Hola Ana, esta semana hay ofertas en Lima.')
	await expect(previews.nth(1)).toContainText('Hola amigo, esta semana hay ofertas en lima.')
	await expect(previews.nth(2)).toContainText('Hola Oscar')
	await page.getByRole('link', { name: 'Continue to pre-flight' }).click()

	// Pre-flight, then a test send to one number.
	await expect(page.getByTestId('preflight-eligible')).toContainText('3')
	await expect(page.getByTestId('exclusions')).toContainText(/Opted out\s*1/)
	await expect(page.getByText(/Approved by WhatsApp/)).toBeVisible()
	// A number that is not a contact has no city, and {{2}} has no fallback: refused, said next to the field.
	await page.getByLabel('Phone number for the test').fill('+51987199999')
	await page.getByRole('button', { name: 'Send test' }).click()
	await expect(page.getByText(/No value for body:2/)).toBeVisible()
	// A contact outside the audience gets it with their own values.
	const testPhone = phones[3]
	await page.getByLabel('Phone number for the test').fill(testPhone)
	await page.getByRole('button', { name: 'Send test' }).click()
	await expect(page.getByTestId('test-send-result')).toContainText('sent')
	await expect
		.poll(
			async () =>
				(await sandboxLedger('100000000000001')).filter(
					(m) => m.template === template && digits(m.to) === digits(testPhone),
				).length,
		)
		.toBe(1)

	// Send now, and watch it finish without reloading.
	await page.getByRole('radio', { name: 'Now' }).check()
	await page.getByRole('button', { name: 'Send now' }).click()
	await expect(page.getByTestId('progress-sent')).toBeVisible()
	await expect(await statusOf(page)).toHaveText('Completed', { timeout: 60_000 })
	await expect(page.getByTestId('progress-sent')).toContainText('3')
	await expect(page.getByTestId('progress-remaining')).toContainText('0')

	const ledger = (await sandboxLedger('100000000000001')).filter((m) => m.template === template)
	const recipients = ledger
		.filter((m) => digits(m.to) !== digits(testPhone))
		.map((m) => digits(m.to))
	expect(recipients.sort()).toEqual(phones.slice(0, 3).map(digits).sort())

	// A finished broadcast offers retargeting.
	await expect(page.getByRole('heading', { name: 'Retarget' })).toBeVisible()

	// It shows in the list as completed.
	await page.goto(`/broadcasts?q=${encodeURIComponent(`Ofertas Lima ${run}`)}`)
	await expect(page.getByTestId('broadcast-row')).toHaveCount(1)
	await expect(page.getByTestId('broadcast-row')).toContainText('Completed')
})

test('a broadcast is scheduled in another timezone, shown in both, and unscheduled', async ({
	page,
}) => {
	const template = `horario_${run}`
	const templateId = await approvedTemplate(template)
	const tag = `e2e-later-${run}`
	await arrangeContacts(tag, [{ name: 'Luz', phone: '+51987200001', city: 'Lima' }])
	const senderId = await sandboxSenderId()
	const sql = e2eDatabase()
	const [broadcast] = await sql<Array<{ id: string }>>`
		insert into broadcasts (name, sender_id, template_id, audience, variable_mapping)
		values (${`Later ${run}`}, ${senderId}, ${templateId}, ${sql.json({ tagsAny: [tag] })},
			${sql.json({ 'body:1': { source: 'field', field: 'name' }, 'body:2': { source: 'text', text: 'Lima' } })})
		returning id
	`
	await sql.end({ timeout: 5 })

	await login(page, 'marketer')
	await page.goto(`/broadcasts/${broadcast.id}`)
	await page.getByRole('radio', { name: 'Later' }).check()
	await page.getByLabel('Date and time', { exact: true }).fill('2099-01-15T09:30')
	await page.getByLabel('Timezone').selectOption('America/Lima')
	await page.getByRole('button', { name: 'Schedule' }).click()
	await expect(await statusOf(page)).toHaveText('Scheduled')
	// The marketer's zone is UTC: 09:30 in Lima is 14:30 UTC, and both are shown.
	await expect(page.getByTestId('scheduled-at')).toContainText('14:30')
	await expect(page.getByTestId('scheduled-at')).toContainText('09:30')
	await expect(page.getByTestId('scheduled-at')).toContainText('America/Lima')

	page.once('dialog', (dialog) => dialog.accept())
	await page.getByRole('button', { name: 'Unschedule' }).click()
	await expect(await statusOf(page)).toHaveText('Draft')
})

test('a sending broadcast is paused with the reason shown, and resumed to send each remaining recipient once', async ({
	page,
}) => {
	test.setTimeout(120_000)
	const template = `pausa_${run}`
	const templateId = await approvedTemplate(template)
	const tag = `e2e-pause-${run}`
	const total = 40
	const people = Array.from({ length: total }, (_, i) => ({
		name: `Cliente ${i + 1}`,
		phone: `+5198730${String(i).padStart(4, '0')}`,
		city: 'Lima',
	}))
	await arrangeContacts(tag, people)
	// A slow number of its own, so the broadcast is still sending when it is paused.
	const phoneNumberId = `10000000${Date.now() % 10_000_000}`
	const sql = e2eDatabase()
	const [sender] = await sql<Array<{ id: string }>>`
		insert into senders (phone_number_id, waba_id, display_number, name, rate_per_second)
		values (${phoneNumberId}, ${WABA_ID}, '+1 555 000 0777', 'Slow number', 2)
		returning id
	`
	const [broadcast] = await sql<Array<{ id: string }>>`
		insert into broadcasts (name, sender_id, template_id, audience, variable_mapping)
		values (${`Pause ${run}`}, ${sender.id}, ${templateId}, ${sql.json({ tagsAny: [tag] })},
			${sql.json({ 'body:1': { source: 'field', field: 'name' }, 'body:2': { source: 'attribute', key: 'city' } })})
		returning id
	`
	await sql.end({ timeout: 5 })

	await login(page, 'marketer')
	await page.goto(`/broadcasts/${broadcast.id}`)
	await expect(page.getByTestId('preflight-eligible')).toContainText(String(total))
	await page.getByRole('radio', { name: 'Now' }).check()
	await page.getByRole('button', { name: 'Send now' }).click()
	await expect(await statusOf(page)).toHaveText('Sending', { timeout: 30_000 })
	// Wait for the first sends to show up live, then pause.
	await expect
		.poll(async () =>
			Number(
				(await page.getByTestId('progress-sent').locator('.value').textContent())?.replace(
					/\D/g,
					'',
				),
			),
		)
		.toBeGreaterThan(0)
	page.once('dialog', (dialog) => dialog.accept())
	await page.getByRole('button', { name: 'Pause' }).click()
	await expect(await statusOf(page)).toHaveText('Paused')
	await expect(page.getByTestId('status-reason')).toContainText('Paused by a user')
	const remaining = Number(
		(await page.getByTestId('progress-remaining').locator('.value').textContent())?.replace(
			/\D/g,
			'',
		),
	)
	expect(remaining).toBeGreaterThan(0)

	page.once('dialog', (dialog) => dialog.accept())
	await page.getByRole('button', { name: 'Resume' }).click()
	await expect(await statusOf(page)).toHaveText('Completed', { timeout: 90_000 })
	await expect(page.getByTestId('progress-sent')).toContainText(String(total))

	const ledger = (await sandboxLedger(phoneNumberId)).filter((m) => m.template === template)
	expect(ledger).toHaveLength(total)
	expect(new Set(ledger.map((m) => digits(m.to))).size).toBe(total)
})

test('with approval on, a broadcast waits for an admin, and a change after approval sends it back', async ({
	page,
	browser,
}) => {
	const template = `aprobar_${run}`
	const templateId = await approvedTemplate(template)
	const tag = `e2e-approval-${run}`
	await arrangeContacts(tag, [{ name: 'Eva', phone: '+51987300001', city: 'Lima' }])
	const adminPage = await (await browser.newContext()).newPage()
	try {
		await login(adminPage, 'admin')
		await adminPage.goto('/settings')
		await adminPage.getByRole('link', { name: /Broadcasts: approval/ }).click()
		await adminPage.getByLabel(/Require an admin’s approval/).check()
		await adminPage.getByRole('button', { name: 'Save' }).click()
		await expect(adminPage.getByText('Settings saved.')).toBeVisible()

		await login(page, 'marketer')
		await page.goto('/broadcasts/new')
		await page.getByLabel('Name').fill(`Needs approval ${run}`)
		const sandboxNumber = await page
			.locator('#broadcast-sender option', { hasText: 'Sandbox number' })
			.getAttribute('value')
		await page.getByLabel('Sender number').selectOption(sandboxNumber!)
		await page.getByRole('button', { name: 'Save and continue' }).click()
		await expect(page).toHaveURL(/step=template/)
		const id = /broadcasts\/([0-9a-f-]{36})\//.exec(page.url())![1]
		// The remaining steps are covered above; fill them directly.
		const sql = e2eDatabase()
		await sql`
			update broadcasts set template_id = ${templateId}, audience = ${sql.json({ tagsAny: [tag] })},
				variable_mapping = ${sql.json({ 'body:1': { source: 'field', field: 'name' }, 'body:2': { source: 'text', text: 'Lima' } })}
			where id = ${id}
		`
		await sql.end({ timeout: 5 })

		await page.goto(`/broadcasts/${id}`)
		await expect(page.getByTestId('approval')).toContainText('Waiting for an admin')
		await expect(page.getByRole('button', { name: 'Send now' })).toHaveCount(0)
		await expect(page.getByRole('button', { name: 'Approve broadcast' })).toHaveCount(0)

		await adminPage.goto(`/broadcasts/${id}`)
		await adminPage.getByRole('button', { name: 'Approve broadcast' }).click()
		await expect(adminPage.getByTestId('approval')).toContainText('Approved by')

		await page.reload()
		await expect(page.getByRole('button', { name: 'Send now' })).toBeVisible()
		// Any change after approval needs approval again.
		await page.getByRole('link', { name: 'Edit' }).click()
		await page.getByLabel('Name').fill(`Needs approval ${run} (v2)`)
		await page.getByRole('button', { name: 'Save and continue' }).click()
		await expect(page).toHaveURL(/step=template/)
		await page.goto(`/broadcasts/${id}`)
		await expect(page.getByTestId('approval')).toContainText('Waiting for an admin')
		await expect(page.getByRole('button', { name: 'Send now' })).toHaveCount(0)
	} finally {
		const sql = e2eDatabase()
		await sql`update app_settings set value = 'false'::jsonb where key = 'broadcast_approval_required'`
		await sql.end({ timeout: 5 })
		await adminPage.context().close()
	}
})

test('an analyst reads broadcasts but is offered no action, and cannot open the builder', async ({
	page,
}) => {
	const template = `lectura_${run}`
	const templateId = await approvedTemplate(template)
	const senderId = await sandboxSenderId()
	const sql = e2eDatabase()
	const [broadcast] = await sql<Array<{ id: string }>>`
		insert into broadcasts (name, sender_id, template_id, audience, variable_mapping)
		values (${`Read only ${run}`}, ${senderId}, ${templateId}, ${sql.json({ tagsAny: [`e2e-${run}`] })},
			${sql.json({ 'body:1': { source: 'field', field: 'name', fallback: 'amigo' }, 'body:2': { source: 'text', text: 'Lima' } })})
		returning id
	`
	await sql.end({ timeout: 5 })

	await login(page, 'analyst')
	await page.goto('/broadcasts')
	await expect(page.getByRole('heading', { name: 'Broadcasts' })).toBeVisible()
	await expect(page.getByRole('link', { name: 'New broadcast' })).toHaveCount(0)
	await page.getByRole('link', { name: `Read only ${run}` }).click()
	await expect(page.getByRole('heading', { name: 'Pre-flight' })).toBeVisible()
	await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0)
	await expect(page.getByRole('button', { name: 'Send test' })).toHaveCount(0)
	await expect(page.getByRole('button', { name: /Send now|Schedule/ })).toHaveCount(0)
	expect((await page.goto('/broadcasts/new'))?.status()).toBe(403)
	expect((await page.goto(`/broadcasts/${broadcast.id}/edit`))?.status()).toBe(403)
})
