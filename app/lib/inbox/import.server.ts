import { and, eq, inArray, sql as q } from 'drizzle-orm'
import { z } from 'zod'
import { db } from '#db/client'
import { appSettings, broadcastRecipients, senders, templates } from '#db/schema/index'
import { recordAudit } from '#app/lib/audit.server'
import { enqueueJob } from '#app/lib/jobs/enqueue.server'
import { getKapsoGateway, type KapsoGateway } from '#app/lib/kapso/gateway.server'
import type { ConversationInfo, GatewayError, MessageInfo } from '#app/lib/kapso/types'
import { renderTemplate, valuesFromSendComponents } from './render-template'
import {
	recordInboundMessage,
	recordOutboundMessage,
	upsertContact,
	upsertConversation,
} from './store.server'

export const IMPORT_JOB = 'import_inbox_history'

export const ImportPayloadSchema = z.object({
	senderId: z.uuid().optional(),
	/** Only conversations active in the last N hours; the whole history when absent. */
	sinceHours: z
		.number()
		.int()
		.min(1)
		.max(24 * 365)
		.optional(),
})
export type ImportOptions = z.input<typeof ImportPayloadSchema>

type Gateway = Pick<KapsoGateway, 'listConversations' | 'listConversationMessages'>

export type ImportStats = { conversations: number; inserted: number; skipped: number }
export type ImportResult =
	({ ok: true } & ImportStats) | ({ ok: false; message: string } & ImportStats)

/** Where the outcome of the last run of each kind is kept, so the inbox can say how it went. */
const OUTCOME_KEYS = {
	full: 'inbox_history_import_full',
	recent: 'inbox_history_import_recent',
} as const
type ImportScope = keyof typeof OUTCOME_KEYS

const ImportOutcomeSchema = z.object({
	ok: z.boolean(),
	/** Why it stopped, in words for the team; null when it finished. */
	message: z.string().nullable(),
	startedAt: z.iso.datetime(),
	finishedAt: z.iso.datetime(),
	conversations: z.number().int(),
	inserted: z.number().int(),
	skipped: z.number().int(),
})
export type ImportOutcome = z.infer<typeof ImportOutcomeSchema>

const MAX_CONVERSATION_PAGES = 200
const MAX_MESSAGE_PAGES = 50

const OUTBOUND_STATUS: Record<string, string> = {
	pending: 'sent',
	sent: 'sent',
	delivered: 'delivered',
	read: 'read',
	failed: 'failed',
}

function obj(value: unknown): Record<string, unknown> {
	return value && typeof value === 'object' && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: {}
}

/** The Meta message object without Kapso's bookkeeping block, as a webhook would carry it. */
function payloadOf(message: MessageInfo) {
	const { kapso: _kapso, ...payload } = message.raw
	return payload
}

function failureOf(message: MessageInfo) {
	const statuses = obj(message.raw.kapso).statuses
	const last = Array.isArray(statuses) ? obj(statuses[statuses.length - 1]) : {}
	const error = Array.isArray(last.errors) ? obj(last.errors[0]) : {}
	return {
		errorCode: typeof error.code === 'number' ? error.code : null,
		errorTitle: typeof error.title === 'string' ? error.title : null,
	}
}

/** A template found in history, rendered as sent: with the ledger's variables when it was a broadcast. */
async function renderedTemplate(wabaId: string, wamid: string, payload: Record<string, unknown>) {
	const wire = obj(payload.template)
	const name = typeof wire.name === 'string' ? wire.name : null
	if (!name) return null
	const language =
		typeof obj(wire.language).code === 'string' ? (obj(wire.language).code as string) : null
	const [template] = await db
		.select({ components: templates.components, remoteComponents: templates.remoteComponents })
		.from(templates)
		.where(
			and(
				eq(templates.wabaId, wabaId),
				eq(templates.name, name),
				...(language ? [eq(templates.language, language)] : []),
			),
		)
		.limit(1)
	if (!template) return null
	const [ledger] = await db
		.select({ variables: broadcastRecipients.variables })
		.from(broadcastRecipients)
		.where(eq(broadcastRecipients.wamid, wamid))
	const values = ledger?.variables ?? valuesFromSendComponents(wire.components)
	return renderTemplate(name, template.remoteComponents ?? template.components, values)
}

