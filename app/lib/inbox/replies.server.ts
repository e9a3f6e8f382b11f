import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm'
import { z } from 'zod'
import { db } from '#db/client'
import { conversations, messages, templates } from '#db/schema/index'
import { recordAudit } from '#app/lib/audit.server'
import {
	sendComponents,
	unsupportedTemplateReason,
	variableSlots,
} from '#app/lib/broadcasts/audience'
import { getKapsoGateway, type KapsoGateway } from '#app/lib/kapso/gateway.server'
import { applyPendingEventsForWamids } from '#app/lib/webhooks/process.server'
import { describeError, ruleKeyFor } from '#app/lib/kapso/errors'
import type { GatewayError } from '#app/lib/kapso/types'
import type { TemplateComponent } from '#app/lib/templates/definition'
import { getConversation, type Viewer } from './conversations.server'
import { renderTemplate } from './render-template'
import { recordOutboundMessage } from './store.server'
import { serviceWindow, WINDOW_CLOSED_REASON } from './window'

type Gateway = Pick<
	KapsoGateway,
	'sendText' | 'sendTemplate' | 'markRead' | 'updateConversationStatus'
>

export type ReplyResult =
	| { ok: true; messageId: string; status: 'sent' }
	| {
			ok: false
			reason: 'not_found' | 'forbidden' | 'window_closed' | 'invalid' | 'ended'
			message: string
	  }
	| { ok: false; reason: 'provider'; message: string; messageId: string }

/** A gateway failure in words a user can act on: a bad key and an unreachable Kapso read differently. */
export function gatewayProblem(error: GatewayError) {
	if (error.httpStatus === 401)
		return 'Kapso did not accept the API key. Check KAPSO_API_KEY and try again.'
	if (error.httpStatus === 403)
		return 'Kapso refused this request for this number. Check the sender setup.'
	if (error.title.startsWith('Kapso unreachable'))
		return 'Kapso could not be reached, so nothing was sent. Try again in a moment.'
	if (error.httpStatus === null && error.code === null) {
		return `Kapso could not be reached or did not answer (${error.title.toLowerCase()}).${error.class === 'ambiguous' ? ' The message may or may not have been sent: check before sending it again.' : ' Try again in a moment.'}`
	}
	if (error.code && error.code > 599) {
		const rule = describeError(error.code)
		const known = ruleKeyFor({ code: error.code }) === `meta:${error.code}`
		return `${error.title} (WhatsApp error ${error.code}).${known ? ` ${rule.explanation}` : ''}`
	}
	if (error.httpStatus === 429 || error.httpStatus === 409)
		return 'Kapso asked to slow down, so nothing was sent. Try again in a moment.'
	if (error.httpStatus && error.httpStatus >= 500)
		return `Kapso or WhatsApp had a temporary error (HTTP ${error.httpStatus}), so nothing was sent. Try again in a moment.`
	return error.title
}

export const TextReplySchema = z.object({
	body: z
		.string()
		.transform((value) => value.replace(/\r\n/g, '\n').trim())
		.pipe(
			z.string().min(1, 'Write a message').max(4096, 'WhatsApp allows at most 4,096 characters'),
		),
})

async function loadForReply(
	conversationId: string,
	viewer: Viewer,
): Promise<
	| { ok: true; found: NonNullable<Awaited<ReturnType<typeof getConversation>>> }
	| { ok: false; reason: 'forbidden' | 'not_found'; message: string }
> {
	if (viewer.role !== 'admin' && viewer.role !== 'marketer') {
		return { ok: false, reason: 'forbidden', message: 'Only marketers and admins can answer.' }
	}
	const found = await getConversation(conversationId)
	if (!found) return { ok: false, reason: 'not_found', message: 'Conversation not found' }
	return { ok: true, found }
}

/**
 * Records the outbound message as `sending` (committed, so the inbox shows it at once), calls
 * Kapso, then records `sent` with the wamid or `failed` with the reason; delivery and read
 * arrive later by webhook.
 */
