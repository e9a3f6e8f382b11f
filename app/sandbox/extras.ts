import { createHash, randomUUID } from 'node:crypto'
import type http from 'node:http'
import { z } from 'zod'

/**
 * The sandbox's stand-ins for the Kapso endpoints the gateway does not use: phone-number health
 * and fields, call history, project users and conversation assignments, message deletion, media,
 * and inbound messages of every WhatsApp type. The main sandbox server routes to `handle` before
 * its own routes; `handle` answers `false` for anything that is not one of these.
 */

/** Every inbound message type the sandbox can produce (`POST /_sandbox/simulate/message`). */
export const INBOUND_TYPES = [
	'text',
	'image',
	'video',
	'audio',
	'voice',
	'document',
	'sticker',
	'location',
	'contacts',
	'button_reply',
	'list_reply',
	'button',
	'reaction',
	'unsupported',
] as const
export type InboundType = (typeof INBOUND_TYPES)[number]

/** What the main server needs to store an inbound message and send its webhook. */
export type InboundDelivery = {
	phoneNumberId: string
	from: string
	/** The Meta message type (`voice` and the interactive replies map onto `audio`/`interactive`). */
	type: string
	/** The Meta message minus `from`, `id`, `timestamp`: e.g. `{ image: {...} }` or `{ interactive: {...} }`. */
	body: Record<string, unknown>
	contextWamid: string | null
	/** Plain text for conversation previews. */
	preview: string
}

export type ExtrasOptions = {
	/** Stores the message in the main sandbox and emits `whatsapp.message.received`. */
	deliverInbound?: (input: InboundDelivery) => { wamid: string; conversationId: string }
	/** Whether the main sandbox knows this wamid as an outbound message (only those may be deleted). */
	outboundMessage?: (wamid: string) => { phoneNumberId: string; createdAt: number } | null
	/** Same rule as the main server: a non-empty `X-API-Key` (or the configured one). */
	authorised?: (req: http.IncomingMessage) => boolean
	now?: () => number
}

type PhoneState = {
	qualityRating: 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN'
	messagingLimitTier: string
	throughputLevel: string
	status: string
	/** Check name → passed; names follow Kapso's health response. */
	checks: Record<string, boolean>
}

type Call = {
	id: string
	phoneNumberId: string
	direction: 'inbound' | 'outbound'
	status: string
	waId: string
	durationSeconds: number
	startedAt: number
	conversationId: string | null
}

type Assignment = {
	id: string
	conversationId: string
	userId: string
	createdByUserId: string | null
	notes: string | null
	active: boolean
	createdAt: number
}

type Media = { id: string; mimeType: string; bytes: Buffer; fileName: string | null }

const DEFAULT_CHECKS = {
	phone_number_access: true,
	messaging_health: true,
	webhook_subscription: true,
	webhook_verified: true,
}

/** Meta lets a sender delete a message for everyone for about two days. */
const DELETE_WINDOW_MS = 2 * 24 * 60 * 60 * 1000

const PhonePatch = z.object({
	quality_rating: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']).optional(),
	messaging_limit_tier: z.string().optional(),
	throughput_level: z.string().optional(),
	status: z.string().optional(),
	checks: z.record(z.string(), z.boolean()).optional(),
})

const CallInput = z.object({
	phoneNumberId: z.string(),
	id: z.string().optional(),
	from: z.string(),
	direction: z.enum(['inbound', 'outbound']).default('inbound'),
	status: z.string().default('completed'),
	durationSeconds: z.number().int().min(0).default(0),
	startedAt: z.string().optional(),
	conversationId: z.string().nullable().default(null),
})

const UserInput = z.object({
	email: z.email(),
	name: z.string().optional(),
	id: z.string().optional(),
})

const SimulateInput = z.object({
	type: z.enum(INBOUND_TYPES),
	from: z.string().min(6),
	phoneNumberId: z.string().optional(),
	contextWamid: z.string().optional(),
	text: z.string().optional(),
})

// A 1×1 transparent PNG, so image previews have something real to draw.
const PNG = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
	'base64',
)
const PDF = Buffer.from(
	'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
)

