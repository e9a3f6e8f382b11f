import { expect, test } from '@playwright/test'
import { e2eDatabase, login } from './utils'

const SANDBOX = `http://127.0.0.1:${Number(process.env.E2E_SANDBOX_PORT ?? 4399)}`
const PHONE_NUMBER_ID = '100000000000001'
const WABA_ID = '200000000000001'

async function sandbox(path: string, body: unknown) {
	const response = await fetch(`${SANDBOX}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-api-key': 'sandbox' },
		body: JSON.stringify(body),
	})
	expect(response.ok, `${path} answered ${response.status}`).toBe(true)
	return (await response.json()) as Record<string, unknown>
}

/** What a test changed outside its own rows, undone after it. */
const cleanups: Array<() => Promise<void>> = []

test.afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A broadcast message really sent through the sandbox, recorded in the ledger the way the
 * broadcast engine records it, so the contact's reply is a reply to that broadcast.
 */
async function arrangeBroadcastMessage(phone: string) {
	const sql = e2eDatabase()
	try {
		const components = [
			{ type: 'HEADER', format: 'TEXT', text: 'Hello World' },
			{
				type: 'BODY',
				text: 'Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.',
			},
			{ type: 'FOOTER', text: 'WhatsApp Business Platform sample message' },
		]
		const created = await sql`
			insert into templates (waba_id, name, language, category, components, meta_status, review_state, origin)
			values (${WABA_ID}, 'hello_world', 'en_US', 'UTILITY', ${sql.json(components)}, 'APPROVED', 'submitted', 'external')
			on conflict (waba_id, name, language) do nothing returning id`
		const [template] =
			await sql`select id from templates where waba_id = ${WABA_ID} and name = 'hello_world' and language = 'en_US'`
		const [sender] = await sql`select id from senders where phone_number_id = ${PHONE_NUMBER_ID}`
		const [contact] = await sql`
			insert into contacts (phone_e164, name) values (${phone}, 'Inés Inbox')
			on conflict (phone_e164) do update set name = excluded.name returning id`
		const [broadcast] = await sql`
			insert into broadcasts (name, sender_id, template_id, status, audience)
			values ('Spring launch', ${sender.id}, ${template.id}, 'completed', ${sql.json({ everyone: true })}) returning id`
		// As the engine does: the row is 'sending' before the request goes out, so a webhook that
		// arrives before the wamid is written waits for it instead of being taken for a message
		// sent outside Pregón.
		const [recipient] = await sql`
			insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, state)
			values (${broadcast.id}, ${contact.id}, ${phone}, 'sending') returning id`
		const sent = await sandbox(`/meta/whatsapp/v24.0/${PHONE_NUMBER_ID}/messages`, {
			messaging_product: 'whatsapp',
			to: phone,
			type: 'template',
			template: { name: 'hello_world', language: { code: 'en_US' } },
		})
		const wamid = (sent.messages as Array<{ id: string }>)[0].id
		await sql`
			update broadcast_recipients set state = 'delivered', wamid = ${wamid}, sent_at = now()
			where id = ${recipient.id}`
		// Later specs (reports, templates) must not see this test's broadcast or template.
		cleanups.push(async () => {
			const db = e2eDatabase()
			try {
				await db`delete from broadcasts where id = ${broadcast.id}`
				if (created.length > 0) await db`delete from templates where id = ${created[0].id}`
			} finally {
				await db.end({ timeout: 5 })
			}
		})
		return wamid
	} finally {
		await sql.end({ timeout: 5 })
	}
}

test('a reply to a broadcast appears live; a marketer answers with Enter and sees it delivered', async ({
	page,
}) => {
	const settings = (await (await fetch(`${SANDBOX}/_sandbox/settings`)).json()) as {
		statuses: { deliveredShare: number }
	}
	// The sandbox delivers 95% of messages by default; this test needs its reply delivered.
	await sandbox('/_sandbox/settings', { statuses: { deliveredShare: 1 } })
	cleanups.push(async () => {
		await sandbox('/_sandbox/settings', {
			statuses: { deliveredShare: settings.statuses.deliveredShare },
		})
	})
	const phone = `+54911${String(Date.now()).slice(-8)}`
	const broadcastWamid = await arrangeBroadcastMessage(phone)

	await login(page, 'marketer')
	await page.goto('/inbox')
	await expect(page.getByRole('heading', { name: 'Select a conversation' })).toBeVisible()

	// The contact answers on WhatsApp; the sandbox delivers the signed webhook to the app.
	await sandbox('/_sandbox/simulate/reply', {
		from: phone.slice(1),
		text: 'Hola, ¿cuánto cuesta?',
		contextWamid: broadcastWamid,
	})

	// No reload: the live poll brings the conversation in.
	const item = page.getByTestId('conversation-item').filter({ hasText: phone })
	await expect(item).toContainText('Hola, ¿cuánto cuesta?')
	await expect(item.getByLabel('1 unread')).toBeVisible()
	await item.click()

	const chat = page.getByTestId('chat')
	await expect(
		chat.getByTestId('message').filter({ hasText: 'Welcome and congratulations' }),
	).toContainText('Broadcast: Spring launch')
	await expect(
		chat.getByTestId('message').filter({ hasText: 'Hola, ¿cuánto cuesta?' }),
	).toContainText('Reply to broadcast: Spring launch')

	const box = page.getByRole('textbox', { name: 'Reply' })
	await box.fill('Cuesta 10 €')
	await box.press('Shift+Enter')
	await box.pressSequentially('Envío gratis')
	await box.press('Enter')
	await expect(box).toHaveValue('')

	const reply = chat.getByTestId('message').filter({ hasText: 'Envío gratis' })
	await expect(reply).toHaveAttribute('data-direction', 'outbound')
	await expect(reply).toContainText('Cuesta 10 €')
	await expect(reply.getByTestId('message-status')).toHaveAttribute(
		'data-status',
		/^(delivered|read)$/,
	)

	const sql = e2eDatabase()
	try {
		const rows = await sql`
			select m.body from messages m
			join conversations c on c.id = m.conversation_id
			join contacts ct on ct.id = c.contact_id
			where ct.phone_e164 = ${phone} and m.direction = 'outbound' and m.type = 'text'`
		// One message with a line break: Shift+Enter did not send, Enter sent once.
		expect(rows.map((row) => row.body)).toEqual(['Cuesta 10 €\nEnvío gratis'])
	} finally {
		await sql.end({ timeout: 5 })
	}
})

test('an analyst reads conversations with masked numbers and cannot answer', async ({ page }) => {
	const phone = `+54911${String(Date.now()).slice(-8)}`
	const text = `Consulta ${phone.slice(-6)}`
	await sandbox('/_sandbox/simulate/reply', { from: phone.slice(1), text })
	await login(page, 'analyst')
	await page.goto('/inbox')
	const item = page.getByTestId('conversation-item').filter({ hasText: text })
	await expect(item).toBeVisible()
	await expect(item).not.toContainText(phone)
	await expect(item).toContainText(phone.slice(-3))
	await item.click()
	await expect(
		page.getByText('Read only: analysts can read conversations but not answer.'),
	).toBeVisible()
	await expect(page.getByRole('textbox', { name: 'Reply' })).toHaveCount(0)
})

test('when the contact last wrote over 24 hours ago only a template can be sent, beside their tags, attributes and opt-out', async ({
	page,
}) => {
	const phone = `+54911${String(Date.now()).slice(-8)}`
	const sql = e2eDatabase()
	let conversationId: string
	try {
		const [sender] = await sql`select id from senders where phone_number_id = ${PHONE_NUMBER_ID}`
		const [contact] = await sql`
			insert into contacts (phone_e164, name, tags, attributes, opted_out_at, opt_out_source)
			values (${phone}, 'Olga Old', ${['vip', 'madrid']}, ${sql.json({ city: 'Madrid', plan: 'Gold' })},
				now() - interval '2 days', 'keyword')
			returning id`
		const [conversation] = await sql`
			insert into conversations (sender_id, contact_id, status, last_message_at, last_inbound_at)
			values (${sender.id}, ${contact.id}, 'active', now() - interval '30 hours', now() - interval '30 hours')
			returning id`
		conversationId = conversation.id
		const body = '¿Sigue la oferta?'
		await sql`
			insert into messages (conversation_id, direction, wamid, type, body, payload, status, occurred_at)
			values (${conversationId}, 'inbound', ${`wamid.e2e-old-${phone.slice(1)}`}, 'text', ${body},
				${sql.json({ from: phone.slice(1), type: 'text', text: { body } })}, 'read', now() - interval '30 hours')`
		const components = [
			{ type: 'BODY', text: 'Hola {{1}}, la oferta sigue.', example: { body_text: [['Olga']] } },
		]
		const [template] = await sql`
			insert into templates (waba_id, name, language, category, components, meta_status, review_state, origin)
			values (${WABA_ID}, ${`e2e_window_${phone.slice(-8)}`}, 'es', 'MARKETING', ${sql.json(components)}, 'APPROVED', 'submitted', 'external')
			returning id`
		cleanups.push(async () => {
			const db = e2eDatabase()
			try {
				await db`delete from contacts where id = ${contact.id}`
				await db`delete from templates where id = ${template.id}`
			} finally {
				await db.end({ timeout: 5 })
			}
		})
	} finally {
		await sql.end({ timeout: 5 })
	}

	await login(page, 'marketer')
	await page.goto(`/inbox/${conversationId}`)
	await expect(page.getByTestId('chat')).toContainText('¿Sigue la oferta?')
	await expect(page.getByTestId('window-closed')).toContainText(
		'More than 24 hours have passed since this contact last wrote',
	)
	await expect(page.getByRole('textbox', { name: 'Reply' })).toHaveCount(0)
	await page.getByLabel('Template').selectOption({ label: `e2e_window_${phone.slice(-8)} (es)` })
	await expect(page.getByText('Hola {{1}}, la oferta sigue.')).toBeVisible()
	await expect(page.getByLabel('Body {{1}}')).toBeVisible()
	await expect(page.getByRole('button', { name: 'Send template' })).toBeVisible()

	const panel = page.getByRole('complementary', { name: 'Contact' })
	await expect(panel.getByRole('heading', { name: 'Olga Old' })).toBeVisible()
	await expect(panel).toContainText('Opted out')
	await expect(panel).toContainText('sent an opt-out keyword')
	await expect(panel).not.toContainText('Subscribed')
	for (const tag of ['vip', 'madrid'])
		await expect(panel.getByText(tag, { exact: true })).toBeVisible()
	await expect(panel.locator('dt', { hasText: 'city' }).locator('+ dd')).toHaveText('Madrid')
	await expect(panel.locator('dt', { hasText: 'plan' }).locator('+ dd')).toHaveText('Gold')
})

test('a history import Kapso refuses says why in the inbox, and the next one that works replaces it', async ({
	page,
}) => {
	const settings = (await (await fetch(`${SANDBOX}/_sandbox/settings`)).json()) as {
		apiKey: string | null
	}
	await login(page, 'marketer')
	await page.goto('/inbox')

	// The key the app uses stops working, as when it expires or is revoked in Kapso.
	await sandbox('/_sandbox/settings', { apiKey: 'rotated-in-kapso' })
	cleanups.push(async () => {
		await sandbox('/_sandbox/settings', { apiKey: settings.apiKey })
	})
	await page.getByRole('button', { name: 'Import history from Kapso' }).click()
	await expect(page.getByText('History import started.')).toBeVisible()
	// No reload: the inbox's live poll brings the worker's outcome in.
	await expect(page.getByRole('alert')).toHaveText(
		/^Last full history import failed at \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC: Kapso rejected the API key \(it may have expired or been revoked\)\. Check KAPSO_API_KEY\.$/,
		{ timeout: 30_000 },
	)

	await sandbox('/_sandbox/settings', { apiKey: settings.apiKey })
	await page.getByRole('button', { name: 'Import history from Kapso' }).click()
	await expect(
		page.getByRole('status').filter({ hasText: 'Last full history import finished at' }),
	).toHaveText(/UTC: \d+ conversations, \d+ new messages \(\d+ already stored\)\.$/, {
		timeout: 30_000,
	})
	await expect(page.getByRole('alert')).toHaveCount(0)
})
