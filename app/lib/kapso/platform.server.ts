import { GraphApiError, WhatsAppClient } from '@kapso/whatsapp-cloud-api'
import { z } from 'zod'
import { kapsoConnection } from './gateway.server'
import { classifyError, type TransportFailure } from './errors'
import { type GatewayError, type GatewayResult, type Page } from './types'

/**
 * The parts of Kapso's API the gateway does not cover: phone-number health and fields, the call
 * log, conversation assignments, message deletion and media. Same host, key and timeout as the
 * gateway; every call resolves to a classified result and never throws for a provider failure.
 */
export type KapsoPlatformConfig = {
	baseUrl: string
	apiKey: string
	timeoutMs: number
	graphVersion?: string
}

/** `GREEN | YELLOW | RED | UNKNOWN` as Meta reports it. */
export type QualityRating = 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN'

export type PhoneHealth = {
	/** Kapso's overall verdict, e.g. `healthy`, `degraded`, `unhealthy`. */
	status: string
	/** The number is connected to the Cloud API and can send. */
	connected: boolean
	/** Kapso can reach Meta with the number's credentials. */
	tokenValid: boolean
	/** The number's webhook is subscribed and verified. */
	webhookReachable: boolean
	qualityRating: QualityRating | null
	/** Each check's name, whether it passed and, if not, why. */
	checks: Array<{ name: string; passed: boolean; detail: string | null }>
}

export type PhoneNumberFields = {
	qualityRating: QualityRating | null
	/** `TIER_250 | TIER_2K | TIER_10K | TIER_100K | TIER_UNLIMITED` (or `TIER_50`, `TIER_NOT_SET`). */
	messagingLimitTier: string | null
	/** `STANDARD` (80 mps), `HIGH` (1000 mps) or `COEXISTENCE` (20 mps). */
	throughputLevel: string | null
	/** `CONNECTED`, `FLAGGED`, `RESTRICTED`, `DISCONNECTED`, … */
	status: string | null
}

export type CallInfo = {
	id: string
	direction: 'inbound' | 'outbound' | null
	status: string | null
	durationSeconds: number | null
	startedAt: Date | null
	endedAt: Date | null
	/** The other party's WhatsApp id (digits), when Kapso reports it. */
	waId: string | null
	conversationId: string | null
	raw: Record<string, unknown>
}

export type KapsoAssignment = {
	id: string
	userId: string
	active: boolean
	notes: string | null
}

export type KapsoUser = { id: string; email: string; name: string | null }

export type MediaInfo = {
	url: string
	mimeType: string | null
	fileSize: number | null
	sha256: string | null
}

class TransportError extends Error {
	constructor(
		readonly kind: TransportFailure,
		cause: unknown,
	) {
		super(`Kapso request failed: ${kind}`, { cause })
	}
}

class HttpFailure extends Error {
	constructor(
		readonly status: number,
		readonly body: unknown,
		readonly retryAfterMs: number | null,
	) {
		super(`Kapso answered ${status}`)
	}
}

class UnexpectedResponse extends Error {}

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
		current = (current as { cause?: unknown }).cause
	}
	return null
}

function record(value: unknown): Record<string, unknown> {
	return value && typeof value === 'object' && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: {}
}

function str(value: unknown): string | null {
	return typeof value === 'string' && value !== '' ? value : null
}

function dateOf(value: unknown): Date | null {
	if (typeof value === 'number') return new Date(value * 1000)
	if (typeof value !== 'string' || value === '') return null
	const date = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value)
	return Number.isNaN(date.getTime()) ? null : date
}

function qualityOf(value: unknown): QualityRating | null {
	const text = str(value)?.toUpperCase()
	return text === 'GREEN' || text === 'YELLOW' || text === 'RED' || text === 'UNKNOWN' ? text : null
}