const MEDIA_SAMPLES: Record<string, { mimeType: string; bytes: Buffer; fileName?: string }> = {
	image: { mimeType: 'image/png', bytes: PNG },
	sticker: { mimeType: 'image/webp', bytes: PNG },
	video: { mimeType: 'video/mp4', bytes: Buffer.alloc(2048) },
	audio: { mimeType: 'audio/mpeg', bytes: Buffer.alloc(1024) },
	voice: { mimeType: 'audio/ogg; codecs=opus', bytes: Buffer.alloc(1024) },
	document: { mimeType: 'application/pdf', bytes: PDF, fileName: 'Price list 2026.pdf' },
}

function sendJson(res: http.ServerResponse, status: number, body: unknown) {
	const text = JSON.stringify(body)
	res.writeHead(status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(text),
	})
	res.end(text)
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
	const chunks: Buffer[] = []
	for await (const chunk of req) chunks.push(chunk as Buffer)
	if (chunks.length === 0) return {}
	try {
		const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
		return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
			? (parsed as Record<string, unknown>)
			: {}
	} catch {
		return {}
	}
}

function metaError(res: http.ServerResponse, status: number, code: number, message: string) {
	sendJson(res, status, {
		error: {
			message: `(#${code}) ${message}`,
			type: 'OAuthException',
			code,
			fbtrace_id: 'AsbxExtras',
		},
	})
}

function pageOf<T>(items: T[], query: URLSearchParams) {
	const limit = Math.min(100, Math.max(1, Number(query.get('limit')) || 25))
	const start = Number(Buffer.from(query.get('after') ?? '', 'base64url').toString()) || 0
	const end = Math.min(items.length, start + limit)
	const after = Buffer.from(String(end)).toString('base64url')
	return {
		data: items.slice(start, end),
		paging: { cursors: { after }, ...(end < items.length ? { next: `?after=${after}` } : {}) },
	}
}