/**
 * Why an import stopped. Unlike a failed reply, nothing was being sent, so the reply wording
 * ("nothing was sent, try again") would mislead; what helps is which setting to check.
 */
export function importProblem(error: GatewayError) {
	if (error.httpStatus === 401 || error.code === 190)
		return 'Kapso rejected the API key (it may have expired or been revoked). Check KAPSO_API_KEY.'
	if (error.httpStatus === 403)
		return "Kapso refused to list this number's conversations. Check that the sender belongs to the Kapso project of the API key."
	if (error.httpStatus === null && error.class === 'retryable') {
		const how = error.title.startsWith('Kapso unreachable') ? '' : ` (${error.title.toLowerCase()})`
		return `Kapso could not be reached${how}. Check the network and KAPSO_BASE_URL.`
	}
	if (error.httpStatus === 429) return 'Kapso asked to slow down. The import is retried later.'
	if (error.httpStatus !== null && error.httpStatus >= 500)
		return `Kapso had a temporary error (HTTP ${error.httpStatus}). The import is retried later.`
	return `Kapso refused the request: ${error.title}${error.httpStatus ? ` (HTTP ${error.httpStatus})` : ''}.`
}

async function importConversation(
	sender: typeof senders.$inferSelect,
	info: ConversationInfo,
	gateway: Gateway,
	stats: ImportStats,
): Promise<string | null> {
	if (!info.phoneNumber) return null
	const phone = info.phoneNumber
	const conversationId = await db.transaction(async (tx) => {
		const contactId = await upsertContact(tx, { phone, name: info.contactName })
		return upsertConversation(tx, {
			senderId: sender.id,
			contactId,
			kapsoConversationId: info.id,
			status: info.status === 'ended' ? 'ended' : 'active',
			activeAt: info.lastActiveAt,
		})
	})
	stats.conversations++
	// Kapso lists newest first; storing oldest first keeps same-second messages in their order.
	const found: MessageInfo[] = []
	let after: string | null = null
	for (let page = 0; page < MAX_MESSAGE_PAGES; page++) {
		const result = await gateway.listConversationMessages({
			phoneNumberId: sender.phoneNumberId,
			conversationId: info.id,
			limit: 100,
			after,
		})
		if (!result.ok) return importProblem(result)
		found.push(...result.items)
		after = result.nextCursor
		if (!after) break
	}
	for (const message of found.reverse()) {
		const payload = payloadOf(message)
		const occurredAt = message.timestamp ?? new Date()
		const type = message.type ?? 'unsupported'
		if (message.direction === 'outbound' && type === 'template') {
			const rendered = await renderedTemplate(sender.wabaId, message.wamid, payload)
			if (rendered) payload.rendered = rendered
		}
		const recorded = await db.transaction((tx) =>
			message.direction === 'inbound'
				? recordInboundMessage(tx, {
						phoneNumberId: sender.phoneNumberId,
						from: phone,
						profileName: info.contactName,
						kapsoConversationId: info.id,
						wamid: message.wamid,
						type,
						payload,
						occurredAt,
						countsAsUnread: false,
						read: message.status === 'read',
					})
				: recordOutboundMessage(tx, {
						conversationId,
						wamid: message.wamid,
						type,
						payload,
						status: OUTBOUND_STATUS[message.status ?? ''] ?? 'sent',
						occurredAt,
						...(message.status === 'failed' ? failureOf(message) : {}),
					}),
		)
		if (recorded.inserted) stats.inserted++
		else stats.skipped++
	}
	return null
}