function toGatewayError(error: unknown, operation: 'read' | 'write'): GatewayError {
	let result: GatewayError
	if (error instanceof GraphApiError) {
		// The SDK camel-cases the error body; `error.code` falls back to the HTTP status, so the
		// Meta code is read from the body itself.
		const body = record(error.raw)
		const meta = record(body.error)
		result = classifyError({
			code: typeof meta.code === 'number' ? meta.code : null,
			httpStatus: error.httpStatus,
			kapsoCode: str(body.code),
			message: error.message,
			retryAfterMs: error.retry?.retryAfterMs ?? null,
		})
	} else if (error instanceof HttpFailure) {
		const body = record(error.body)
		const meta = record(body.error)
		const code = typeof meta.code === 'number' ? meta.code : null
		const message = str(meta.message) ?? str(body.error) ?? str(body.message)
		result = classifyError({
			code,
			httpStatus: error.status,
			kapsoCode: str(body.code),
			message,
			retryAfterMs: error.retryAfterMs,
		})
	} else if (error instanceof TransportError) {
		result = classifyError({ transport: error.kind })
	} else {
		result = classifyError({ transport: 'connection_lost' })
		result.title = `${result.title}: ${error instanceof Error ? error.message : String(error)}`
	}
	// Reads can always be repeated, so nothing they do is ambiguous.
	if (operation === 'read' && result.class === 'ambiguous') {
		return { ...result, class: 'retryable', retryAfterMs: 2000 }
	}
	return result
}

const pagingSchema = z
	.object({
		cursors: z.object({ after: z.string().nullish() }).loose().nullish(),
		next: z.string().nullish(),
	})
	.loose()
	.nullish()

function nextCursorOf(paging: z.infer<typeof pagingSchema>) {
	return paging?.next && paging.cursors?.after ? paging.cursors.after : null
}

const checkSchema = z
	.object({
		passed: z.boolean(),
		details: z.unknown().optional(),
		error: z.unknown().optional(),
		message: z.string().nullish(),
	})
	.loose()

const healthSchema = z
	.object({
		status: z.string(),
		checks: z.record(z.string(), checkSchema).default({}),
	})
	.loose()

function checkDetail(check: z.infer<typeof checkSchema>): string | null {
	if (check.passed) return null
	const error = record(check.error)
	const details = record(check.details)
	return (
		str(check.message) ?? str(error.message) ?? str(details.message) ?? str(check.error) ?? null
	)
}

function toPhoneHealth(raw: z.infer<typeof healthSchema>): PhoneHealth {
	const checks = raw.checks
	const access = checks.phone_number_access
	const accessDetails = record(access?.details)
	const token = checks.access_token ?? checks.token ?? access
	const webhookChecks = [checks.webhook_subscription, checks.webhook_verified].filter(
		(check): check is NonNullable<typeof check> => check !== undefined,
	)
	const numberStatus = str(accessDetails.status)?.toUpperCase() ?? null
	return {
		status: raw.status,
		connected:
			(access?.passed ?? false) &&
			(numberStatus === null || numberStatus === 'CONNECTED') &&
			(checks.messaging_health?.passed ?? true),
		tokenValid: token?.passed ?? false,
		webhookReachable: webhookChecks.length > 0 && webhookChecks.every((check) => check.passed),
		qualityRating: qualityOf(accessDetails.quality_rating),
		checks: Object.entries(checks).map(([name, check]) => ({
			name,
			passed: check.passed,
			detail: checkDetail(check),
		})),
	}
}

const PHONE_FIELDS =
	'quality_rating,throughput,whatsapp_business_manager_messaging_limit,messaging_limit_tier,status'

const phoneFieldsSchema = z
	.object({
		quality_rating: z.string().nullish(),
		throughput: z.object({ level: z.string().nullish() }).loose().nullish(),
		whatsapp_business_manager_messaging_limit: z.string().nullish(),
		messaging_limit_tier: z.string().nullish(),
		status: z.string().nullish(),
	})
	.loose()

const rawCallSchema = z.record(z.string(), z.unknown())
// The SDK camel-cases every key of the answer (`durationSeconds`, `whatsappConversationId`).
const callPageSchema = z.object({ data: z.array(rawCallSchema), paging: pagingSchema })

function digitsOf(value: unknown): string | null {
	const text = str(value)
	if (!text) return null
	const digits = text.replace(/\D/g, '')
	return digits.length >= 6 ? digits : null
}

/** One call as the SDK returns it (camelCase keys). */
function toCallInfo(raw: Record<string, unknown>): CallInfo | null {
	const id = str(raw.id) ?? str(raw.callId)
	if (!id) return null
	const direction = str(raw.direction)?.toLowerCase()
	const normalized =
		direction === 'inbound' || direction === 'user_initiated'
			? 'inbound'
			: direction === 'outbound' || direction === 'business_initiated'
				? 'outbound'
				: null
	const contact = record(raw.contact)
	const duration = raw.durationSeconds ?? raw.duration
	const counterpart = normalized === 'outbound' ? raw.to : raw.from
	return {
		id,
		direction: normalized,
		status: str(raw.status)?.toLowerCase() ?? null,
		durationSeconds:
			typeof duration === 'number'
				? Math.round(duration)
				: duration != null
					? Number(duration) || null
					: null,
		startedAt: dateOf(raw.startedAt) ?? dateOf(raw.timestamp),
		endedAt: dateOf(raw.endedAt),
		waId:
			digitsOf(contact.waId) ??
			digitsOf(raw.waId) ??
			digitsOf(raw.phoneNumber) ??
			digitsOf(counterpart),
		conversationId: str(raw.whatsappConversationId) ?? str(raw.conversationId),
		raw,
	}
}