async function deliver(
	conversationId: string,
	viewer: Viewer,
	message: { type: string; payload: Record<string, unknown> },
	call: () => ReturnType<Gateway['sendText']>,
): Promise<ReplyResult> {
	const { messageId } = await db.transaction(async (tx) => {
		// Answering means the team has read what came before.
		await tx
			.update(conversations)
			.set({ unreadCount: 0 })
			.where(eq(conversations.id, conversationId))
		return recordOutboundMessage(tx, {
			conversationId,
			type: message.type,
			payload: message.payload,
			status: 'sending',
			sentBy: viewer.id,
		})
	})
	if (!messageId) throw new Error('a reply without a wamid is always inserted')
	return complete(conversationId, messageId, viewer, message.type, await call())
}

async function complete(
	conversationId: string,
	messageId: string,
	viewer: Viewer,
	type: string,
	result: Awaited<ReturnType<Gateway['sendText']>>,
): Promise<ReplyResult> {
	if (result.ok) {
		await db.transaction(async (tx) => {
			// A status webhook may already have stored this wamid's progress; only move forward.
			await tx
				.update(messages)
				.set({
					wamid: result.wamid,
					status: sql`case when ${messages.status} = 'sending' then 'sent' else ${messages.status} end`,
					errorCode: null,
					errorTitle: null,
				})
				.where(eq(messages.id, messageId))
			// Kapso's status webhooks can beat this update; the events kept for the wamid apply now.
			await applyPendingEventsForWamids(tx, [result.wamid])
			await recordAudit(tx, {
				actorId: viewer.id,
				action: 'inbox.reply',
				objectType: 'conversation',
				objectId: conversationId,
				details: { type },
			})
		})
		return { ok: true, messageId, status: 'sent' }
	}
	const problem = gatewayProblem(result)
	await db
		.update(messages)
		.set({
			status: result.class === 'ambiguous' ? 'unknown' : 'failed',
			errorCode: result.code,
			errorTitle: problem,
		})
		.where(eq(messages.id, messageId))
	return { ok: false, reason: 'provider', message: problem, messageId }
}

/**
 * Sends a failed reply again, in place (the bubble goes back to "sending"). Only `failed`: an
 * `unknown` reply may have reached the contact, so it is never re-sent blindly.
 */
export async function retryReply(
	input: { conversationId: string; messageId: string },
	viewer: Viewer,
	gateway: Gateway = getKapsoGateway(),
): Promise<ReplyResult> {
	const loaded = await loadForReply(input.conversationId, viewer)
	if (!loaded.ok) return loaded
	const { conversation, contact, sender } = loaded.found
	const [claimed] = await db
		.update(messages)
		.set({ status: 'sending', errorCode: null, errorTitle: null, sentBy: viewer.id })
		.where(
			and(
				eq(messages.id, input.messageId),
				eq(messages.conversationId, conversation.id),
				eq(messages.direction, 'outbound'),
				eq(messages.status, 'failed'),
				isNull(messages.wamid),
			),
		)
		.returning()
	if (!claimed)
		return {
			ok: false,
			reason: 'invalid',
			message: 'Only a reply that failed before WhatsApp took it can be sent again.',
		}
	const payload = claimed.payload
	if (claimed.type === 'text') {
		if (!serviceWindow(conversation.lastInboundAt).open) {
			await db
				.update(messages)
				.set({ status: 'failed', errorTitle: WINDOW_CLOSED_REASON })
				.where(eq(messages.id, claimed.id))
			return { ok: false, reason: 'window_closed', message: WINDOW_CLOSED_REASON }
		}
		const body = String(
			(payload.text as { body?: unknown } | undefined)?.body ?? claimed.body ?? '',
		)
		return complete(
			conversation.id,
			claimed.id,
			viewer,
			'text',
			await gateway.sendText({ phoneNumberId: sender.phoneNumberId, to: contact.phoneE164, body }),
		)
	}
	const wire = payload.template as {
		name: string
		language: { code: string }
		components?: Array<Record<string, unknown>>
	}
	return complete(
		conversation.id,
		claimed.id,
		viewer,
		'template',
		await gateway.sendTemplate({
			phoneNumberId: sender.phoneNumberId,
			to: contact.phoneE164,
			template: { name: wire.name, language: wire.language.code, components: wire.components },
		}),
	)
}