async function copyHistory(
	{ senderId, sinceHours }: z.output<typeof ImportPayloadSchema>,
	gateway: Gateway,
	stats: ImportStats,
): Promise<ImportResult> {
	const list = senderId
		? await db.select().from(senders).where(eq(senders.id, senderId))
		: await db.select().from(senders)
	const since = sinceHours ? new Date(Date.now() - sinceHours * 3600_000) : undefined
	for (const sender of list) {
		let after: string | null = null
		for (let page = 0; page < MAX_CONVERSATION_PAGES; page++) {
			const result = await gateway.listConversations({
				phoneNumberId: sender.phoneNumberId,
				lastActiveSince: since,
				limit: 50,
				after,
			})
			if (!result.ok) return { ok: false, message: importProblem(result), ...stats }
			for (const info of result.items) {
				const problem = await importConversation(sender, info, gateway, stats)
				if (problem) return { ok: false, message: problem, ...stats }
			}
			after = result.nextCursor
			if (!after) break
		}
	}
	return { ok: true, ...stats }
}

async function recordOutcome(scope: ImportScope, startedAt: Date, result: ImportResult) {
	const value: ImportOutcome = {
		ok: result.ok,
		message: result.ok ? null : result.message,
		startedAt: startedAt.toISOString(),
		finishedAt: new Date().toISOString(),
		conversations: result.conversations,
		inserted: result.inserted,
		skipped: result.skipped,
	}
	await db
		.insert(appSettings)
		.values({ key: OUTCOME_KEYS[scope], value })
		.onConflictDoUpdate({ target: appSettings.key, set: { value, updatedAt: q`now()` } })
}

/**
 * Copies conversations and messages from Kapso into the inbox. Safe to run any number of times
 * and concurrently with webhooks: messages are keyed by wamid and conversations by Kapso's id, so
 * nothing is stored twice. Imported messages do not count as unread. How it ended is recorded
 * (a full import and the scheduled recent one apart), because it runs in the worker where
 * nobody would otherwise see that Kapso refused the key or could not be reached.
 */
export async function importInboxHistory(
	options: ImportOptions = {},
	gateway: Gateway = getKapsoGateway(),
): Promise<ImportResult> {
	const parsed = ImportPayloadSchema.parse(options)
	const scope: ImportScope = parsed.sinceHours ? 'recent' : 'full'
	const startedAt = new Date()
	const stats: ImportStats = { conversations: 0, inserted: 0, skipped: 0 }
	let result: ImportResult
	try {
		result = await copyHistory(parsed, gateway, stats)
	} catch (error) {
		const message = 'The import stopped on an internal error; the worker log has the details.'
		// The original error is the one worth throwing, even if recording this fails too.
		await recordOutcome(scope, startedAt, { ok: false, message, ...stats }).catch(() => undefined)
		throw error
	}
	await recordOutcome(scope, startedAt, result)
	return result
}

/** How the last full import and the last scheduled recent import ended; null for one never run. */
export async function getLastHistoryImports(): Promise<Record<ImportScope, ImportOutcome | null>> {
	const rows = await db
		.select({ key: appSettings.key, value: appSettings.value })
		.from(appSettings)
		.where(inArray(appSettings.key, Object.values(OUTCOME_KEYS)))
	const outcome = (scope: ImportScope) => {
		const parsed = ImportOutcomeSchema.safeParse(
			rows.find((row) => row.key === OUTCOME_KEYS[scope])?.value,
		)
		return parsed.success ? parsed.data : null
	}
	return { full: outcome('full'), recent: outcome('recent') }
}

/** Queues a full history import (one at a time: a second request while one waits is the same job). */
export async function requestHistoryImport(actorId: string) {
	await db.transaction(async (tx) => {
		await enqueueJob(
			tx,
			IMPORT_JOB,
			{},
			{ jobKey: IMPORT_JOB, jobKeyMode: 'replace', maxAttempts: 3 },
		)
		await recordAudit(tx, { actorId, action: 'inbox.import_history', objectType: 'inbox' })
	})
}
