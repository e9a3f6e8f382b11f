import { eq, getTableColumns } from 'drizzle-orm'
import { z } from 'zod'
import { db } from '#db/client'
import { conversations, messages, senders } from '#db/schema/index'

/**
 * A stored message with the phone number id of the number it belongs to, which every call to
 * Kapso about one message needs. Null for an id that is not a uuid or names no message.
 */
export async function findMessageWithSender(messageId: string) {
	if (!z.uuid().safeParse(messageId).success) return null
	const [row] = await db
		.select({ ...getTableColumns(messages), phoneNumberId: senders.phoneNumberId })
		.from(messages)
		.innerJoin(conversations, eq(conversations.id, messages.conversationId))
		.innerJoin(senders, eq(senders.id, conversations.senderId))
		.where(eq(messages.id, messageId))
	return row ?? null
}
