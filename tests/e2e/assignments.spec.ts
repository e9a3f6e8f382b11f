import { expect, test } from '@playwright/test'
import { e2eDatabase, emailFor, ensureUser, login } from './utils'

const PHONE_NUMBER_ID = '100000000000001'

/** An unassigned conversation with one inbound message, stored as the webhook processing stores it. */
async function arrangeConversation(name: string, phone: string) {
	const sql = e2eDatabase()
	try {
		const [sender] = await sql`select id from senders where phone_number_id = ${PHONE_NUMBER_ID}`
		const [contact] = await sql`
			insert into contacts (phone_e164, name) values (${phone}, ${name})
			on conflict (phone_e164) do update set name = excluded.name returning id`
		const [conversation] = await sql`
			insert into conversations (sender_id, contact_id, last_message_at, last_inbound_at, unread_count)
			values (${sender.id}, ${contact.id}, now(), now(), 1) returning id`
		const wamid = `wamid.e2e.assign.${phone.slice(1)}`
		await sql`
			insert into messages (conversation_id, direction, wamid, type, body, payload, status, occurred_at)
			values (${conversation.id}, 'inbound', ${wamid}, 'text', 'Hola, ¿me ayudan?',
				${sql.json({ from: phone.slice(1), id: wamid, type: 'text', text: { body: 'Hola, ¿me ayudan?' } })},
				'received', now())`
		return conversation.id as string
	} finally {
		await sql.end({ timeout: 5 })
	}
}

test('an admin assigns a conversation to a marketer, who then finds it under "Mine"', async ({
	page,
	browser,
}) => {
	await ensureUser('marketer')
	const name = `Asignada ${Date.now().toString(36)}`
	const phone = `+54911${String(Date.now()).slice(-8)}`
	const conversationId = await arrangeConversation(name, phone)

	await login(page, 'admin')
	await page.goto(`/inbox/${conversationId}`)
	await expect(page.getByTestId('assignee')).toHaveText('Unassigned')
	await page.getByTestId('assignee-select').selectOption({ label: 'E2E marketer' })
	await page.getByRole('button', { name: 'Assign', exact: true }).click()
	await expect(page.getByTestId('assignee')).toHaveText('Assigned to E2E marketer')
	// The list shows who has it.
	const row = page.getByTestId('conversation-item').filter({ hasText: name })
	await expect(row).toContainText('E2E marketer')

	const marketerContext = await browser.newContext()
	const marketer = await marketerContext.newPage()
	try {
		await login(marketer, 'marketer')
		await marketer.goto('/inbox')
		await marketer.getByLabel('Assigned').selectOption('mine')
		await marketer.getByRole('button', { name: 'Filter' }).click()
		await expect(marketer).toHaveURL(/assigned=mine/)
		await expect(marketer.getByTestId('conversation-item').filter({ hasText: name })).toBeVisible()

		await marketer.getByLabel('Assigned').selectOption('unassigned')
		await marketer.getByRole('button', { name: 'Filter' }).click()
		await expect(marketer).toHaveURL(/assigned=unassigned/)
		await expect(marketer.getByTestId('conversation-item').filter({ hasText: name })).toHaveCount(0)
	} finally {
		await marketerContext.close()
	}

	const sql = e2eDatabase()
	try {
		const [row] = await sql`
			select u.email from conversations c join users u on u.id = c.assignee_id where c.id = ${conversationId}`
		expect(row.email).toBe(emailFor('marketer'))
	} finally {
		await sql.end({ timeout: 5 })
	}
})