/** A free-form text reply. Refused outside the 24-hour window, with the reason and what to do instead. */
export async function sendTextReply(
	input: { conversationId: string; body: string },
	viewer: Viewer,
	gateway: Gateway = getKapsoGateway(),
): Promise<ReplyResult> {
	const loaded = await loadForReply(input.conversationId, viewer)
	if (!loaded.ok) return loaded
	const { conversation, contact, sender } = loaded.found
	const parsed = TextReplySchema.safeParse({ body: input.body })
	if (!parsed.success)
		return { ok: false, reason: 'invalid', message: parsed.error.issues[0].message }
	if (!serviceWindow(conversation.lastInboundAt).open) {
		return { ok: false, reason: 'window_closed', message: WINDOW_CLOSED_REASON }
	}
	const body = parsed.data.body
	return deliver(conversation.id, viewer, { type: 'text', payload: { text: { body } } }, () =>
		gateway.sendText({ phoneNumberId: sender.phoneNumberId, to: contact.phoneE164, body }),
	)
}

export type ReplyTemplate = {
	id: string
	name: string
	language: string
	category: string
	components: TemplateComponent[]
	slots: Array<{ key: string; label: string }>
}

/** Approved templates of the conversation's business account that the inbox can fill in. */
export async function listReplyTemplates(conversationId: string): Promise<ReplyTemplate[]> {
	const found = await getConversation(conversationId)
	if (!found) return []
	const rows = await db
		.select()
		.from(templates)
		.where(and(eq(templates.wabaId, found.sender.wabaId), eq(templates.metaStatus, 'APPROVED')))
		.orderBy(asc(templates.name), asc(templates.language))
	return rows.flatMap((row) => {
		const components = (row.remoteComponents ?? row.components) as unknown as TemplateComponent[]
		if (unsupportedTemplateReason(components)) return []
		return [
			{
				id: row.id,
				name: row.name,
				language: row.language,
				category: row.category,
				components,
				slots: variableSlots(components).map((slot) => ({
					key: slot.key,
					label:
						slot.component === 'button'
							? `Button ${Number(slot.index) + 1} link`
							: `${slot.component === 'header' ? 'Header' : 'Body'} {{${slot.name}}}`,
				})),
			},
		]
	})
}

export const TemplateReplySchema = z.object({
	templateId: z.uuid('Choose a template'),
	variables: z.record(z.string(), z.string().trim()).default({}),
})