const assignmentSchema = z
	.object({
		id: z.string(),
		user_id: z.string(),
		active: z.boolean().default(true),
		notes: z.string().nullish(),
	})
	.loose()

function toAssignment(raw: z.infer<typeof assignmentSchema>): KapsoAssignment {
	return { id: raw.id, userId: raw.user_id, active: raw.active, notes: raw.notes ?? null }
}

const userSchema = z
	.object({ id: z.string(), email: z.string(), name: z.string().nullish() })
	.loose()

const mediaSchema = z
	.object({
		url: z.string().optional(),
		download_url: z.string().optional(),
		mime_type: z.string().nullish(),
		file_size: z.union([z.string(), z.number()]).nullish(),
		sha256: z.string().nullish(),
	})
	.loose()

const MAX_PAGES = 20

/** The Graph version Kapso's docs use; the gateway uses the same. */
const GRAPH_VERSION = 'v24.0'

export function createKapsoPlatform(config: KapsoPlatformConfig) {
	const host = config.baseUrl.replace(/\/+$/, '')
	const graphVersion = config.graphVersion ?? GRAPH_VERSION

	/** fetch with the configured timeout; a failure becomes a TransportError saying whether it was sent. */
	async function send(
		url: string | URL | Request,
		init: RequestInit,
		signal: AbortSignal | undefined,
	): Promise<Response> {
		const timeout = AbortSignal.timeout(config.timeoutMs)
		const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
		try {
			return await fetch(url, { ...init, signal: combined })
		} catch (error) {
			if (signal?.aborted) throw new TransportError('aborted', error)
			if (timeout.aborted) throw new TransportError('timeout', error)
			const code = causeCode(error)
			throw new TransportError(
				code && NOT_SENT_CODES.has(code) ? 'connection_refused' : 'connection_lost',
				error,
			)
		}
	}

	function request(
		method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
		url: URL,
		body?: Record<string, unknown>,
		signal?: AbortSignal,
	): Promise<Response> {
		return send(
			url,
			{
				method,
				headers: {
					'X-API-Key': config.apiKey,
					Accept: 'application/json',
					...(body ? { 'Content-Type': 'application/json' } : {}),
				},
				body: body ? JSON.stringify(body) : undefined,
			},
			signal,
		)
	}

	/**
	 * The SDK client for the resources it covers. Its methods take no signal, so each call gets
	 * a client whose fetch carries the caller's.
	 */
	function sdk(signal: AbortSignal | undefined) {
		return new WhatsAppClient({
			baseUrl: `${host}/meta/whatsapp`,
			kapsoApiKey: config.apiKey,
			graphVersion,
			fetch: (url, init) => send(url, init ?? {}, signal),
		})
	}

	async function json<S extends z.ZodType>(response: Response, schema: S): Promise<z.infer<S>> {
		const text = await response.text()
		let body: unknown = null
		try {
			body = text ? JSON.parse(text) : null
		} catch {
			body = text
		}
		if (!response.ok) {
			const retryAfter = Number(response.headers.get('retry-after'))
			throw new HttpFailure(
				response.status,
				body,
				Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
			)
		}
		const parsed = schema.safeParse(body)
		if (!parsed.success) throw new UnexpectedResponse(`unexpected response from ${response.url}`)
		return parsed.data as z.infer<S>
	}

	function graphUrl(path: string, query: Record<string, string | undefined> = {}) {
		const url = new URL(`${host}/meta/whatsapp/${graphVersion}/${path}`)
		for (const [key, value] of Object.entries(query)) if (value) url.searchParams.set(key, value)
		return url
	}

	function platformUrl(path: string, query: Record<string, string | undefined> = {}) {
		const url = new URL(`${host}/platform/v1/${path}`)
		for (const [key, value] of Object.entries(query)) if (value) url.searchParams.set(key, value)
		return url
	}

	async function run<T extends object>(
		operation: 'read' | 'write',
		task: () => Promise<T>,
	): Promise<GatewayResult<T>> {
		try {
			return { ok: true, ...(await task()) }
		} catch (error) {
			return toGatewayError(error, operation)
		}
	}

	const enc = encodeURIComponent

	async function listAssignments(conversationId: string, signal?: AbortSignal) {
		const response = await request(
			'GET',
			platformUrl(`whatsapp/conversations/${enc(conversationId)}/assignments`),
			undefined,
			signal,
		)
		const page = await json(response, z.object({ data: z.array(assignmentSchema) }).loose())
		return page.data.map(toAssignment)
	}

	return {
		/** Kapso's live health check of a number (Meta access, messaging, webhook). */
		getPhoneNumberHealth(input: {
			phoneNumberId: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ health: PhoneHealth }>> {
			return run('read', async () => {
				const response = await request(
					'GET',
					platformUrl(`whatsapp/phone_numbers/${enc(input.phoneNumberId)}/health`),
					undefined,
					input.signal,
				)
				const body = await json(response, z.unknown())
				// The health check answers bare; other Platform reads wrap in `data`.
				const inner = 'data' in record(body) ? record(body).data : body
				const parsed = healthSchema.safeParse(inner)
				if (!parsed.success) throw new UnexpectedResponse('unexpected health check response')
				return { health: toPhoneHealth(parsed.data) }
			})
		},

		/** Quality rating, messaging-limit tier and throughput level from Graph's number fields. */
		getPhoneNumberFields(input: {
			phoneNumberId: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ fields: PhoneNumberFields }>> {
			return run('read', async () => {
				const response = await request(
					'GET',
					graphUrl(enc(input.phoneNumberId), { fields: PHONE_FIELDS }),
					undefined,
					input.signal,
				)
				const raw = await json(response, phoneFieldsSchema)
				return {
					fields: {
						qualityRating: qualityOf(raw.quality_rating),
						// `messaging_limit_tier` is deprecated; read it only when the new field is missing.
						messagingLimitTier:
							raw.whatsapp_business_manager_messaging_limit ?? raw.messaging_limit_tier ?? null,
						throughputLevel: raw.throughput?.level ?? null,
						status: raw.status ?? null,
					},
				}
			})
		},

		/** One page of a number's call history (SDK `calls.list`, Kapso only), newest first. */
		listCalls(input: {
			phoneNumberId: string
			since?: Date
			after?: string | null
			limit?: number
			signal?: AbortSignal
		}): Promise<GatewayResult<Page<CallInfo>>> {
			return run('read', async () => {
				const response = await sdk(input.signal).calls.list({
					phoneNumberId: input.phoneNumberId,
					since: input.since?.toISOString(),
					after: input.after ?? undefined,
					// Kapso pages at most 100 calls; the SDK refuses a larger limit.
					limit: Math.min(input.limit ?? 100, 100),
				})
				const parsed = callPageSchema.safeParse(response)
				if (!parsed.success) throw new UnexpectedResponse('unexpected call history response')
				const page = parsed.data
				return {
					items: page.data.map(toCallInfo).filter((call): call is CallInfo => call !== null),
					nextCursor: nextCursorOf(page.paging),
				}
			})
		},

		/** The Kapso project member with this email, if any (assignments name Kapso users). */
		findProjectUser(input: {
			email: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ user: KapsoUser | null }>> {
			return run('read', async () => {
				const wanted = input.email.trim().toLowerCase()
				let after: string | null = null
				for (let page = 0; page < MAX_PAGES; page++) {
					const response = await request(
						'GET',
						platformUrl('users', { limit: '100', after: after ?? undefined }),
						undefined,
						input.signal,
					)
					const body = await json(
						response,
						z.object({ data: z.array(userSchema), paging: pagingSchema }).loose(),
					)
					const found = body.data.find((user) => user.email.toLowerCase() === wanted)
					if (found) return { user: { id: found.id, email: found.email, name: found.name ?? null } }
					after = nextCursorOf(body.paging)
					if (!after) break
				}
				return { user: null }
			})
		},

		listConversationAssignments(input: {
			conversationId: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ assignments: KapsoAssignment[] }>> {
			return run('read', async () => ({
				assignments: await listAssignments(input.conversationId, input.signal),
			}))
		},

		/**
		 * Makes Kapso's active assignment of a conversation match `userId` (a Kapso user id), or
		 * leaves none active when `userId` is null. Kapso allows one active assignment, so an
		 * existing one is reassigned or deactivated rather than a second one created.
		 */
		syncConversationAssignment(input: {
			conversationId: string
			userId: string | null
			signal?: AbortSignal
		}): Promise<GatewayResult<{ assignment: KapsoAssignment | null; changed: boolean }>> {
			return run('write', async () => {
				const active = (await listAssignments(input.conversationId, input.signal)).find(
					(assignment) => assignment.active,
				)
				const base = `whatsapp/conversations/${enc(input.conversationId)}/assignments`
				const schema = z.object({ data: assignmentSchema }).loose()
				if (input.userId === null) {
					if (!active) return { assignment: null, changed: false }
					const response = await request(
						'PATCH',
						platformUrl(`${base}/${enc(active.id)}`),
						{ assignment: { active: false } },
						input.signal,
					)
					await json(response, schema)
					return { assignment: null, changed: true }
				}
				if (active?.userId === input.userId) return { assignment: active, changed: false }
				const response = active
					? await request(
							'PATCH',
							platformUrl(`${base}/${enc(active.id)}`),
							{ assignment: { user_id: input.userId } },
							input.signal,
						)
					: await request(
							'POST',
							platformUrl(base),
							{ assignment: { user_id: input.userId } },
							input.signal,
						)
				return { assignment: toAssignment((await json(response, schema)).data), changed: true }
			})
		},

		/**
		 * Asks Kapso to delete a message the business sent. Meta's Cloud API has no documented
		 * delete, so a 4xx here usually means "not allowed"; the caller shows that to the user.
		 */
		deleteMessage(input: {
			phoneNumberId: string
			wamid: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ deleted: boolean }>> {
			return run('write', async () => {
				const response = await request(
					'DELETE',
					graphUrl(`${enc(input.phoneNumberId)}/messages/${enc(input.wamid)}`),
					undefined,
					input.signal,
				)
				const body = await json(response, z.object({ success: z.boolean() }).loose())
				return { deleted: body.success }
			})
		},

		/** A media object's short-lived download URL and type (the proxy needs the number id). */
		getMedia(input: {
			phoneNumberId: string
			mediaId: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ media: MediaInfo }>> {
			return run('read', async () => {
				const response = await request(
					'GET',
					graphUrl(enc(input.mediaId), { phone_number_id: input.phoneNumberId }),
					undefined,
					input.signal,
				)
				const raw = await json(response, mediaSchema)
				const url = raw.download_url ?? raw.url
				if (!url) throw new UnexpectedResponse('media without a download url')
				return {
					media: {
						url,
						mimeType: raw.mime_type ?? null,
						fileSize: raw.file_size != null ? Number(raw.file_size) || null : null,
						sha256: raw.sha256 ?? null,
					},
				}
			})
		},

		/**
		 * Fetches media bytes. The API key goes only to Kapso's own host (or the sandbox's), never
		 * to a third-party CDN, and never back to the browser: the caller streams the body on.
		 */
		async downloadMedia(input: {
			url: string
			signal?: AbortSignal
		}): Promise<GatewayResult<{ response: Response }>> {
			return run('read', async () => {
				const target = new URL(input.url)
				const ours = target.origin === new URL(host).origin || target.hostname.endsWith('kapso.ai')
				const timeout = AbortSignal.timeout(config.timeoutMs)
				const signal = input.signal ? AbortSignal.any([input.signal, timeout]) : timeout
				let response: Response
				try {
					response = await fetch(target, {
						headers: ours ? { 'X-API-Key': config.apiKey } : {},
						signal,
					})
				} catch (error) {
					throw new TransportError(timeout.aborted ? 'timeout' : 'connection_lost', error)
				}
				if (!response.ok) {
					await response.body?.cancel()
					throw new HttpFailure(response.status, null, null)
				}
				return { response }
			})
		},
	}
}

export type KapsoPlatform = ReturnType<typeof createKapsoPlatform>

let memo: KapsoPlatform | undefined

/** Real Kapso when `KAPSO_API_KEY` is set, else the sandbox: the same choice as the gateway. */
export function getKapsoPlatform(): KapsoPlatform {
	memo ??= createKapsoPlatform(kapsoConnection())
	return memo
}

/** Points `getKapsoPlatform()` at another host (a sandbox on a random port in tests). */
export function setKapsoPlatform(platform: KapsoPlatform | null) {
	memo = platform ?? undefined
}
