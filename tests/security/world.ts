import fs from 'node:fs'
import path from 'node:path'
import { db } from '#db/client'
import { contacts, conversations, messages } from '#db/schema/index'
import { createImport } from '#app/lib/imports/imports.server'
import {
	seedBroadcast,
	seedContacts,
	seedSender,
	seedTemplate,
} from '#app/lib/sending/testing.server'

/** Phone numbers and message text the security tests look for where they must not appear. */
export const WORLD_PHONE = '+51987000001'
export const WORLD_MESSAGE = 'Mi código secreto es 4711, llámame'

/**
 * One of everything a route can show: a sender, a template, contacts, a broadcast, a waiting
 * import, a conversation with an inbound message. Returns the route parameters that name them.
 */
export async function seedWorld(): Promise<Record<string, string>> {
	const sender = await seedSender(10)
	const template = await seedTemplate()
	await seedContacts(3, 'security', { prefix: '+5197' })
	const [contact] = await db
		.insert(contacts)
		.values({ phoneE164: WORLD_PHONE, name: 'Rosa Security', tags: ['security'] })
		.returning()
	const broadcast = await seedBroadcast({
		senderId: sender.id,
		templateId: template.id,
		tag: 'security',
	})
	const fixture = path.resolve(__dirname, '../fixtures/csv/utf8-semicolon-lf.csv')
	const copy = path.join(process.env.PREGON_DATA_DIR ?? '.', 'world.csv')
	fs.copyFileSync(fixture, copy)
	const upload = await createImport({ fileName: 'world.csv', existingPath: copy, enqueue: false })
	const [conversation] = await db
		.insert(conversations)
		.values({
			senderId: sender.id,
			contactId: contact.id,
			lastMessageAt: new Date(),
			lastInboundAt: new Date(),
		})
		.returning()
	const [message] = await db
		.insert(messages)
		.values({
			conversationId: conversation.id,
			direction: 'inbound',
			wamid: 'wamid.SECURITY1',
			type: 'text',
			body: WORLD_MESSAGE,
			status: 'received',
		})
		.returning()
	return {
		broadcastId: broadcast.id,
		templateId: template.id,
		contactId: String(contact.id),
		importId: upload.id,
		conversationId: conversation.id,
		messageId: message.id,
	}
}