export function createSandboxExtras(options: ExtrasOptions = {}) {
	const now = options.now ?? Date.now
	const authorised =
		options.authorised ??
		((req: http.IncomingMessage) => {
			const key = req.headers['x-api-key']
			return typeof key === 'string' && key !== ''
		})
	let phones = new Map<string, PhoneState>()
	let calls = new Map<string, Call[]>()
	let users: Array<{ id: string; email: string; name: string | null }> = []
	let assignments: Assignment[] = []
	let deleted = new Set<string>()
	let media = new Map<string, Media>()
	let mediaCounter = 0
	let startedAt = now()

	function reset() {
		phones = new Map()
		calls = new Map()
		users = []
		assignments = []
		deleted = new Set()
		media = new Map()
		mediaCounter = 0
		startedAt = now()
	}

	function phoneState(id: string): PhoneState {
		let state = phones.get(id)
		if (!state) {
			state = {
				qualityRating: 'GREEN',
				messagingLimitTier: 'TIER_10K',
				throughputLevel: 'STANDARD',
				status: 'CONNECTED',
				checks: { ...DEFAULT_CHECKS },
			}
			phones.set(id, state)
		}
		return state
	}

	/** A few calls per number so the call log has something to show without setup. */
	function callsOf(phoneNumberId: string): Call[] {
		let list = calls.get(phoneNumberId)
		if (!list) {
			const suffix = phoneNumberId.slice(-4)
			list = [
				{
					status: 'completed',
					direction: 'inbound',
					durationSeconds: 184,
					minutesAgo: 30,
					waId: '51987650001',
				},
				{
					status: 'missed',
					direction: 'inbound',
					durationSeconds: 0,
					minutesAgo: 90,
					waId: '51987650002',
				},
				{
					status: 'completed',
					direction: 'outbound',
					durationSeconds: 47,
					minutesAgo: 240,
					waId: '51987650001',
				},
			].map((seed, index) => ({
				id: `sbxcall.${suffix}.${index + 1}`,
				phoneNumberId,
				direction: seed.direction as Call['direction'],
				status: seed.status,
				waId: seed.waId,
				durationSeconds: seed.durationSeconds,
				startedAt: startedAt - seed.minutesAgo * 60_000,
				conversationId: null,
			}))
			calls.set(phoneNumberId, list)
		}
		return list
	}

	function callJson(call: Call) {
		return {
			id: call.id,
			direction: call.direction === 'inbound' ? 'INBOUND' : 'OUTBOUND',
			status: call.status.toUpperCase(),
			duration_seconds: call.durationSeconds,
			started_at: new Date(call.startedAt).toISOString(),
			ended_at: new Date(call.startedAt + call.durationSeconds * 1000).toISOString(),
			from: call.direction === 'inbound' ? call.waId : call.phoneNumberId,
			to: call.direction === 'inbound' ? call.phoneNumberId : call.waId,
			whatsapp_conversation_id: call.conversationId,
		}
	}

	function healthJson(id: string) {
		const state = phoneState(id)
		const check = (name: string, details: Record<string, unknown>) => {
			const passed = state.checks[name] ?? true
			return passed
				? { passed, details }
				: { passed, error: { message: `${name.replace(/_/g, ' ')} failed` }, details }
		}
		const checks = {
			phone_number_access: check('phone_number_access', {
				id,
				quality_rating: state.qualityRating,
				status: state.status,
				throughput_tier: state.messagingLimitTier,
			}),
			messaging_health: check('messaging_health', {
				can_send_message: state.checks.messaging_health === false ? 'BLOCKED' : 'AVAILABLE',
			}),
			webhook_subscription: check('webhook_subscription', {
				subscribed: state.checks.webhook_subscription !== false,
			}),
			webhook_verified: check('webhook_verified', {}),
			...(state.checks.access_token === undefined
				? {}
				: { access_token: check('access_token', {}) }),
		}
		const allPassed = Object.values(checks).every((c) => c.passed)
		return {
			status: allPassed ? 'healthy' : 'unhealthy',
			timestamp: new Date(now()).toISOString(),
			checks,
		}
	}

	function addMedia(kind: string, origin: string) {
		const sample = MEDIA_SAMPLES[kind] ?? MEDIA_SAMPLES.image
		mediaCounter++
		const id = `sbxmedia.${mediaCounter}`
		media.set(id, {
			id,
			mimeType: sample.mimeType,
			bytes: sample.bytes,
			fileName: sample.fileName ?? null,
		})
		return {
			id,
			mime_type: sample.mimeType,
			sha256: createHash('sha256').update(sample.bytes).digest('base64'),
			url: `${origin}/_sandbox/media/${id}`,
			file_size: sample.bytes.length,
			fileName: sample.fileName,
		}
	}

	/** A Meta-shaped inbound message body of the given type (without from/id/timestamp). */
	function buildInbound(input: z.infer<typeof SimulateInput>, origin: string) {
		const text = input.text
		const context = input.contextWamid ? { context: { id: input.contextWamid } } : {}
		switch (input.type) {
			case 'text':
				return {
					type: 'text',
					body: { text: { body: text ?? 'Hola, *quiero* saber el _precio_' } },
					preview: text ?? 'Hola',
				}
			case 'image':
			case 'video':
			case 'sticker': {
				const m = addMedia(input.type, origin)
				const caption =
					input.type === 'sticker'
						? {}
						: { caption: text ?? `Look at this ${input.type === 'image' ? 'photo' : 'video'}` }
				return {
					type: input.type,
					body: {
						[input.type]: {
							id: m.id,
							mime_type: m.mime_type,
							sha256: m.sha256,
							...caption,
							...(input.type === 'sticker' ? { animated: false } : {}),
						},
					},
					preview:
						input.type === 'sticker'
							? 'Sticker'
							: (text ?? `Look at this ${input.type === 'image' ? 'photo' : 'video'}`),
				}
			}
			case 'audio':
			case 'voice': {
				const m = addMedia(input.type, origin)
				return {
					type: 'audio',
					body: {
						audio: {
							id: m.id,
							mime_type: m.mime_type,
							sha256: m.sha256,
							voice: input.type === 'voice',
						},
					},
					preview: input.type === 'voice' ? 'Voice message' : 'Audio',
				}
			}
			case 'document': {
				const m = addMedia('document', origin)
				return {
					type: 'document',
					body: {
						document: {
							id: m.id,
							mime_type: m.mime_type,
							sha256: m.sha256,
							filename: m.fileName,
							caption: text ?? 'Here is the file',
						},
					},
					preview: m.fileName ?? 'Document',
				}
			}
			case 'location':
				return {
					type: 'location',
					body: {
						location: {
							latitude: -12.0464,
							longitude: -77.0428,
							name: 'Plaza Mayor',
							address: 'Jr. de la Unión, Lima 15001',
						},
					},
					preview: 'Location: Plaza Mayor',
				}
			case 'contacts':
				return {
					type: 'contacts',
					body: {
						contacts: [
							{
								name: { formatted_name: 'Ana Torres', first_name: 'Ana', last_name: 'Torres' },
								phones: [{ phone: '+51 987 654 321', wa_id: '51987654321', type: 'CELL' }],
								emails: [{ email: 'ana@example.com', type: 'WORK' }],
								org: { company: 'Mercado Sur' },
							},
						],
					},
					preview: 'Contact: Ana Torres',
				}
			case 'button_reply':
				return {
					type: 'interactive',
					body: {
						...context,
						interactive: {
							type: 'button_reply',
							button_reply: { id: 'confirm', title: text ?? 'Confirm' },
						},
					},
					preview: text ?? 'Confirm',
				}
			case 'list_reply':
				return {
					type: 'interactive',
					body: {
						...context,
						interactive: {
							type: 'list_reply',
							list_reply: {
								id: 'size_m',
								title: text ?? 'Medium',
								description: 'Fits most people',
							},
						},
					},
					preview: text ?? 'Medium',
				}
			case 'button':
				return {
					type: 'button',
					body: { ...context, button: { payload: 'YES', text: text ?? 'Yes, please' } },
					preview: text ?? 'Yes, please',
				}
			case 'reaction':
				return {
					type: 'reaction',
					body: { reaction: { message_id: input.contextWamid ?? '', emoji: text ?? '👍' } },
					preview: `Reacted ${text ?? '👍'}`,
				}
			case 'unsupported':
				return {
					type: 'unsupported',
					body: {
						errors: [
							{
								code: 131051,
								title: 'Message type unknown',
								message: 'Message type unknown',
								error_data: { details: 'Message type is currently not supported.' },
							},
						],
						unsupported: { type: 'poll' },
					},
					preview: 'Unsupported message',
				}
		}
	}

	function outboundOrNull(wamid: string) {
		return options.outboundMessage?.(wamid) ?? null
	}

	async function handleControl(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		rest: string[],
		url: URL,
	) {
		const route = `${req.method} ${rest.join('/')}`
		const [, , id] = rest
		if (req.method === 'POST' && rest[0] === 'extras' && rest[1] === 'phone_numbers' && id) {
			const patch = PhonePatch.safeParse(await readJson(req))
			if (!patch.success) return sendJson(res, 400, { error: patch.error.message })
			const state = phoneState(id)
			if (patch.data.quality_rating) state.qualityRating = patch.data.quality_rating
			if (patch.data.messaging_limit_tier)
				state.messagingLimitTier = patch.data.messaging_limit_tier
			if (patch.data.throughput_level) state.throughputLevel = patch.data.throughput_level
			if (patch.data.status) state.status = patch.data.status
			if (patch.data.checks) Object.assign(state.checks, patch.data.checks)
			return sendJson(res, 200, healthJson(id))
		}
		switch (route) {
			case 'POST extras/calls': {
				const input = CallInput.safeParse(await readJson(req))
				if (!input.success) return sendJson(res, 400, { error: input.error.message })
				const call: Call = {
					id: input.data.id ?? `sbxcall.${randomUUID()}`,
					phoneNumberId: input.data.phoneNumberId,
					direction: input.data.direction,
					status: input.data.status,
					waId: input.data.from.replace(/\D/g, ''),
					durationSeconds: input.data.durationSeconds,
					startedAt: input.data.startedAt ? Date.parse(input.data.startedAt) : now(),
					conversationId: input.data.conversationId,
				}
				callsOf(call.phoneNumberId).unshift(call)
				return sendJson(res, 200, callJson(call))
			}
			case 'POST extras/users': {
				const input = UserInput.safeParse(await readJson(req))
				if (!input.success) return sendJson(res, 400, { error: input.error.message })
				const user = {
					id: input.data.id ?? randomUUID(),
					email: input.data.email,
					name: input.data.name ?? null,
				}
				users.push(user)
				return sendJson(res, 200, user)
			}
			case 'GET extras/assignments':
				return sendJson(res, 200, { data: assignments.map(assignmentJson) })
			case 'POST extras/reset':
				reset()
				return sendJson(res, 200, { ok: true })
			case 'POST simulate/message': {
				const input = SimulateInput.safeParse(await readJson(req))
				if (!input.success) return sendJson(res, 400, { error: input.error.message })
				const built = buildInbound(input.data, url.origin)
				if (!options.deliverInbound) {
					return sendJson(res, 501, {
						error: 'inbound delivery is not wired into this sandbox',
						message: built,
					})
				}
				const delivered = options.deliverInbound({
					phoneNumberId: input.data.phoneNumberId ?? '',
					from: input.data.from.replace(/\D/g, ''),
					type: built.type,
					body: built.body,
					contextWamid: input.data.contextWamid ?? null,
					preview: built.preview,
				})
				return sendJson(res, 200, { ...delivered, type: built.type })
			}
		}
		if (req.method === 'GET' && rest[0] === 'media' && rest[1]) {
			if (!authorised(req)) return sendJson(res, 401, { error: 'Invalid API key' })
			const item = media.get(rest[1])
			if (!item) return sendJson(res, 404, { error: 'media not found' })
			res.writeHead(200, { 'Content-Type': item.mimeType, 'Content-Length': item.bytes.length })
			return res.end(item.bytes)
		}
		return false
	}

	function assignmentJson(assignment: Assignment) {
		return {
			id: assignment.id,
			user_id: assignment.userId,
			created_by_user_id: assignment.createdByUserId,
			notes: assignment.notes,
			active: assignment.active,
			created_at: new Date(assignment.createdAt).toISOString(),
		}
	}

	async function handleAssignments(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		conversationId: string,
		assignmentId: string | undefined,
	) {
		const body = req.method === 'GET' ? {} : await readJson(req)
		const input = z
			.object({
				assignment: z
					.object({
						user_id: z.string().optional(),
						notes: z.string().nullish(),
						active: z.boolean().optional(),
					})
					.default({}),
			})
			.safeParse(body)
		if (!input.success) return sendJson(res, 422, { error: 'assignment is required' })
		const fields = input.data.assignment
		if (fields.user_id && !users.some((user) => user.id === fields.user_id))
			return sendJson(res, 422, { error: 'User must be a member of the project' })
		const ofConversation = assignments.filter((a) => a.conversationId === conversationId)
		if (!assignmentId) {
			if (req.method === 'GET')
				return sendJson(res, 200, { data: ofConversation.map(assignmentJson) })
			if (req.method !== 'POST') return false
			if (!fields.user_id) return sendJson(res, 422, { error: 'user_id is required' })
			if (ofConversation.some((a) => a.active))
				return sendJson(res, 422, { error: 'Conversation already has an active assignment' })
			const assignment: Assignment = {
				id: randomUUID(),
				conversationId,
				userId: fields.user_id,
				createdByUserId: null,
				notes: fields.notes ?? null,
				active: true,
				createdAt: now(),
			}
			assignments.push(assignment)
			return sendJson(res, 201, { data: assignmentJson(assignment) })
		}
		const assignment = ofConversation.find((a) => a.id === assignmentId)
		if (!assignment) return sendJson(res, 404, { error: 'Assignment not found' })
		if (req.method === 'GET') return sendJson(res, 200, { data: assignmentJson(assignment) })
		if (req.method !== 'PATCH') return false
		if (fields.user_id) assignment.userId = fields.user_id
		if (fields.notes !== undefined) assignment.notes = fields.notes ?? null
		if (fields.active !== undefined) {
			if (fields.active && ofConversation.some((a) => a.active && a.id !== assignment.id))
				return sendJson(res, 422, { error: 'Conversation already has an active assignment' })
			assignment.active = fields.active
		}
		return sendJson(res, 200, { data: assignmentJson(assignment) })
	}

	async function handleMeta(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		rest: string[],
		url: URL,
	) {
		const [first, second, third] = rest
		if (!first) return false
		const query = url.searchParams
		if (req.method === 'GET' && !second && media.has(first)) {
			if (!query.get('phone_number_id'))
				return metaError(res, 400, 100, 'phone_number_id is required when using the Kapso proxy')
			const item = media.get(first) as Media
			return sendJson(res, 200, {
				messaging_product: 'whatsapp',
				id: item.id,
				url: `${url.origin}/_sandbox/media/${item.id}`,
				mime_type: item.mimeType,
				sha256: createHash('sha256').update(item.bytes).digest('base64'),
				file_size: String(item.bytes.length),
			})
		}
		const fields = query.get('fields') ?? ''
		if (
			req.method === 'GET' &&
			!second &&
			/quality_rating|throughput|messaging_limit/.test(fields)
		) {
			const state = phoneState(first)
			const full: Record<string, unknown> = {
				quality_rating: state.qualityRating,
				throughput: { level: state.throughputLevel },
				whatsapp_business_manager_messaging_limit: state.messagingLimitTier,
				status: state.status,
			}
			const wanted = new Set(fields.split(',').map((field) => field.trim()))
			return sendJson(res, 200, {
				id: first,
				...Object.fromEntries(Object.entries(full).filter(([key]) => wanted.has(key))),
			})
		}
		if (req.method === 'GET' && second === 'calls' && !third) {
			const since = query.get('since') ? Date.parse(query.get('since') as string) : null
			const list = callsOf(first)
				.filter((call) => since === null || call.startedAt >= since)
				.sort((a, b) => b.startedAt - a.startedAt)
			const page = pageOf(list, query)
			return sendJson(res, 200, { data: page.data.map(callJson), paging: page.paging })
		}
		if (req.method === 'DELETE' && second === 'messages' && third) {
			const wamid = decodeURIComponent(third)
			if (deleted.has(wamid)) return sendJson(res, 200, { success: true })
			if (options.outboundMessage) {
				const message = outboundOrNull(wamid)
				if (!message || message.phoneNumberId !== first)
					return metaError(res, 400, 100, 'Only messages sent by this business can be deleted')
				if (now() - message.createdAt > DELETE_WINDOW_MS)
					return metaError(res, 400, 100, 'The message is too old to be deleted')
			}
			deleted.add(wamid)
			return sendJson(res, 200, { success: true })
		}
		return false
	}

	async function handlePlatform(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		rest: string[],
		url: URL,
	) {
		if (req.method === 'GET' && rest[0] === 'users' && rest.length === 1) {
			const page = pageOf(users, url.searchParams)
			return sendJson(res, 200, page)
		}
		const [area, resource, id, sub, subId] = rest
		if (area !== 'whatsapp') return false
		if (resource === 'phone_numbers' && id && sub === 'health' && req.method === 'GET')
			return sendJson(res, 200, healthJson(id))
		if (resource === 'conversations' && id && sub === 'assignments')
			return handleAssignments(req, res, id, subId)
		return false
	}

	/** Answers one request when it is one of the extras; `false` leaves it to the main server. */
	async function handle(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		url: URL,
	): Promise<boolean> {
		const parts = url.pathname.split('/').filter(Boolean)
		let answered: unknown = false
		if (parts[0] === '_sandbox') {
			answered = await handleControl(req, res, parts.slice(1), url)
		} else if (parts[0] === 'meta' && parts[1] === 'whatsapp') {
			const rest = parts.slice(2)
			if (!authorised(req)) return false
			answered = await handleMeta(
				req,
				res,
				/^v\d+(\.\d+)?$/.test(rest[0] ?? '') ? rest.slice(1) : rest,
				url,
			)
		} else if (parts[0] === 'platform' && parts[1] === 'v1') {
			if (!authorised(req)) return false
			answered = await handlePlatform(req, res, parts.slice(2), url)
		}
		return answered !== false
	}

	return { handle, reset }
}