/** Sends an approved template (allowed at any time), with its variables filled in by the user. */
export async function sendTemplateReply(
	input: z.input<typeof TemplateReplySchema> & { conversationId: string },
	viewer: Viewer,
	gateway: Gateway = getKapsoGateway(),
): Promise<ReplyResult & { fieldErrors?: Record<string, string> }> {
	const loaded = await loadForReply(input.conversationId, viewer)
	if (!loaded.ok) return loaded
	const { conversation, contact, sender } = loaded.found
	const parsed = TemplateReplySchema.safeParse(input)
	if (!parsed.success)
		return { ok: false, reason: 'invalid', message: parsed.error.issues[0].message }
	const [template] = await db
		.select()
		.from(templates)
		.where(eq(templates.id, parsed.data.templateId))
	if (!template || template.wabaId !== sender.wabaId)
		return { ok: false, reason: 'invalid', message: 'Choose a template of this number' }
	if (template.metaStatus !== 'APPROVED') {
		return { ok: false, reason: 'invalid', message: 'Only templates WhatsApp approved can be sent' }
	}
	const components = (template.remoteComponents ??
		template.components) as unknown as TemplateComponent[]
	const values = parsed.data.variables
	const fieldErrors: Record<string, string> = {}
	for (const slot of variableSlots(components)) {
		if (!values[slot.key]) fieldErrors[slot.key] = 'Fill in this variable'
	}
	if (Object.keys(fieldErrors).length > 0) {
		return { ok: false, reason: 'invalid', message: 'Fill in every variable', fieldErrors }
	}
	const wire = {
		name: template.name,
		language: template.language,
		components: sendComponents(components, template.parameterFormat === 'NAMED', values),
	}
	const payload = {
		template: { name: wire.name, language: { code: wire.language }, components: wire.components },
		rendered: renderTemplate(
			template.name,
			components as unknown as Array<Record<string, unknown>>,
			values,
		),
	}
	return deliver(conversation.id, viewer, { type: 'template', payload }, () =>
		gateway.sendTemplate({
			phoneNumberId: sender.phoneNumberId,
			to: contact.phoneE164,
			template: wire,
		}),
	)
}

/**
 * Clears the unread count and sends the read receipt for the newest inbound message (WhatsApp
 * marks everything before it read too). The count is cleared even when the receipt fails: the
 * team has read it; the failure is reported.
 */
export async function markConversationRead(
	conversationId: string,
	viewer: Viewer,
	gateway: Gateway = getKapsoGateway(),
): Promise<{ ok: true } | { ok: false; message: string }> {
	const found = await getConversation(conversationId)
	if (!found) return { ok: false, message: 'Conversation not found' }
	const [latest] = await db
		.select({ wamid: messages.wamid })
		.from(messages)
		.where(
			and(
				eq(messages.conversationId, conversationId),
				eq(messages.direction, 'inbound'),
				eq(messages.status, 'received'),
			),
		)
		.orderBy(desc(messages.occurredAt))
		.limit(1)
	await db.transaction(async (tx) => {
		await tx
			.update(conversations)
			.set({ unreadCount: 0 })
			.where(eq(conversations.id, conversationId))
		await tx
			.update(messages)
			.set({ status: 'read' })
			.where(
				and(
					eq(messages.conversationId, conversationId),
					eq(messages.direction, 'inbound'),
					eq(messages.status, 'received'),
				),
			)
	})
	if (!latest?.wamid || viewer.role === 'analyst') return { ok: true }
	const receipt = await gateway.markRead({
		phoneNumberId: found.sender.phoneNumberId,
		wamid: latest.wamid,
	})
	return receipt.ok
		? { ok: true }
		: { ok: false, message: `Read receipt not sent: ${gatewayProblem(receipt)}` }
}

/** Ends the conversation in Kapso first, so both sides agree; nothing changes here if Kapso refuses. */
export async function endConversation(
	conversationId: string,
	viewer: Viewer,
	gateway: Gateway = getKapsoGateway(),
): Promise<{ ok: true } | { ok: false; message: string }> {
	if (viewer.role !== 'admin' && viewer.role !== 'marketer')
		return { ok: false, message: 'Only marketers and admins can end conversations.' }
	const found = await getConversation(conversationId)
	if (!found) return { ok: false, message: 'Conversation not found' }
	const kapsoId = found.conversation.kapsoConversationId
	if (kapsoId) {
		const result = await gateway.updateConversationStatus({
			conversationId: kapsoId,
			status: 'ended',
		})
		if (!result.ok)
			return { ok: false, message: `The conversation was not ended: ${gatewayProblem(result)}` }
	}
	await db.transaction(async (tx) => {
		await tx
			.update(conversations)
			.set({ status: 'ended' })
			.where(eq(conversations.id, conversationId))
		await recordAudit(tx, {
			actorId: viewer.id,
			action: 'inbox.end',
			objectType: 'conversation',
			objectId: conversationId,
		})
	})
	return { ok: true }
}
