import { AsyncLocalStorage } from 'node:async_hooks'
import { GraphApiError, WhatsAppClient } from '@kapso/whatsapp-cloud-api'
import { z } from 'zod'
import { getEnv } from '#app/lib/env.server'
import { classifyError, type TransportFailure } from './errors'
import { createHttpFetch, RequestAborted, RequestTimedOut } from './http-fetch.server'
import {
	type ConversationInfo,
	type GatewayError,
	type GatewayResult,
	type MessageInfo,
	type Page,
	type SendSuccess,
	type TemplateCreate,
	type TemplateCreated,
	type TemplateEdit,
	type TemplateInfo,
	type TemplateSend,
	type TextSend,
} from './types'

export type KapsoGatewayConfig = {
	/** Kapso's host, e.g. `https://api.kapso.ai` or the sandbox's `http://127.0.0.1:4300`. */
	baseUrl: string
	apiKey: string
	timeoutMs: number
	graphVersion?: string
}

/** The Graph version Kapso's own docs use; the proxy (and the sandbox) accept any. */
export const DEFAULT_GRAPH_VERSION = 'v24.0'

const TEMPLATE_FIELDS =
	'id,name,language,status,category,parameter_format,components,quality_score,rejected_reason'

/** A failure of the network call itself, tagged with what we know about whether it was sent. */
class TransportError extends Error {
	constructor(
		readonly kind: TransportFailure,
		cause: unknown,
	) {
		super(`Kapso request failed: ${kind}`, { cause })
	}
}

/** A 2xx answer whose body is not what Kapso documents. */
class UnexpectedResponse extends Error {}

// Errors that prove no byte of the request reached the server.
const NOT_SENT_CODES = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'UND_ERR_CONNECT_TIMEOUT',
])

function causeCode(error: unknown): string | null {
	let current: unknown = error
	for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
		const code = (current as { code?: unknown }).code
		if (typeof code === 'string') return code
		const errors = (current as { errors?: unknown[] }).errors
		if (Array.isArray(errors) && errors.length > 0) current = errors[0]
		else current = (current as { cause?: unknown }).cause
	}
	return null
}

/**
 * The SDK's request() takes no signal, so the caller's signal travels to our fetch this way; the
 * fetch also notes that the call reached the network, which tells a local failure from a lost one.
 */
type CallContext = { signal: AbortSignal | undefined; fetched: boolean }
const callContext = new AsyncLocalStorage<CallContext>()

function createTimedFetch(timeoutMs: number): typeof fetch {
	const send = createHttpFetch()
	return async (input, init) => {
		const context = callContext.getStore()
		if (context) context.fetched = true
		const caller = context?.signal
		try {
			return await send(input, init, { timeoutMs, signal: caller })
		} catch (error) {
			if (error instanceof RequestAborted) throw new TransportError('aborted', error)
			if (error instanceof RequestTimedOut) throw new TransportError('timeout', error)
			const code = causeCode(error)
			throw new TransportError(
				code && NOT_SENT_CODES.has(code) ? 'connection_refused' : 'connection_lost',
				error,
			)
		}
	}
}

type Operation = 'write' | 'read'

function metaCodeOf(error: GraphApiError): number | null {
	const raw = error.raw as { error?: unknown } | null
	if (raw && typeof raw === 'object' && raw.error && typeof raw.error === 'object') {
		const code = (raw.error as { code?: unknown }).code
		return typeof code === 'number' ? code : null
	}
	return null
}

function kapsoCodeOf(error: GraphApiError): string | null {
	const raw = error.raw as { code?: unknown } | null
	return raw && typeof raw === 'object' && typeof raw.code === 'string' ? raw.code : null
}

/**
 * Every failure becomes a classified result. On reads nothing can be duplicated, so what would
 * be ambiguous on a send is simply retryable.
 */
