import { eq, sql } from 'drizzle-orm'
import { db } from '#db/client'
import { messages, type Role } from '#db/schema/index'
import { recordAudit } from '#app/lib/audit.server'
import { getKapsoPlatform, type KapsoPlatform } from '#app/lib/kapso/platform.server'
import { findMessageWithSender } from './lookup.server'

export class MessageDeleteError extends Error {
	constructor(
		message: string,
		readonly status: 400 | 403 | 404,
	) {
		super(message)
	}
}

/** Outbound messages that reached WhatsApp; a failed or unconfirmed one has nothing to delete. */
const DELETABLE_STATUSES = new Set(['sent', 'delivered', 'read'])

export type DeleteOutcome = { deleted: true } | { deleted: false; reason: string }

/** Whether the inbox offers "Delete" on a message (the server checks again when asked). */
export function canDeleteMessage(
	viewer: { role: Role },
	message: { direction: string; status: string; wamid: string | null },
) {
	return (
		viewer.role !== 'analyst' &&
		message.direction === 'outbound' &&
		message.wamid !== null &&
		DELETABLE_STATUSES.has(message.status)
	)
}

/**
 * Deletes a message the team sent, where Kapso allows it. Only when Kapso confirms is it marked
 * `deleted` (its text leaves `body`, so lists and search stop showing it; the payload keeps what
 * was sent, for the audit trail). A refusal is returned as a reason to show, not thrown.
 */
export async function deleteMessage(
	actor: { id: string; role: Role },
	messageId: string,
	options: { platform?: KapsoPlatform } = {},
): Promise<DeleteOutcome> {
	if (actor.role === 'analyst') throw new MessageDeleteError('Analysts cannot delete messages', 403)
	const row = await findMessageWithSender(messageId)
	if (!row) throw new MessageDeleteError('Message not found', 404)
	const platform = options.platform ?? getKapsoPlatform()
	if (row.status === 'deleted') return { deleted: true }
	if (!canDeleteMessage(actor, row))
		throw new MessageDeleteError(
			'Only messages the team sent and WhatsApp accepted can be deleted',
			400,
		)

	const result = await platform.deleteMessage({
		phoneNumberId: row.phoneNumberId,
		wamid: row.wamid as string,
	})
	if (!result.ok) {
		const reason =
			result.class === 'retryable' || result.class === 'ambiguous'
				? `Kapso could not be reached (${result.title}); try again.`
				: `WhatsApp did not allow deleting this message: ${result.title}`
		return { deleted: false, reason }
	}
	if (!result.deleted) return { deleted: false, reason: 'Kapso did not delete the message.' }
	await db.transaction(async (tx) => {
		await tx
			.update(messages)
			.set({
				status: 'deleted',
				body: null,
				payload: sql`${messages.payload} || ${JSON.stringify({ deleted: { at: new Date().toISOString(), by: actor.id } })}::jsonb`,
			})
			.where(eq(messages.id, row.id))
		await recordAudit(tx, {
			actorId: actor.id,
			action: 'message.delete',
			objectType: 'message',
			objectId: row.id,
			details: { conversationId: row.conversationId, wamid: row.wamid, statusBefore: row.status },
		})
	})
	return { deleted: true }
}