function toGatewayError(error: unknown, operation: Operation, fetched: boolean): GatewayError {
	let result: GatewayError
	if (!fetched && !(error instanceof TransportError)) {
		// Thrown before any request was made (SDK input checks): nothing was sent.
		result = classifyError({
			kapsoCode: 'invalid_request',
			message: error instanceof Error ? error.message : String(error),
		})
	} else if (error instanceof GraphApiError) {
		result = classifyError({
			code: metaCodeOf(error),
			httpStatus: error.httpStatus,
			kapsoCode: kapsoCodeOf(error),
			message: error.message,
			retryAfterMs: error.retry?.retryAfterMs ?? null,
		})
	} else if (error instanceof TransportError) {
		result = classifyError({ transport: error.kind })
	} else {
		// A body cut off mid-read or a malformed 2xx: the request did reach Kapso.
		result = classifyError({ transport: 'connection_lost' })
		result.title = `${result.title}: ${error instanceof Error ? error.message : String(error)}`
	}
	if (operation === 'read' && result.class === 'ambiguous') {
		return { ...result, class: 'retryable', retryAfterMs: 2000 }
	}
	return result
}

const sendResponseSchema = z.object({
	contacts: z
		.array(z.object({ input: z.string().optional(), waId: z.string().optional() }))
		.optional(),
	messages: z
		.array(z.object({ id: z.string().min(1), messageStatus: z.string().optional() }))
		.min(1),
})

const rawTemplateSchema = z
	.object({
		id: z.union([z.string(), z.number()]).transform(String),
		name: z.string(),
		language: z.string(),
		status: z.string(),
		category: z.string().nullish(),
		parameter_format: z.string().nullish(),
		components: z.array(z.record(z.string(), z.unknown())).nullish(),
		quality_score: z.object({ score: z.string().nullish() }).loose().nullish(),
		rejected_reason: z.string().nullish(),
	})
	.loose()

function toTemplateInfo(raw: z.infer<typeof rawTemplateSchema>): TemplateInfo {
	return {
		id: raw.id,
		name: raw.name,
		language: raw.language,
		status: raw.status,
		category: raw.category ?? null,
		parameterFormat: raw.parameter_format ?? null,
		components: raw.components ?? [],
		qualityScore: raw.quality_score?.score ?? null,
		rejectedReason: raw.rejected_reason ?? null,
	}
}

const pagingSchema = z
	.object({
		cursors: z
			.object({ after: z.string().nullish(), before: z.string().nullish() })
			.loose()
			.nullish(),
		next: z.string().nullish(),
	})
	.loose()
	.nullish()

function nextCursorOf(paging: z.infer<typeof pagingSchema>) {
	// Graph omits `next` on the last page even when it still returns an `after` cursor.
	return paging?.next && paging.cursors?.after ? paging.cursors.after : null
}

const templatePageSchema = z.object({ data: z.array(rawTemplateSchema), paging: pagingSchema })

const rawMessageSchema = z.record(z.string(), z.unknown())

function str(value: unknown): string | null {
	return typeof value === 'string' && value !== '' ? value : null
}

function record(value: unknown): Record<string, unknown> {
	return value && typeof value === 'object' && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: {}
}

function unixOrIsoDate(value: unknown): Date | null {
	if (typeof value === 'number') return new Date(value * 1000)
	if (typeof value !== 'string' || value === '') return null
	const date = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value)
	return Number.isNaN(date.getTime()) ? null : date
}

/** Reads both Kapso's Meta-style message (`kapso` block) and the flat Platform/legacy shape. */
function toMessageInfo(raw: Record<string, unknown>): MessageInfo | null {
	const kapso = record(raw.kapso)
	const wamid = str(raw.whatsapp_message_id) ?? str(raw.id)
	if (!wamid) return null
	const direction = str(kapso.direction) ?? str(raw.direction)
	const type = str(raw.type) ?? str(raw.message_type)
	const template = record(raw.template)
	const text = record(raw.text)
	return {
		wamid,
		direction: direction === 'inbound' || direction === 'outbound' ? direction : null,
		status: str(kapso.status) ?? str(raw.status),
		type,
		phoneNumber:
			str(kapso.phone_number) ??
			str(raw.phone_number) ??
			(direction === 'inbound' ? str(raw.from) : str(raw.to)),
		conversationId:
			str(kapso.whatsapp_conversation_id) ??
			str(raw.whatsapp_conversation_id) ??
			str(raw.conversation_id),
		templateName: str(template.name),
		timestamp: unixOrIsoDate(raw.timestamp) ?? unixOrIsoDate(raw.created_at),
		text: str(text.body) ?? str(kapso.content) ?? str(raw.content),
		raw,
	}
}

const messagePageSchema = z.object({ data: z.array(rawMessageSchema), paging: pagingSchema })

function toConversationInfo(raw: Record<string, unknown>): ConversationInfo | null {
	const id = str(raw.id)
	if (!id) return null
	const kapso = record(raw.kapso)
	return {
		id,
		phoneNumber: str(raw.phone_number),
		phoneNumberId: str(raw.phone_number_id),
		status: str(raw.status),
		lastActiveAt: unixOrIsoDate(raw.last_active_at),
		contactName: str(kapso.contact_name) ?? str(raw.contact_name),
		raw,
	}
}

function compact(query: Record<string, string | number | undefined | null>) {
	const result: Record<string, string> = {}
	for (const [key, value] of Object.entries(query)) {
		if (value !== undefined && value !== null && value !== '') result[key] = String(value)
	}
	return result
}

const MAX_LOOKUP_PAGES = 20

/**
 * The app's one way to Kapso (or the sandbox: only `baseUrl` and `apiKey` differ). Every method
 * resolves to a classified result and never throws for a provider or network failure.
 */
export function createKapsoGateway(config: KapsoGatewayConfig) {
	const host = config.baseUrl.replace(/\/+$/, '')
	const client = new WhatsAppClient({
		baseUrl: `${host}/meta/whatsapp`,
		kapsoApiKey: config.apiKey,
		graphVersion: config.graphVersion ?? DEFAULT_GRAPH_VERSION,
		fetch: createTimedFetch(config.timeoutMs),
	})

	async function run<T extends object>(
		operation: Operation,
		signal: AbortSignal | undefined,
		task: () => Promise<T>,
	): Promise<GatewayResult<T>> {
		// Nothing has been sent yet, so a cancelled call is safe to try again.
		if (signal?.aborted) return { ...classifyError({ transport: 'aborted' }), class: 'retryable' }
		const context: CallContext = { signal, fetched: false }
		try {
			const value = await callContext.run(context, task)
			return { ok: true, ...value }
		} catch (error) {
			return toGatewayError(error, operation, context.fetched)
		}
	}

	/** A Graph-path call whose JSON we want exactly as sent (snake_case), zod-checked. */
	async function graphJson<S extends z.ZodType>(
		method: 'GET' | 'POST' | 'DELETE',
		path: string,
		schema: S,
		options: { query?: Record<string, string>; body?: Record<string, unknown> } = {},
	): Promise<z.infer<S>> {
		const response = (await client.request(method, path, options)) as Response
		return parseBody(response, schema)
	}

	async function platformJson<S extends z.ZodType>(
		path: string,
		query: Record<string, string>,
		schema: S,
	): Promise<z.infer<S>> {
		const url = new URL(`${host}/platform/v1/${path}`)
		for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value)
		const response = await client.fetch(url, { method: 'GET' })
		return parseBody(response, schema)
	}

	async function parseBody<S extends z.ZodType>(response: Response, schema: S) {
		const text = await response.text()
		let body: unknown
		try {
			body = text ? JSON.parse(text) : null
		} catch {
			body = undefined
		}
		if (!response.ok) throw GraphApiError.fromResponse(response, body, text)
		const parsed = schema.safeParse(body)
		if (!parsed.success) throw new UnexpectedResponse(`unexpected response from ${response.url}`)
		return parsed.data as z.infer<S>
	}

	function toSendSuccess(response: unknown): SendSuccess {
		const parsed = sendResponseSchema.safeParse(response)
		// Accepted with a body we cannot read: the message may exist, so this must not look like a failure to retry.
		if (!parsed.success) throw new UnexpectedResponse('send answered without a message id')
		return {
			wamid: parsed.data.messages[0].id,
			waId: parsed.data.contacts?.[0]?.waId ?? null,
			messageStatus: parsed.data.messages[0].messageStatus ?? null,
		}
	}

	async function listMessagesPage(
		phoneNumberId: string,
		query: Record<string, string>,
	): Promise<Page<MessageInfo>> {
		const page = await graphJson('GET', `${phoneNumberId}/messages`, messagePageSchema, { query })
		return {
			items: page.data.map(toMessageInfo).filter((m): m is MessageInfo => m !== null),
			nextCursor: nextCursorOf(page.paging),
		}
	}

	/** One stored message by wamid; `message: null` when Kapso has none. */
	function getMessage(input: {
		phoneNumberId: string
		wamid: string
		signal?: AbortSignal
	}): Promise<GatewayResult<{ message: MessageInfo | null }>> {
		return run('read', input.signal, async () => {
			try {
				const raw = await graphJson(
					'GET',
					`${input.phoneNumberId}/messages/${encodeURIComponent(input.wamid)}`,
					rawMessageSchema,
					{ query: { fields: 'kapso(default)' } },
				)
				const body =
					'data' in raw && raw.data && typeof raw.data === 'object' ? record(raw.data) : raw
				return { message: toMessageInfo(body) }
			} catch (error) {
				if (error instanceof GraphApiError && error.httpStatus === 404) return { message: null }
				throw error
			}
		})
	}

	return {
		config: { baseUrl: host, graphVersion: config.graphVersion ?? DEFAULT_GRAPH_VERSION },

		/** Sends one template message. `bizOpaqueCallbackData` is echoed in status webhooks. */
		sendTemplate(input: TemplateSend): Promise<GatewayResult<SendSuccess>> {
			if (!input.to.trim())
				return Promise.resolve(classifyError({ kapsoCode: 'invalid_recipient' }))
			if ((input.bizOpaqueCallbackData?.length ?? 0) > 512)
				return Promise.resolve(
					classifyError({
						kapsoCode: 'invalid_request',
						message: 'biz_opaque_callback_data is longer than 512 characters',
					}),
				)
			// The hot path of every broadcast: the body is encoded once, already in the Graph API's
			// snake_case, and posted through the SDK's request(); its message builder would validate
			// it with zod and re-case every key (≈ half the worker's CPU per send).
			const body = JSON.stringify({
				messaging_product: 'whatsapp',
				recipient_type: 'individual',
				to: input.to,
				type: 'template',
				template: {
					name: input.template.name,
					language: { code: input.template.language },
					components: input.template.components,
				},
				...(input.bizOpaqueCallbackData
					? { biz_opaque_callback_data: input.bizOpaqueCallbackData }
					: {}),
			})
			return run('write', input.signal, async () =>
				toSendSuccess(
					await client.request('POST', `${input.phoneNumberId}/messages`, {
						body,
						headers: { 'Content-Type': 'application/json' },
						responseType: 'json',
					}),
				),
			)
		},

		/** A free-form text (inbox replies, inside the 24-hour window). */
		sendText(input: TextSend): Promise<GatewayResult<SendSuccess>> {
			if (!input.to.trim())
				return Promise.resolve(classifyError({ kapsoCode: 'invalid_recipient' }))
			return run('write', input.signal, async () =>
				toSendSuccess(
					await client.messages.sendText({
						phoneNumberId: input.phoneNumberId,
						to: input.to,
						body: input.body,
						contextMessageId: input.contextWamid,
					}),
				),
			)
		},

		markRead(input: { phoneNumberId: string; wamid: string; signal?: AbortSignal }) {
			return run('read', input.signal, async () => {
				await client.messages.markRead({
					phoneNumberId: input.phoneNumberId,
					messageId: input.wamid,
				})
				return {}
			})
		},

		createTemplate(input: TemplateCreate): Promise<GatewayResult<TemplateCreated>> {
			return run('write', input.signal, async () => {
				const schema = z.object({
					id: z.union([z.string(), z.number()]).transform(String),
					status: z.string(),
					category: z.string().nullish(),
				})
				if (input.messageSendTtlSeconds !== undefined) {
					// The SDK strips message_send_ttl_seconds, so this one goes out raw.
					const created = await graphJson('POST', `${input.wabaId}/message_templates`, schema, {
						body: {
							name: input.name,
							language: input.language,
							category: input.category,
							parameter_format: input.parameterFormat,
							allow_category_change: input.allowCategoryChange,
							message_send_ttl_seconds: input.messageSendTtlSeconds,
							components: input.components,
						},
					})
					return { ...created, category: created.category ?? null }
				}
				const created = schema.parse(
					await client.templates.create({
						businessAccountId: input.wabaId,
						name: input.name,
						language: input.language,
						category: input.category,
						parameterFormat: input.parameterFormat,
						allowCategoryChange: input.allowCategoryChange,
						components: input.components as [{ type: string }],
					}),
				)
				return { ...created, category: created.category ?? null }
			})
		},

		/**
		 * Submits new components (or a new category) for a template already on WhatsApp: Meta's
		 * `POST /{template_id}` through the proxy. WhatsApp reviews it again (PENDING). Only APPROVED,
		 * REJECTED and PAUSED templates can be edited, an approved one once a day and 10 times in 30
		 * days; WhatsApp refuses the rest. `wabaId` is not part of Meta's path, but Kapso's own
		 * (unconfirmed) edit form needs it, so callers always give it.
		 */
		editTemplate(input: TemplateEdit): Promise<GatewayResult<{ success: true }>> {
			return run('write', input.signal, async () => {
				const result = await graphJson(
					'POST',
					encodeURIComponent(input.templateId),
					z.object({ success: z.literal(true) }).loose(),
					{ body: { components: input.components, category: input.category } },
				)
				return { success: result.success }
			})
		},

		/** One page of a WABA's templates, with quality and rejection reason. */
		listTemplates(input: {
			wabaId: string
			limit?: number
			after?: string | null
			status?: string
			name?: string
			language?: string
			category?: string
			signal?: AbortSignal
		}): Promise<GatewayResult<Page<TemplateInfo>>> {
			return run('read', input.signal, async () => {
				const page = await graphJson(
					'GET',
					`${input.wabaId}/message_templates`,
					templatePageSchema,
					{
						query: compact({
							fields: TEMPLATE_FIELDS,
							limit: input.limit ?? 100,
							after: input.after,
							status: input.status,
							name: input.name,
							language: input.language,
							category: input.category,
						}),
					},
				)
				return { items: page.data.map(toTemplateInfo), nextCursor: nextCursorOf(page.paging) }
			})
		},

		getTemplate(input: {
			wabaId: string
			templateId: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ template: TemplateInfo | null }>> {
			return run('read', input.signal, async () => {
				try {
					const raw = await graphJson(
						'GET',
						`${input.wabaId}/message_templates/${input.templateId}`,
						rawTemplateSchema,
						{ query: { fields: TEMPLATE_FIELDS } },
					)
					return { template: toTemplateInfo(raw) }
				} catch (error) {
					if (error instanceof GraphApiError && error.httpStatus === 404) return { template: null }
					throw error
				}
			})
		},

		/**
		 * Deletes one language of a template when `templateId` is given (`hsm_id`, which the SDK
		 * strips), else every language with that name, as Meta does.
		 */
		deleteTemplate(input: {
			wabaId: string
			name: string
			templateId?: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ deleted: boolean }>> {
			return run('write', input.signal, async () => {
				const result = await graphJson(
					'DELETE',
					`${input.wabaId}/message_templates`,
					z.object({ success: z.boolean() }).loose(),
					{ query: compact({ name: input.name, hsm_id: input.templateId }) },
				)
				return { deleted: result.success }
			})
		},

		/** One stored message by wamid; `message: null` when Kapso has none. */
		getMessage,

		/**
		 * Finds what Kapso holds for an ambiguous send: by wamid, or every outbound message to a
		 * recipient (E.164) in a time range. The reconciler decides from this whether it was sent.
		 */
		lookupMessages(input: {
			phoneNumberId: string
			wamid?: string
			recipient?: string
			since?: Date
			until?: Date
			signal?: AbortSignal
		}): Promise<GatewayResult<{ messages: MessageInfo[] }>> {
			if (input.wamid) {
				const wamid = input.wamid
				return getMessage({ ...input, wamid }).then((found) =>
					found.ok ? { ok: true as const, messages: found.message ? [found.message] : [] } : found,
				)
			}
			const recipient = input.recipient
			if (!recipient) {
				return Promise.resolve(
					classifyError({
						kapsoCode: 'invalid_request',
						message: 'a wamid or a recipient is required',
					}),
				)
			}
			return run('read', input.signal, async () => {
				const digits = recipient.replace(/\D/g, '')
				const messages: MessageInfo[] = []
				let after: string | null = null
				for (let page = 0; page < MAX_LOOKUP_PAGES; page++) {
					const result = await platformJson(
						'whatsapp/messages',
						compact({
							phone_number_id: input.phoneNumberId,
							phone_number: `+${digits}`,
							direction: 'outbound',
							since: input.since?.toISOString(),
							until: input.until?.toISOString(),
							limit: 100,
							after,
						}),
						messagePageSchema,
					)
					for (const raw of result.data) {
						const message = toMessageInfo(raw)
						if (!message || message.direction === 'inbound') continue
						// Filters are re-applied here in case a Kapso version ignores one of them.
						if (message.phoneNumber && message.phoneNumber.replace(/\D/g, '') !== digits) continue
						if (input.since && message.timestamp && message.timestamp < input.since) continue
						if (input.until && message.timestamp && message.timestamp > input.until) continue
						messages.push(message)
					}
					after = nextCursorOf(result.paging)
					// History comes newest first: once a whole page is older than `since`, stop.
					const since = input.since
					const older = (raw: Record<string, unknown>) => {
						const time = toMessageInfo(raw)?.timestamp
						return since !== undefined && time != null && time < since
					}
					if (!after || (result.data.length > 0 && result.data.every(older))) break
				}
				return { messages }
			})
		},

		listConversations(input: {
			phoneNumberId: string
			status?: 'active' | 'ended'
			phoneNumber?: string
			lastActiveSince?: Date
			limit?: number
			after?: string | null
			signal?: AbortSignal
		}): Promise<GatewayResult<Page<ConversationInfo>>> {
			return run('read', input.signal, async () => {
				const page = await graphJson(
					'GET',
					`${input.phoneNumberId}/conversations`,
					messagePageSchema,
					{
						query: compact({
							status: input.status,
							phone_number: input.phoneNumber,
							last_active_since: input.lastActiveSince?.toISOString(),
							limit: input.limit ?? 50,
							after: input.after,
						}),
					},
				)
				return {
					items: page.data.map(toConversationInfo).filter((c): c is ConversationInfo => c !== null),
					nextCursor: nextCursorOf(page.paging),
				}
			})
		},

		listConversationMessages(input: {
			phoneNumberId: string
			conversationId: string
			limit?: number
			after?: string | null
			signal?: AbortSignal
		}): Promise<GatewayResult<Page<MessageInfo>>> {
			return run('read', input.signal, () =>
				listMessagesPage(
					input.phoneNumberId,
					compact({
						conversation_id: input.conversationId,
						limit: input.limit ?? 50,
						after: input.after,
						fields: 'kapso(default)',
					}),
				),
			)
		},

		updateConversationStatus(input: {
			conversationId: string
			status: 'active' | 'ended'
			signal?: AbortSignal
		}): Promise<GatewayResult<{ updated: true }>> {
			return run('write', input.signal, async () => {
				await client.conversations.updateStatus({
					conversationId: input.conversationId,
					status: input.status,
				})
				return { updated: true as const }
			})
		},
	}
}

export type KapsoGateway = ReturnType<typeof createKapsoGateway>

let memo: KapsoGateway | undefined

/**
 * The configured gateway: real Kapso when `KAPSO_API_KEY` is set, else the built-in sandbox on
 * `SANDBOX_PORT`. The code path is the same; only the base URL and key differ.
 */
export function getKapsoGateway(): KapsoGateway {
	memo ??= createKapsoGateway(kapsoConnection())
	return memo
}

/** Where Kapso calls go, from the environment: every Kapso client uses this one choice. */
export function kapsoConnection() {
	const env = getEnv()
	return env.KAPSO_API_KEY
		? { baseUrl: env.KAPSO_BASE_URL, apiKey: env.KAPSO_API_KEY, timeoutMs: env.KAPSO_TIMEOUT_MS }
		: {
				baseUrl: `http://127.0.0.1:${env.SANDBOX_PORT}`,
				apiKey: 'sandbox',
				timeoutMs: env.KAPSO_TIMEOUT_MS,
			}
}

/**
 * Points `getKapsoGateway()` somewhere else (a sandbox on a random port in tests, or the
 * launcher's sandbox); `null` goes back to the environment.
 */
export function setKapsoGateway(gateway: KapsoGateway | null) {
	memo = gateway ?? undefined
}
