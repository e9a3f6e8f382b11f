import http from 'node:http'
import { type AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { createSandboxExtras } from './extras'
import { createScheduler } from './scheduler'
import {
	type SandboxSettings,
	type SandboxSettingsInput,
	mergeSettings,
	parseSettings,
} from './settings'
import {
	type Component,
	type TemplateShape,
	creationError,
	plausibleWaId,
	reviewRejection,
	sendError,
	sendParamsOf,
	shapeOf,
} from './templates'
import { createWebhookSender } from './webhook-sender'

type Status = 'accepted' | 'sent' | 'delivered' | 'read' | 'failed' | 'received'

const RANK: Record<Status, number> = {
	accepted: 0,
	received: 0,
	sent: 1,
	delivered: 2,
	read: 3,
	failed: 1,
}

type Phone = {
	id: string
	wabaId: string
	displayPhoneNumber: string
	/** Accept times inside the last second (a queue with a moving head). */
	window: number[]
	windowHead: number
	maxInAnyOneSecond: number
	/** Outbound messages accepted, pruned ones included. */
	accepted: number
	messages: Message[]
}

type Conversation = {
	id: string
	phoneNumberId: string
	waId: string
	status: 'active' | 'ended'
	createdAt: number
	updatedAt: number
	lastInboundAt: number | null
	lastOutboundAt: number | null
	messages: Message[]
	contactName: string
}

type Message = {
	wamid: string
	phoneNumberId: string
	direction: 'inbound' | 'outbound'
	to: string
	waId: string
	type: string
	template: Record<string, unknown> | null
	templateName: string | null
	templateLanguage: string | null
	category: string | null
	text: string | null
	button: { payload: string; text: string } | null
	contextWamid: string | null
	callbackData: string | null
	createdAt: number
	status: Status
	errorCode: number | null
	statuses: Array<Record<string, unknown>>
	conversation: Conversation
	quickReplies: Array<{ index: number; text: string; payload: string | null }>
	/** Other Meta message types from the extras (`{ image: {...} }`, `{ interactive: {...} }`, …). */
	extra: Record<string, unknown> | null
}

type Template = {
	id: string
	wabaId: string
	name: string
	language: string
	category: string
	status: string
	parameterFormat: 'NAMED' | 'POSITIONAL'
	components: Component[]
	shape: TemplateShape
	qualityScore: string
	rejectedReason: string
	rejectionInfo: { reason: string; recommendation: string } | null
	createdAt: number
	/** When the template was edited while APPROVED: Meta's edit limits count only these. */
	approvedEdits: number[]
}

export type LedgerEntry = {
	wamid: string
	phoneNumberId: string
	to: string
	waId: string
	type: string
	template: string | null
	language: string | null
	callbackData: string | null
	acceptedAt: string
	status: Status
	errorCode: number | null
}

/** A mark-as-read call; `known` is false when the wamid is no inbound message the sandbox holds. */
export type ReadReceipt = {
	phoneNumberId: string
	wamid: string
	known: boolean
	receivedAt: string
}

class HttpError extends Error {
	constructor(
		readonly status: number,
		readonly body: unknown,
	) {
		super(`HTTP ${status}`)
	}
}

function mulberry32(seed: number) {
	let a = seed >>> 0
	return () => {
		a = (a + 0x6d2b79f5) >>> 0
		let t = a
		t = Math.imul(t ^ (t >>> 15), t | 1)
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296
	}
}

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString())
const unix = (ms: number) => String(Math.floor(ms / 1000))
const DAY = 24 * 60 * 60 * 1000
const VERSION = /^v\d+(\.\d+)?$/
/** Old receipts are dropped beyond this, so a long-running sandbox stays small. */
const MAX_READ_RECEIPTS = 10_000
/** The message types whose `kapso.has_media` is true. */
const MEDIA_MESSAGE_TYPES = new Set(['image', 'video', 'audio', 'document', 'sticker'])

const DEFAULT_TEMPLATES: NonNullable<SandboxSettingsInput['templates']> = [
	{
		name: 'hello_world',
		language: 'en_US',
		category: 'UTILITY',
		components: [
			{ type: 'HEADER', format: 'TEXT', text: 'Hello World' },
			{
				type: 'BODY',
				text: 'Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.',
			},
			{ type: 'FOOTER', text: 'WhatsApp Business Platform sample message' },
		],
	},
]

const DAY_MS = 24 * 3600_000
const EDITABLE_STATUSES = new Set(['APPROVED', 'REJECTED', 'PAUSED'])

function metaError(status: number, code: number, title: string, details: string, subcode?: number) {
	return new HttpError(status, {
		error: {
			message: `(#${code}) ${title}`,
			type: 'OAuthException',
			code,
			...(subcode ? { error_subcode: subcode } : {}),
			error_data: { messaging_product: 'whatsapp', details },
			fbtrace_id: `Asbx${Math.random().toString(36).slice(2, 12)}`,
		},
	})
}

function send(
	res: http.ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
) {
	const text = JSON.stringify(body)
	res.writeHead(status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(text),
		...headers,
	})
	res.end(text)
}

function readBody(req: http.IncomingMessage, limit = 5 * 1024 * 1024): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = []
		let size = 0
		req.on('data', (chunk: Buffer) => {
			size += chunk.length
			if (size > limit) {
				reject(new HttpError(413, { error: 'Payload too large' }))
				req.destroy()
				return
			}
			chunks.push(chunk)
		})
		req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
		req.on('error', reject)
	})
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
	const raw = await readBody(req)
	if (raw.length === 0) return {}
	try {
		const parsed = JSON.parse(raw.toString('utf8'))
		if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed
	} catch {
		// fall through to the error below
	}
	throw metaError(400, 100, 'Invalid parameter', 'The request body is not a JSON object')
}

/** The path and query of a request target; cheaper than `new URL` on the send path. */
function parseUrl(target: string) {
	const mark = target.indexOf('?')
	return mark === -1
		? { pathname: target, searchParams: new URLSearchParams() }
		: { pathname: target.slice(0, mark), searchParams: new URLSearchParams(target.slice(mark + 1)) }
}

function cursor(offset: number) {
	return Buffer.from(String(offset)).toString('base64url')
}

function offsetOf(value: string | null) {
	if (!value) return null
	const offset = Number(Buffer.from(value, 'base64url').toString())
	return Number.isInteger(offset) && offset >= 0 ? offset : null
}

/** Graph-style cursor paging over an already filtered and ordered list. */
function page<T>(items: T[], query: URLSearchParams, path: string, max = 100) {
	const limit = Math.min(max, Math.max(1, Number(query.get('limit')) || 25))
	const after = offsetOf(query.get('after'))
	const before = offsetOf(query.get('before'))
	const start = after != null ? after : before != null ? Math.max(0, before - limit) : 0
	const end = Math.min(items.length, start + limit)
	const data = items.slice(start, end)
	const paging: Record<string, unknown> = {
		cursors: { before: cursor(start), after: cursor(end) },
	}
	if (end < items.length) paging.next = `${path}?limit=${limit}&after=${cursor(end)}`
	if (start > 0) paging.previous = `${path}?limit=${limit}&before=${cursor(start)}`
	return { data, paging }
}

export type SandboxServer = Awaited<ReturnType<typeof createSandboxServer>>

/**
 * Starts the sandbox: a stand-in for Kapso's Meta proxy (`/meta/whatsapp/{version}/…`) and
 * Platform API (`/platform/v1/…`) with signed v2 webhooks, fault injection and a ledger.
 */
export async function createSandboxServer(
	input: SandboxSettingsInput = {},
	options: { port?: number; host?: string } = {},
) {
	let raw: Record<string, unknown> = { ...input }
	let settings: SandboxSettings = parseSettings(raw)
	let random = mulberry32(settings.seed ?? Math.floor(Math.random() * 2 ** 31))
	const instance = Math.random().toString(36).slice(2, 8).toUpperCase()
	let counter = 0
	let templateCounter = 0

	const scheduler = createScheduler()
	const webhookUrl = () =>
		settings.webhookUrl === undefined
			? `http://127.0.0.1:${process.env.PORT ?? 3000}/webhooks/kapso`
			: settings.webhookUrl
	const webhooks = createWebhookSender(scheduler, {
		url: webhookUrl,
		secret: () => settings.webhookSecret,
		metaUrl: () => settings.metaWebhookUrl,
		metaSecret: () => settings.metaAppSecret,
		concurrency: () => settings.webhookConcurrency,
		timeoutMs: () => settings.webhookTimeoutMs,
		retryDelaysMs: () => settings.webhookRetryDelaysMs,
		queueLimit: () => settings.webhookQueueLimit,
		shuffle: () => settings.chaos.shuffle,
		random: () => random(),
	})

	const extras = createSandboxExtras({
		authorised: (req) => authorised(req),
		outboundMessage: (wamid) => {
			const message = messages.get(wamid)
			return message && message.direction === 'outbound'
				? { phoneNumberId: message.phoneNumberId, createdAt: message.createdAt }
				: null
		},
		deliverInbound: (delivery) => {
			const message = inbound({
				phoneNumberId: delivery.phoneNumberId,
				from: delivery.from,
				contextWamid: delivery.contextWamid ?? undefined,
				other: { type: delivery.type, body: delivery.body, preview: delivery.preview },
			})
			return { wamid: message.wamid, conversationId: message.conversation.id }
		},
	})

	let phones = new Map<string, Phone>()
	let conversations = new Map<string, Conversation>()
	let conversationsById = new Map<string, Conversation>()
	let conversationsByWaId = new Map<string, Conversation[]>()
	let messages = new Map<string, Message>()
	let ledger: Message[] = []
	let readReceipts: ReadReceipt[] = []
	let templates = new Map<string, Template>()
	let byCallback = new Map<string, number>()
	let byPhoneTemplate = new Map<string, number>()
	let marketingPreferences = new Map<string, 'stopped' | 'resumed'>()
	let preferenceSequence = 0
	let counters = freshCounters()
	let lastPruneAt = 0

	function freshCounters() {
		return {
			accepted: 0,
			rejectedByCode: {} as Record<string, number>,
			faults: {
				http429: 0,
				http409: 0,
				http500: 0,
				http503: 0,
				reset: 0,
				timeout: 0,
				slow: 0,
				lostResponse: 0,
				acceptedTimeout: 0,
			},
			statuses: { sent: 0, delivered: 0, read: 0, failed: 0 },
			failedByCode: {} as Record<string, number>,
			replies: { text: 0, button: 0, optOut: 0 },
			duplicates: {
				callbackDataKeys: 0,
				callbackDataExtraSends: 0,
				phoneTemplateKeys: 0,
				phoneTemplateExtraSends: 0,
			},
			templatesCreated: 0,
			templatesEdited: 0,
			pruned: { messages: 0, conversations: 0 },
		}
	}

	function reset() {
		scheduler.clear()
		webhooks.reset()
		phones = new Map()
		conversations = new Map()
		conversationsById = new Map()
		conversationsByWaId = new Map()
		messages = new Map()
		ledger = []
		readReceipts = []
		templates = new Map()
		byCallback = new Map()
		byPhoneTemplate = new Map()
		marketingPreferences = new Map()
		extras.reset()
		counters = freshCounters()
		lastPruneAt = 0
		random = mulberry32(settings.seed ?? Math.floor(Math.random() * 2 ** 31))
		for (const seed of settings.templates ??
			parseSettings({ templates: DEFAULT_TEMPLATES }).templates ??
			[]) {
			const template = addTemplate(seed.wabaId ?? settings.defaultWabaId, {
				name: seed.name,
				language: seed.language,
				category: seed.category,
				parameterFormat: seed.parameterFormat,
				components: seed.components,
			})
			template.status = seed.status
		}
		phoneOf(settings.defaultPhoneNumberId)
	}

	function updateSettings(patch: Record<string, unknown>) {
		const next = mergeSettings(raw, patch)
		settings = parseSettings(next)
		raw = next
		if (patch.seed !== undefined) random = mulberry32(settings.seed ?? 1)
		for (const phone of phones.values()) {
			const configured = settings.phoneNumbers[phone.id]
			if (configured?.wabaId) phone.wabaId = configured.wabaId
			if (configured?.displayPhoneNumber) phone.displayPhoneNumber = configured.displayPhoneNumber
		}
		return settings
	}

	/** Unknown ids become new numbers in the default WABA, so clients need no setup. */
	function phoneOf(id: string): Phone {
		let phone = phones.get(id)
		if (!phone) {
			const configured = settings.phoneNumbers[id]
			const isDefault = id === settings.defaultPhoneNumberId
			phone = {
				id,
				wabaId: configured?.wabaId ?? settings.defaultWabaId,
				displayPhoneNumber:
					configured?.displayPhoneNumber ??
					(isDefault
						? settings.defaultDisplayPhoneNumber
						: `+1 555 ${id.slice(-7, -4)} ${id.slice(-4)}`),
				window: [],
				windowHead: 0,
				maxInAnyOneSecond: 0,
				accepted: 0,
				messages: [],
			}
			phones.set(id, phone)
		}
		return phone
	}

	function rateOf(phone: Phone) {
		return settings.phoneNumbers[phone.id]?.ratePerSecond ?? settings.defaultRatePerSecond
	}

	/** Sliding one-second window: true when one more send stays within the number's rate. */
	function takeThroughput(phone: Phone, now: number) {
		const { window } = phone
		while (phone.windowHead < window.length && window[phone.windowHead] <= now - 1000)
			phone.windowHead++
		if (phone.windowHead > 1024 && phone.windowHead * 2 > window.length) {
			window.splice(0, phone.windowHead)
			phone.windowHead = 0
		}
		const inWindow = window.length - phone.windowHead
		if (inWindow >= rateOf(phone)) return false
		window.push(now)
		phone.maxInAnyOneSecond = Math.max(phone.maxInAnyOneSecond, inWindow + 1)
		return true
	}

	function conversationOf(phone: Phone, waId: string, now: number) {
		const key = `${phone.id}|${waId}`
		let conversation = conversations.get(key)
		let isNew = false
		if (!conversation) {
			isNew = true
			conversation = {
				id: randomUUID(),
				phoneNumberId: phone.id,
				waId,
				status: 'active',
				createdAt: now,
				updatedAt: now,
				lastInboundAt: null,
				lastOutboundAt: null,
				messages: [],
				contactName: `Contact ${waId.slice(-4)}`,
			}
			conversations.set(key, conversation)
			conversationsById.set(conversation.id, conversation)
			const list = conversationsByWaId.get(waId)
			if (list) list.push(conversation)
			else conversationsByWaId.set(waId, [conversation])
		}
		return { conversation, isNew }
	}

	function addTemplate(
		wabaId: string,
		input: {
			name: string
			language: string
			category: string
			parameterFormat?: string
			components: Component[]
		},
	): Template {
		const shape = shapeOf(input.components, input.parameterFormat)
		const template: Template = {
			id: String(700000000000000 + ++templateCounter),
			wabaId,
			name: input.name,
			language: input.language,
			category: input.category.toUpperCase(),
			status: 'PENDING',
			parameterFormat:
				input.parameterFormat === 'NAMED' || input.parameterFormat === 'POSITIONAL'
					? input.parameterFormat
					: shape.parameterFormat,
			components: input.components,
			shape,
			qualityScore: 'UNKNOWN',
			rejectedReason: 'NONE',
			rejectionInfo: null,
			createdAt: Date.now(),
			approvedEdits: [],
		}
		templates.set(template.id, template)
		return template
	}

	function scheduleReview(template: Template) {
		if (settings.review.delayMs === 0) review(template)
		else scheduler.after(settings.review.delayMs, () => review(template))
	}

	function review(template: Template) {
		if (template.status !== 'PENDING') return
		const mode = settings.review.mode
		const rejection =
			mode === 'approve'
				? null
				: mode === 'reject'
					? {
							reason: 'INCORRECT_CATEGORY',
							details: 'The sandbox is set to reject every template.',
						}
					: reviewRejection(template.components, template.parameterFormat)
		if (rejection) {
			template.status = 'REJECTED'
			template.rejectedReason = rejection.reason
			template.rejectionInfo = {
				reason: rejection.details,
				recommendation: 'Fix the template and submit it again.',
			}
		} else template.status = 'APPROVED'
		emitTemplateStatus(template)
	}

	/** Meta's `message_template_status_update`, as Kapso forwards it (only when `metaWebhookUrl` is set). */
	function emitTemplateStatus(
		template: Template,
		otherInfo?: { title: string; description: string },
	) {
		if (!settings.metaWebhookUrl) return
		const now = Date.now()
		const value: Record<string, unknown> = {
			event: template.status,
			message_template_id: Number(template.id),
			message_template_name: template.name,
			message_template_language: template.language,
			message_template_category: template.category,
			reason: template.status === 'REJECTED' ? template.rejectedReason : null,
		}
		if (template.rejectionInfo && template.status === 'REJECTED')
			value.rejection_info = template.rejectionInfo
		if (otherInfo) value.other_info = otherInfo
		if (template.status === 'DISABLED')
			value.disable_info = { disable_date: Math.floor(now / 1000) }
		const payload = {
			object: 'whatsapp_business_account',
			entry: [
				{
					id: template.wabaId,
					time: Math.floor(now / 1000),
					changes: [{ field: 'message_template_status_update', value }],
				},
			],
		}
		webhooks.enqueue(webhooks.metaEvent('message_template_status_update', payload))
	}

	function findTemplate(wabaId: string, name: string, language: string) {
		for (const template of templates.values()) {
			if (template.wabaId === wabaId && template.name === name && template.language === language)
				return template
		}
		return null
	}

	function templateJson(template: Template, fields: string | null) {
		const full: Record<string, unknown> = {
			id: template.id,
			name: template.name,
			language: template.language,
			status: template.status,
			category: template.category,
			parameter_format: template.parameterFormat,
			components: template.components,
			quality_score: { score: template.qualityScore, date: Math.floor(template.createdAt / 1000) },
			rejected_reason: template.rejectedReason,
			...(template.rejectionInfo ? { rejection_info: template.rejectionInfo } : {}),
		}
		if (!fields) return full
		const wanted = new Set(['id', ...fields.split(',').map((field) => field.trim())])
		return Object.fromEntries(Object.entries(full).filter(([key]) => wanted.has(key)))
	}

	function conversationJson(conversation: Conversation) {
		const last = conversation.messages[conversation.messages.length - 1]
		return {
			id: conversation.id,
			phone_number: `+${conversation.waId}`,
			status: conversation.status,
			last_active_at: iso(conversation.updatedAt),
			created_at: iso(conversation.createdAt),
			updated_at: iso(conversation.updatedAt),
			metadata: {},
			phone_number_id: conversation.phoneNumberId,
			kapso: {
				contact_name: conversation.contactName,
				messages_count: conversation.messages.length,
				last_message_id: last?.wamid ?? null,
				last_message_type: last?.type ?? null,
				last_message_timestamp: last ? iso(last.createdAt) : null,
				last_message_text: last ? contentOf(last) : null,
				last_inbound_at: iso(conversation.lastInboundAt),
				last_outbound_at: iso(conversation.lastOutboundAt),
			},
		}
	}

	function contentOf(message: Message) {
		if (message.button) return message.button.text
		if (message.text != null) return message.text
		return message.templateName ? `[Template: ${message.templateName}]` : ''
	}

	/** A message as Kapso's history endpoints return it (Meta shape plus a `kapso` block). */
	function messageJson(message: Message, statusOverride?: Status, includeStatuses = false) {
		const body: Record<string, unknown> = {
			id: message.wamid,
			timestamp: unix(message.createdAt),
			type: message.type,
		}
		if (message.direction === 'inbound') body.from = message.waId
		if (message.contextWamid)
			body.context = { from: message.phoneNumberId, id: message.contextWamid }
		if (message.extra) Object.assign(body, message.extra)
		else if (message.type === 'template') body.template = message.template
		else if (message.type === 'button') body.button = message.button
		else body.text = { body: message.text }
		body.kapso = {
			direction: message.direction,
			status: statusOverride ?? (message.status === 'accepted' ? 'pending' : message.status),
			processing_status: message.direction === 'inbound' ? 'pending' : 'completed',
			origin: 'cloud_api',
			phone_number: `+${message.waId}`,
			has_media: MEDIA_MESSAGE_TYPES.has(message.type),
			whatsapp_conversation_id: message.conversation.id,
			contact_name: message.conversation.contactName,
			content: contentOf(message),
			...(includeStatuses && message.direction === 'outbound'
				? { statuses: message.statuses }
				: {}),
		}
		return body
	}

	function eventPayload(message: Message, status: Status, isNew = false) {
		return {
			message: messageJson(message, status, true),
			conversation: conversationJson(message.conversation),
			is_new_conversation: isNew,
			phone_number_id: message.phoneNumberId,
		}
	}

	/** Hands one webhook to the sender, through the chaos switches. */
	function emit(event: string, payload: unknown) {
		if (!webhookUrl()) return
		const chaos = settings.chaos
		if (chaos.dropShare > 0 && random() < chaos.dropShare) {
			webhooks.stats.dropped++
			return
		}
		const item = webhooks.event(event, payload)
		if (chaos.badSignatureShare > 0 && random() < chaos.badSignatureShare) {
			webhooks.stats.forged++
			webhooks.enqueue({ ...item, forged: true })
		}
		if (chaos.delayShare > 0 && random() < chaos.delayShare) {
			webhooks.stats.delayed++
			scheduler.after(chaos.delayMs, () => webhooks.enqueue(item))
		} else webhooks.enqueue(item)
		if (chaos.duplicateShare > 0 && random() < chaos.duplicateShare) {
			webhooks.stats.duplicated++
			// Half look like Kapso's own retries (same key), half like a second event from Meta.
			const copy = random() < 0.5 ? item : { ...item, idempotencyKey: randomUUID() }
			scheduler.after(Math.floor(random() * 1000), () => webhooks.enqueue(copy))
		}
	}

	function applyStatus(
		message: Message,
		status: 'sent' | 'delivered' | 'read' | 'failed',
		code?: number,
	) {
		const now = Date.now()
		const entry: Record<string, unknown> = {
			id: message.wamid,
			status,
			timestamp: unix(now),
			recipient_id: message.waId,
		}
		if (message.callbackData) entry.biz_opaque_callback_data = message.callbackData
		if (status === 'sent' || status === 'delivered') {
			entry.pricing = {
				billable: message.type === 'template',
				pricing_model: 'PMP',
				type: message.type === 'template' ? 'regular' : 'free_customer_service',
				category:
					message.type === 'template' ? (message.category ?? 'marketing').toLowerCase() : 'service',
			}
		}
		if (status === 'failed' && code) {
			const title = FAILURE_TITLES[code] ?? 'Message failed'
			entry.errors = [
				{
					code,
					title,
					message: title,
					error_data: { details: title },
					href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
				},
			]
			message.errorCode = code
			counters.failedByCode[code] = (counters.failedByCode[code] ?? 0) + 1
		}
		message.statuses.push(entry)
		counters.statuses[status]++
		const current = message.status
		if (status === 'failed') {
			if (current !== 'delivered' && current !== 'read') message.status = 'failed'
		} else if (current !== 'failed' && RANK[status] > RANK[current]) message.status = status
		if (webhookUrl()) emit(`whatsapp.message.${status}`, eventPayload(message, status))
	}

	/** Plans what happens to an accepted message: statuses, failure, maybe a reply. */
	function plan(message: Message, undeliverable: boolean, outsideWindow: boolean) {
		const s = settings.statuses
		const start = Date.now()
		const when = (delay: number) =>
			start +
			(settings.chaos.shuffle ? random() * Math.max(s.readDelayMs, 1) : delay) +
			random() * s.jitterMs
		if (undeliverable || outsideWindow) {
			const code = undeliverable ? 131026 : 131047
			scheduler.at(when(s.sentDelayMs), () => applyStatus(message, 'failed', code))
			return
		}
		scheduler.at(when(s.sentDelayMs), () => applyStatus(message, 'sent'))
		const failure = pickFailure()
		if (failure) {
			scheduler.at(when(s.deliveredDelayMs), () => applyStatus(message, 'failed', failure))
			return
		}
		if (random() >= s.deliveredShare) return
		scheduler.at(when(s.deliveredDelayMs), () => applyStatus(message, 'delivered'))
		const read = random() < s.readShare
		if (read) scheduler.at(when(s.readDelayMs), () => applyStatus(message, 'read'))
		const replies = settings.replies
		if (message.type === 'template' && replies.share > 0 && random() < replies.share) {
			const base = read ? s.readDelayMs : s.deliveredDelayMs
			scheduler.at(start + base + replies.delayMs, () => autoReply(message))
		}
	}

	function pickFailure(): number | null {
		const failures = settings.failures
		let draw = random()
		for (const [code, share] of Object.entries(failures)) {
			if (draw < share) return Number(code)
			draw -= share
		}
		return null
	}

	function autoReply(message: Message) {
		const replies = settings.replies
		const draw = random()
		if (draw < replies.optOutShare) {
			const keyword =
				replies.optOutKeywords[Math.floor(random() * replies.optOutKeywords.length)] ?? 'STOP'
			inbound({ phoneNumberId: message.phoneNumberId, from: message.waId, text: keyword })
			counters.replies.optOut++
			return
		}
		if (draw < replies.optOutShare + replies.buttonShare && message.quickReplies.length > 0) {
			const button = message.quickReplies[Math.floor(random() * message.quickReplies.length)]
			inbound({
				phoneNumberId: message.phoneNumberId,
				from: message.waId,
				button: { text: button.text, payload: button.payload ?? button.text },
				contextWamid: message.wamid,
			})
			counters.replies.button++
			return
		}
		const text = replies.texts[Math.floor(random() * replies.texts.length)]
		inbound({ phoneNumberId: message.phoneNumberId, from: message.waId, text })
		counters.replies.text++
	}

	/** A contact writes to the business: stored, opens the 24 h window, `message.received` webhook. */
	function inbound(input: {
		phoneNumberId?: string
		from: string
		text?: string
		button?: { text: string; payload?: string }
		contextWamid?: string
		/** Any other Meta message type, built by the extras: its type, body and preview text. */
		other?: { type: string; body: Record<string, unknown>; preview: string }
	}) {
		const phone = phoneOf(input.phoneNumberId || settings.defaultPhoneNumberId)
		const waId = input.from.replace(/\D/g, '')
		const now = Date.now()
		const { conversation, isNew } = conversationOf(phone, waId, now)
		let contextWamid = input.contextWamid ?? null
		if (input.button && !contextWamid) {
			for (let i = conversation.messages.length - 1; i >= 0; i--) {
				const previous = conversation.messages[i]
				if (previous.direction === 'outbound' && previous.type === 'template') {
					contextWamid = previous.wamid
					break
				}
			}
		}
		const message: Message = {
			wamid: nextWamid(),
			phoneNumberId: phone.id,
			direction: 'inbound',
			to: phone.displayPhoneNumber,
			waId,
			type: input.other ? input.other.type : input.button ? 'button' : 'text',
			template: null,
			templateName: null,
			templateLanguage: null,
			category: null,
			text: input.other ? input.other.preview : input.button ? null : (input.text ?? ''),
			button: input.button
				? { text: input.button.text, payload: input.button.payload ?? input.button.text }
				: null,
			contextWamid,
			callbackData: null,
			createdAt: now,
			status: 'received',
			errorCode: null,
			statuses: [],
			conversation,
			quickReplies: [],
			extra: input.other ? input.other.body : null,
		}
		messages.set(message.wamid, message)
		phone.messages.push(message)
		conversation.messages.push(message)
		conversation.lastInboundAt = now
		conversation.updatedAt = now
		conversation.status = 'active'
		if (webhookUrl()) emit('whatsapp.message.received', eventPayload(message, 'received', isNew))
		maybePrune(now)
		return message
	}

	/** Index of the first message created at or after `cutoff` (arrays are in creation order). */
	function firstKept(list: Message[], cutoff: number) {
		let lo = 0
		let hi = list.length
		while (lo < hi) {
			const mid = (lo + hi) >>> 1
			if (list[mid].createdAt < cutoff) lo = mid + 1
			else hi = mid
		}
		return lo
	}

	/**
	 * Forgets messages older than `retentionMs`, at most once a second, so a sandbox that runs for
	 * hours holds minutes of history. Statuses still scheduled for a pruned message are still sent.
	 */
	function maybePrune(now: number) {
		const retention = settings.retentionMs
		if (retention === null || now - lastPruneAt < 1000) return
		lastPruneAt = now
		const cutoff = now - retention
		ledger.splice(0, firstKept(ledger, cutoff))
		const touched = new Set<Conversation>()
		for (const phone of phones.values()) {
			const gone = phone.messages.splice(0, firstKept(phone.messages, cutoff))
			for (const message of gone) {
				messages.delete(message.wamid)
				touched.add(message.conversation)
				if (message.callbackData) byCallback.delete(message.callbackData)
				if (message.templateName)
					byPhoneTemplate.delete(
						`${message.phoneNumberId}|${message.waId}|${message.templateName}|${message.templateLanguage}`,
					)
			}
			counters.pruned.messages += gone.length
		}
		for (const conversation of touched) {
			conversation.messages.splice(0, firstKept(conversation.messages, cutoff))
			if (conversation.messages.length > 0) continue
			conversations.delete(`${conversation.phoneNumberId}|${conversation.waId}`)
			conversationsById.delete(conversation.id)
			const list = conversationsByWaId.get(conversation.waId)?.filter((c) => c !== conversation)
			if (list?.length) conversationsByWaId.set(conversation.waId, list)
			else conversationsByWaId.delete(conversation.waId)
			counters.pruned.conversations++
		}
	}

	/** A contact stops or resumes marketing messages in WhatsApp (Kapso's contact event). */
	function setMarketingPreference(input: {
		phoneNumberId?: string
		from: string
		status: 'stopped' | 'resumed'
	}) {
		const phone = phoneOf(input.phoneNumberId ?? settings.defaultPhoneNumberId)
		const waId = input.from.replace(/\D/g, '')
		const key = `${phone.id}|${waId}`
		const previous = marketingPreferences.get(key) ?? null
		marketingPreferences.set(key, input.status)
		const now = new Date().toISOString()
		if (webhookUrl())
			emit('whatsapp.contact.marketing_preference_changed', {
				contact: {
					id: `contact_${waId}`,
					wa_id: waId,
					profile_name: `Contact ${waId.slice(-4)}`,
					display_name: `Contact ${waId.slice(-4)}`,
					created_at: now,
					updated_at: now,
				},
				marketing_preference: {
					status: input.status,
					previous_status: previous,
					detail: input.status === 'stopped' ? 'User requested to stop marketing messages' : null,
					occurred_at: now,
					sequence: ++preferenceSequence,
				},
				phone_number_id: phone.id,
			})
		return { waId, status: input.status }
	}

	function nextWamid() {
		counter++
		return `wamid.HBgL${instance}${counter.toString(36).toUpperCase().padStart(10, '0')}`
	}

	function bump(map: Map<string, number>, key: string) {
		const count = (map.get(key) ?? 0) + 1
		map.set(key, count)
		return count
	}

	function preAcceptFaultShare(faults: SandboxSettings['faults']) {
		return (
			faults.http429Share +
			faults.http409Share +
			faults.http500Share +
			faults.http503Share +
			faults.resetShare +
			faults.timeoutShare
		)
	}

	/** Faults that strike before anything is accepted; true when one was injected. */
	function injectPreAcceptFault(req: http.IncomingMessage, res: http.ServerResponse) {
		const faults = settings.faults
		const pre: Array<[number, keyof typeof counters.faults, () => void]> = [
			[
				faults.http429Share,
				'http429',
				() =>
					send(
						res,
						429,
						{ error: 'Rate limit exceeded' },
						faults.retryAfterSeconds != null
							? { 'Retry-After': String(faults.retryAfterSeconds) }
							: {},
					),
			],
			[
				faults.http409Share,
				'http409',
				() =>
					send(res, 409, {
						error: 'Another message in-flight for this conversation. Retry shortly.',
					}),
			],
			[
				faults.http500Share,
				'http500',
				() => sendHttpError(res, metaError(500, 131000, 'Something went wrong', 'Internal error')),
			],
			[faults.http503Share, 'http503', () => send(res, 503, { error: 'Service Unavailable' })],
			[faults.resetShare, 'reset', () => req.socket.destroy()],
			[faults.timeoutShare, 'timeout', () => hold(req)],
		]
		let draw = random()
		for (const [share, name, act] of pre) {
			if (share > 0 && draw < share) {
				counters.faults[name]++
				req.resume()
				act()
				return true
			}
			draw -= share
		}
		return false
	}

	/** POST /{phone_number_id}/messages: template and text sends, and mark-as-read. */
	async function handleSend(req: http.IncomingMessage, res: http.ServerResponse, phone: Phone) {
		const faults = settings.faults
		if (preAcceptFaultShare(faults) > 0 && injectPreAcceptFault(req, res)) return

		const body = await readJson(req)
		if (body.status === 'read' && typeof body.message_id === 'string') {
			const read = messages.get(body.message_id)
			const known = read?.direction === 'inbound'
			if (known) read.status = 'read'
			// Kept because the answer is success even for unknown wamids, so only this list shows
			// whether the app sent the receipt and for which message.
			if (readReceipts.length >= MAX_READ_RECEIPTS) readReceipts.shift()
			readReceipts.push({
				phoneNumberId: phone.id,
				wamid: body.message_id,
				known,
				receivedAt: new Date().toISOString(),
			})
			return send(res, 200, { success: true })
		}
		if (body.messaging_product !== 'whatsapp')
			throw metaError(400, 100, 'Invalid parameter', 'messaging_product must be "whatsapp"')
		const to = typeof body.to === 'string' ? body.to : ''
		if (!to) throw metaError(400, 100, 'Invalid parameter', 'to is required')
		const type = body.type ?? 'text'
		if (type !== 'template' && type !== 'text')
			throw metaError(
				400,
				100,
				'Invalid parameter',
				`the sandbox sends template and text messages, not ${String(type)}`,
			)
		const waId = plausibleWaId(to)
		const digits = waId ?? to.replace(/\D/g, '')
		if (digits !== '' && digits === phone.displayPhoneNumber.replace(/\D/g, ''))
			throw metaError(
				400,
				131021,
				'Recipient cannot be sender',
				'The recipient is the sending number',
			)
		const callbackData =
			typeof body.biz_opaque_callback_data === 'string' ? body.biz_opaque_callback_data : null
		if (callbackData && callbackData.length > 512)
			throw metaError(
				400,
				100,
				'Invalid parameter',
				'biz_opaque_callback_data is longer than 512 characters',
			)

		let template: Template | null = null
		let templatePayload: Record<string, unknown> | null = null
		let quickReplies: Message['quickReplies'] = []
		let text: string | null = null
		if (type === 'template') {
			templatePayload = (body.template ?? {}) as Record<string, unknown>
			const name = typeof templatePayload.name === 'string' ? templatePayload.name : ''
			const language = String(
				(templatePayload.language as { code?: unknown } | undefined)?.code ?? '',
			)
			template = findTemplate(phone.wabaId, name, language)
			if (
				!template ||
				(template.status !== 'APPROVED' &&
					template.status !== 'PAUSED' &&
					template.status !== 'DISABLED')
			)
				throw metaError(
					404,
					132001,
					'Template name does not exist in the translation',
					`template name (${name}) does not exist in ${language}`,
				)
			if (template.status === 'PAUSED')
				throw metaError(
					400,
					132015,
					'Template is paused',
					`template ${name} is paused due to low quality`,
				)
			if (template.status === 'DISABLED')
				throw metaError(
					400,
					132016,
					'Template is disabled',
					`template ${name} was disabled due to low quality`,
				)
			if (
				template.category === 'MARKETING' &&
				marketingPreferences.get(`${phone.id}|${digits}`) === 'stopped'
			)
				throw new HttpError(422, {
					error: 'The contact has stopped marketing messages from this number',
					code: 'marketing_preference_stopped',
				})
			const params = sendParamsOf(templatePayload.components)
			const problem = sendError(template.shape, params)
			if (problem)
				throw metaError(
					problem.code === 132001 ? 404 : 400,
					problem.code,
					problem.title,
					problem.details,
				)
			quickReplies = template.shape.quickReplies.map((button) => ({
				...button,
				payload: params.quickReplyPayloads.get(button.index) ?? null,
			}))
		} else {
			const textBody = (body.text as { body?: unknown } | undefined)?.body
			if (typeof textBody !== 'string' || textBody === '')
				throw metaError(400, 100, 'Invalid parameter', 'text.body is required')
			text = textBody
		}

		const now = Date.now()
		if (!takeThroughput(phone, now))
			throw metaError(
				400,
				130429,
				'Rate limit hit',
				`Cloud API message throughput of ${rateOf(phone)} messages per second has been reached`,
			)

		const { conversation, isNew: _isNew } = conversationOf(phone, digits, now)
		const context = (body.context as { message_id?: unknown } | undefined)?.message_id
		const message: Message = {
			wamid: nextWamid(),
			phoneNumberId: phone.id,
			direction: 'outbound',
			to,
			waId: digits,
			type,
			template: templatePayload,
			templateName: template?.name ?? null,
			templateLanguage: template?.language ?? null,
			category: template?.category ?? null,
			text,
			button: null,
			contextWamid: typeof context === 'string' ? context : null,
			callbackData,
			createdAt: now,
			status: 'accepted',
			errorCode: null,
			statuses: [],
			conversation,
			quickReplies,
			extra: null,
		}
		messages.set(message.wamid, message)
		ledger.push(message)
		phone.messages.push(message)
		conversation.messages.push(message)
		conversation.lastOutboundAt = now
		conversation.updatedAt = now
		counters.accepted++
		phone.accepted++
		maybePrune(now)
		if (callbackData && bump(byCallback, callbackData) > 1) {
			counters.duplicates.callbackDataExtraSends++
			if (byCallback.get(callbackData) === 2) counters.duplicates.callbackDataKeys++
		}
		if (template) {
			const key = `${phone.id}|${digits}|${template.name}|${template.language}`
			const count = bump(byPhoneTemplate, key)
			if (count > 1) {
				counters.duplicates.phoneTemplateExtraSends++
				if (count === 2) counters.duplicates.phoneTemplateKeys++
			}
		}
		const undeliverable =
			waId === null || settings.undeliverablePrefixes.some((prefix) => digits.startsWith(prefix))
		const outsideWindow =
			type === 'text' &&
			settings.enforceServiceWindow &&
			(conversation.lastInboundAt == null || now - conversation.lastInboundAt > DAY)
		plan(message, undeliverable, outsideWindow)

		const answer = {
			messaging_product: 'whatsapp',
			contacts: [{ input: to, wa_id: digits }],
			messages: [{ id: message.wamid, message_status: 'accepted' }],
		}
		if (faults.lostResponseShare + faults.acceptedTimeoutShare + faults.slowShare === 0)
			return send(res, 200, answer)
		let after = random()
		for (const [share, name] of [
			[faults.lostResponseShare, 'lostResponse'],
			[faults.acceptedTimeoutShare, 'acceptedTimeout'],
			[faults.slowShare, 'slow'],
		] as const) {
			if (share > 0 && after < share) {
				counters.faults[name]++
				if (name === 'lostResponse') req.socket.destroy()
				else if (name === 'acceptedTimeout') hold(req)
				else setTimeout(() => send(res, 200, answer), faults.slowMs)
				return
			}
			after -= share
		}
		send(res, 200, answer)
	}

	function hold(req: http.IncomingMessage) {
		const timer = setTimeout(() => req.socket.destroy(), settings.faults.timeoutHoldMs)
		timer.unref()
		req.socket.once('close', () => clearTimeout(timer))
	}

	function sendHttpError(res: http.ServerResponse, error: HttpError) {
		send(res, error.status, error.body)
	}

	function countRejection(error: HttpError) {
		const body = error.body as { error?: { code?: unknown } }
		const code = typeof body?.error === 'object' ? body.error?.code : undefined
		const key = typeof code === 'number' ? String(code) : `http_${error.status}`
		counters.rejectedByCode[key] = (counters.rejectedByCode[key] ?? 0) + 1
	}

	function listMessages(query: URLSearchParams, source: Message[]) {
		const direction = query.get('direction')
		const status = query.get('status')
		const since = query.get('since') ? Date.parse(query.get('since')!) : null
		const until = query.get('until') ? Date.parse(query.get('until')!) : null
		const result: Message[] = []
		// Newest first, like Kapso's history.
		for (let i = source.length - 1; i >= 0; i--) {
			const message = source[i]
			if (direction && message.direction !== direction) continue
			if (status) {
				const current = message.status === 'accepted' ? 'pending' : message.status
				if (current !== status) continue
			}
			if (since != null && message.createdAt < since) continue
			if (until != null && message.createdAt > until) continue
			result.push(message)
		}
		return result
	}

	function messagesForQuery(query: URLSearchParams, phone: Phone | null): Message[] {
		const conversationId = query.get('conversation_id')
		if (conversationId) {
			const conversation = conversationsById.get(conversationId)
			if (!conversation || (phone && conversation.phoneNumberId !== phone.id)) return []
			return conversation.messages
		}
		const phoneNumber = query.get('phone_number')
		if (phoneNumber) {
			const list = conversationsByWaId.get(phoneNumber.replace(/\D/g, '')) ?? []
			const merged = list
				.filter((conversation) => !phone || conversation.phoneNumberId === phone.id)
				.flatMap((conversation) => conversation.messages)
			return list.length > 1 ? merged.sort((a, b) => a.createdAt - b.createdAt) : merged
		}
		if (phone) return phone.messages
		return [...phones.values()].flatMap((p) => p.messages).sort((a, b) => a.createdAt - b.createdAt)
	}

	function listConversations(query: URLSearchParams, phone: Phone | null) {
		const status = query.get('status')
		const phoneNumber = query.get('phone_number')?.replace(/\D/g, '')
		const since = query.get('last_active_since')
			? Date.parse(query.get('last_active_since')!)
			: null
		const until = query.get('last_active_until')
			? Date.parse(query.get('last_active_until')!)
			: null
		const source = phoneNumber
			? (conversationsByWaId.get(phoneNumber) ?? [])
			: [...conversations.values()]
		return source
			.filter(
				(conversation) =>
					(!phone || conversation.phoneNumberId === phone.id) &&
					(!status || conversation.status === status) &&
					(since == null || conversation.updatedAt >= since) &&
					(until == null || conversation.updatedAt <= until),
			)
			.sort((a, b) => b.updatedAt - a.updatedAt)
	}

	async function handleTemplates(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		wabaId: string,
		templateId: string | undefined,
		query: URLSearchParams,
		path: string,
	) {
		const method = req.method
		if (templateId) {
			const template = templates.get(templateId)
			if (!template || template.wabaId !== wabaId || method !== 'GET')
				throw metaError(404, 100, 'Invalid parameter', `template ${templateId} not found`)
			return send(res, 200, templateJson(template, query.get('fields')))
		}
		if (method === 'GET') {
			const name = query.get('name')
			const status = query.get('status')?.toUpperCase()
			const category = query.get('category')?.toUpperCase()
			const language = query.get('language')
			const list = [...templates.values()].filter(
				(template) =>
					template.wabaId === wabaId &&
					(!name || template.name.includes(name)) &&
					(!status || template.status === status) &&
					(!category || template.category === category) &&
					(!language || template.language === language),
			)
			const result = page(list, query, path)
			const fields = query.get('fields')
			return send(res, 200, {
				data: result.data.map((template) => templateJson(template, fields)),
				paging: result.paging,
			})
		}
		if (method === 'POST') {
			const body = await readJson(req)
			const problem = creationError({
				name: body.name,
				language: body.language,
				category: body.category,
				components: body.components,
			})
			if (problem)
				throw metaError(400, problem.code, problem.title, problem.details, problem.subcode)
			if (findTemplate(wabaId, String(body.name), String(body.language)))
				throw metaError(
					400,
					100,
					'Invalid parameter',
					`Content in this language already exists for template ${String(body.name)}`,
					2388024,
				)
			const template = addTemplate(wabaId, {
				name: String(body.name),
				language: String(body.language),
				category: String(body.category),
				parameterFormat:
					typeof body.parameter_format === 'string' ? body.parameter_format : undefined,
				components: body.components as Component[],
			})
			counters.templatesCreated++
			scheduleReview(template)
			return send(res, 200, {
				id: template.id,
				status: template.status,
				category: template.category,
			})
		}
		if (method === 'DELETE') {
			const name = query.get('name')
			const hsmId = query.get('hsm_id')
			if (!name && !hsmId) throw metaError(400, 100, 'Invalid parameter', 'name is required')
			const matches = [...templates.values()].filter(
				(template) =>
					template.wabaId === wabaId &&
					(!name || template.name === name) &&
					(!hsmId || template.id === hsmId),
			)
			if (matches.length === 0)
				throw metaError(400, 100, 'Invalid parameter', `template ${name ?? hsmId} not found`)
			for (const template of matches) templates.delete(template.id)
			return send(res, 200, { success: true })
		}
		throw metaError(400, 100, 'Invalid parameter', `unsupported method ${method}`)
	}

	/**
	 * POST /{template_id}: Meta's edit. The new components (or category) go through the same checks
	 * as a create, then the template is PENDING and reviewed again.
	 */
	async function handleEdit(req: http.IncomingMessage, res: http.ServerResponse, id: string) {
		const template = templates.get(id)
		if (!template)
			throw metaError(
				400,
				100,
				'Unsupported post request',
				`Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
				33,
			)
		const body = await readJson(req)
		if (body.components === undefined && body.category === undefined)
			throw metaError(400, 100, 'Invalid parameter', 'components or category is required')
		if (!EDITABLE_STATUSES.has(template.status))
			throw metaError(
				400,
				100,
				'Invalid parameter',
				`A template with status ${template.status} cannot be edited; only APPROVED, REJECTED or PAUSED templates can.`,
			)
		const components = (body.components ?? template.components) as Component[]
		const category = body.category ?? template.category
		const problem = creationError({
			name: template.name,
			language: template.language,
			category,
			components,
		})
		if (problem) throw metaError(400, problem.code, problem.title, problem.details, problem.subcode)
		const now = Date.now()
		if (template.status === 'APPROVED') {
			const recent = template.approvedEdits.filter((at) => at > now - 30 * DAY_MS)
			if (recent.some((at) => at > now - DAY_MS))
				throw metaError(
					400,
					100,
					'Invalid parameter',
					'An approved template can be edited once in 24 hours; it was edited less than 24 hours ago.',
				)
			if (recent.length >= 10)
				throw metaError(
					400,
					100,
					'Invalid parameter',
					'An approved template can be edited 10 times in 30 days; this one has no edits left.',
				)
			template.approvedEdits = [...recent, now]
		}
		template.components = components
		template.category = String(category).toUpperCase()
		template.shape = shapeOf(components, template.parameterFormat)
		template.status = 'PENDING'
		template.rejectedReason = 'NONE'
		template.rejectionInfo = null
		counters.templatesEdited++
		scheduleReview(template)
		return send(res, 200, { success: true })
	}

	function phoneJson(phone: Phone) {
		return {
			id: phone.id,
			display_phone_number: phone.displayPhoneNumber,
			verified_name: 'Pregón Sandbox',
			quality_rating: 'GREEN',
			code_verification_status: 'VERIFIED',
			platform_type: 'CLOUD_API',
			throughput: { level: rateOf(phone) >= 1000 ? 'HIGH' : 'STANDARD' },
			whatsapp_business_manager_messaging_limit: 'TIER_UNLIMITED',
			status: 'CONNECTED',
			business_account_id: phone.wabaId,
		}
	}

	async function handleMeta(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		rest: string[],
		query: URLSearchParams,
		path: string,
	) {
		const method = req.method
		const [first, second, third] = rest
		if (first === 'conversations' && second) {
			const conversation = conversationsById.get(second)
			if (!conversation) throw metaError(404, 100, 'Invalid parameter', 'conversation not found')
			if (method === 'PATCH') {
				const body = await readJson(req)
				if (body.status !== 'active' && body.status !== 'ended')
					throw metaError(400, 100, 'Invalid parameter', 'status must be active or ended')
				const ended = conversation.status !== 'ended' && body.status === 'ended'
				conversation.status = body.status
				conversation.updatedAt = Date.now()
				if (ended)
					emit('whatsapp.conversation.ended', {
						conversation: conversationJson(conversation),
						phone_number_id: conversation.phoneNumberId,
					})
			}
			return send(res, 200, { data: conversationJson(conversation) })
		}
		if (!first) throw metaError(400, 100, 'Invalid parameter', 'missing path')
		if (second === 'message_templates') return handleTemplates(req, res, first, third, query, path)
		if (second === 'messages') {
			const phone = phoneOf(first)
			if (method === 'POST' && !third) return handleSend(req, res, phone)
			if (method === 'GET' && third) {
				const message = messages.get(decodeURIComponent(third))
				if (!message || message.phoneNumberId !== phone.id)
					throw metaError(404, 100, 'Invalid parameter', `message ${third} not found`)
				return send(res, 200, messageJson(message, undefined, true))
			}
			if (method === 'GET') {
				const result = page(listMessages(query, messagesForQuery(query, phone)), query, path)
				return send(res, 200, {
					data: result.data.map((m) => messageJson(m)),
					paging: result.paging,
				})
			}
		}
		if (second === 'conversations' && method === 'GET') {
			const phone = phoneOf(first)
			if (third) {
				const conversation = conversationsById.get(third)
				if (!conversation || conversation.phoneNumberId !== phone.id)
					throw metaError(404, 100, 'Invalid parameter', 'conversation not found')
				return send(res, 200, conversationJson(conversation))
			}
			const result = page(listConversations(query, phone), query, path)
			return send(res, 200, { data: result.data.map(conversationJson), paging: result.paging })
		}
		// The id alone: a template edit. Sends and template creates always have a second segment.
		if (!second && method === 'POST') return handleEdit(req, res, first)
		if (!second && method === 'GET') {
			const template = templates.get(first)
			if (template) return send(res, 200, templateJson(template, query.get('fields')))
			return send(res, 200, phoneJson(phoneOf(first)))
		}
		throw metaError(
			400,
			100,
			'Unsupported request',
			`the sandbox does not serve ${method} /${rest.join('/')}`,
		)
	}

	function handlePlatform(
		res: http.ServerResponse,
		rest: string[],
		query: URLSearchParams,
		path: string,
	) {
		const [area, resource, id] = rest
		if (area !== 'whatsapp') throw new HttpError(404, { error: 'Not found' })
		const phoneId = query.get('phone_number_id')
		const phone = phoneId ? phoneOf(phoneId) : null
		if (resource === 'messages') {
			if (id) {
				const message = messages.get(decodeURIComponent(id))
				if (!message) throw new HttpError(404, { error: 'Message not found' })
				return send(res, 200, { data: messageJson(message, undefined, true) })
			}
			const result = page(listMessages(query, messagesForQuery(query, phone)), query, path)
			return send(res, 200, { data: result.data.map((m) => messageJson(m)), paging: result.paging })
		}
		if (resource === 'conversations') {
			if (id) {
				const conversation = conversationsById.get(id)
				if (!conversation) throw new HttpError(404, { error: 'Conversation not found' })
				return send(res, 200, { data: conversationJson(conversation) })
			}
			const result = page(listConversations(query, phone), query, path)
			return send(res, 200, { data: result.data.map(conversationJson), paging: result.paging })
		}
		if (resource === 'phone_numbers') {
			if (id) return send(res, 200, { data: phoneJson(phoneOf(id)) })
			return send(res, 200, { data: [...phones.values()].map(phoneJson), paging: { cursors: {} } })
		}
		throw new HttpError(404, { error: 'Not found' })
	}

	function ledgerEntry(message: Message): LedgerEntry {
		return {
			wamid: message.wamid,
			phoneNumberId: message.phoneNumberId,
			to: message.to,
			waId: message.waId,
			type: message.type,
			template: message.templateName,
			language: message.templateLanguage,
			callbackData: message.callbackData,
			acceptedAt: new Date(message.createdAt).toISOString(),
			status: message.status,
			errorCode: message.errorCode,
		}
	}

	function stats() {
		return {
			accepted: counters.accepted,
			rejectedByCode: counters.rejectedByCode,
			faults: counters.faults,
			duplicates: counters.duplicates,
			statuses: counters.statuses,
			failedByCode: counters.failedByCode,
			replies: counters.replies,
			templatesCreated: counters.templatesCreated,
			templatesEdited: counters.templatesEdited,
			phoneNumbers: Object.fromEntries(
				[...phones.values()].map((phone) => [
					phone.id,
					{
						wabaId: phone.wabaId,
						ratePerSecond: rateOf(phone),
						accepted: phone.accepted,
						maxInAnyOneSecond: phone.maxInAnyOneSecond,
					},
				]),
			),
			retained: {
				ledger: ledger.length,
				messages: messages.size,
				conversations: conversations.size,
			},
			pruned: counters.pruned,
			webhooks: { ...webhooks.stats, pending: webhooks.pending, url: webhookUrl() },
			scheduled: scheduler.size,
		}
	}

	function duplicateKeys(map: Map<string, number>, limit = 1000) {
		const result: Array<{ key: string; count: number }> = []
		for (const [key, count] of map) {
			if (count > 1) result.push({ key, count })
			if (result.length >= limit) break
		}
		return result
	}

	/** Resolves once nothing is scheduled or waiting to be posted (or after `timeoutMs`). */
	async function idle(timeoutMs = 30_000) {
		const deadline = Date.now() + timeoutMs
		while (Date.now() < deadline) {
			if (scheduler.size === 0 && webhooks.pending === 0) return true
			await new Promise((resolve) => setTimeout(resolve, 10))
		}
		return false
	}

	function setTemplateStatus(input: {
		id?: string
		wabaId?: string
		name?: string
		language?: string
		status: string
		reason?: string
	}) {
		const template = input.id
			? templates.get(input.id)
			: findTemplate(input.wabaId ?? settings.defaultWabaId, input.name ?? '', input.language ?? '')
		if (!template) return null
		template.status = input.status.toUpperCase()
		if (template.status === 'PAUSED') template.qualityScore = 'RED'
		if (template.status === 'REJECTED') template.rejectedReason = input.reason ?? 'INVALID_FORMAT'
		if (template.status === 'APPROVED') template.rejectedReason = 'NONE'
		emitTemplateStatus(
			template,
			template.status === 'PAUSED'
				? { title: 'FIRST_PAUSE', description: 'Your template has been paused due to low quality.' }
				: template.status === 'DISABLED'
					? {
							title: 'DISABLED',
							description: 'Your template has been disabled due to low quality.',
						}
					: undefined,
		)
		return templateJson(template, null)
	}

	async function handleControl(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		rest: string[],
		query: URLSearchParams,
	) {
		const route = `${req.method} ${rest.join('/')}`
		switch (route) {
			case 'GET ledger': {
				const phoneId = query.get('phone_number_id')
				const callbackData = query.get('callback_data')
				const offset = Number(query.get('offset')) || 0
				const limit = Math.min(100_000, Number(query.get('limit')) || 10_000)
				const filtered =
					phoneId || callbackData
						? ledger.filter(
								(m) =>
									(!phoneId || m.phoneNumberId === phoneId) &&
									(!callbackData || m.callbackData === callbackData),
							)
						: ledger
				return send(res, 200, {
					total: filtered.length,
					offset,
					data: filtered.slice(offset, offset + limit).map(ledgerEntry),
				})
			}
			case 'GET read-receipts':
				return send(res, 200, { data: readReceipts })
			case 'GET stats':
				return send(res, 200, {
					...stats(),
					duplicateCallbackData: duplicateKeys(byCallback),
					duplicatePhoneTemplate: duplicateKeys(byPhoneTemplate),
				})
			case 'POST reset': {
				const body = await readJson(req)
				if (body.settings && typeof body.settings === 'object') {
					raw = { ...input }
					updateSettings(body.settings as Record<string, unknown>)
				}
				reset()
				return send(res, 200, { ok: true })
			}
			case 'GET settings':
				return send(res, 200, settings)
			case 'POST settings': {
				const body = await readJson(req)
				try {
					return send(res, 200, updateSettings(body))
				} catch (error) {
					return send(res, 400, { error: 'Invalid settings', details: String(error) })
				}
			}
			case 'POST simulate/reply': {
				const body = await readJson(req)
				if (typeof body.from !== 'string' || (!body.text && !body.button))
					return send(res, 400, { error: 'from and text or button are required' })
				const message = inbound({
					phoneNumberId: typeof body.phoneNumberId === 'string' ? body.phoneNumberId : undefined,
					from: body.from,
					text: typeof body.text === 'string' ? body.text : undefined,
					button: body.button as { text: string; payload?: string } | undefined,
					contextWamid: typeof body.contextWamid === 'string' ? body.contextWamid : undefined,
				})
				return send(res, 200, { wamid: message.wamid, conversationId: message.conversation.id })
			}
			case 'POST simulate/marketing-preference': {
				const body = await readJson(req)
				if (
					typeof body.from !== 'string' ||
					(body.status !== 'stopped' && body.status !== 'resumed')
				)
					return send(res, 400, { error: 'from and status (stopped|resumed) are required' })
				return send(
					res,
					200,
					setMarketingPreference({
						phoneNumberId: typeof body.phoneNumberId === 'string' ? body.phoneNumberId : undefined,
						from: body.from,
						status: body.status,
					}),
				)
			}
			case 'POST templates/status': {
				const body = await readJson(req)
				if (typeof body.status !== 'string') return send(res, 400, { error: 'status is required' })
				const template = setTemplateStatus(body as Parameters<typeof setTemplateStatus>[0])
				return template ? send(res, 200, template) : send(res, 404, { error: 'template not found' })
			}
			case 'GET idle': {
				const done = await idle(Number(query.get('timeoutMs')) || 30_000)
				return send(res, done ? 200 : 504, {
					idle: done,
					scheduled: scheduler.size,
					pending: webhooks.pending,
				})
			}
			default:
				return send(res, 404, { error: `no control endpoint ${route}` })
		}
	}

	function authorised(req: http.IncomingMessage) {
		const key = req.headers['x-api-key']
		if (typeof key !== 'string' || key === '') return false
		return settings.apiKey === null || key === settings.apiKey
	}

	async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
		const url = parseUrl(req.url ?? '/')
		const parts = url.pathname.split('/').filter(Boolean)
		try {
			// The extras (health, calls, users, assignments, media, deletes, inbound of every type)
			// answer first; sends never reach them, so the hot path skips the URL object they need.
			const isSend = req.method === 'POST' && parts[parts.length - 1] === 'messages'
			if (!isSend) {
				const full = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`)
				if (await extras.handle(req, res, full)) return
			}
			if (parts[0] === '_sandbox')
				return await handleControl(req, res, parts.slice(1), url.searchParams)
			if (parts.length === 0 || parts[0] === 'health')
				return send(res, 200, { ok: true, sandbox: true })
			const isMeta = parts[0] === 'meta' && parts[1] === 'whatsapp'
			const isPlatform = parts[0] === 'platform' && parts[1] === 'v1'
			if (!isMeta && !isPlatform) return send(res, 404, { error: 'Not found' })
			if (!authorised(req)) {
				req.resume()
				return send(res, 401, { error: 'Invalid API key' })
			}
			if (isPlatform) return handlePlatform(res, parts.slice(2), url.searchParams, url.pathname)
			const rest = parts.slice(2)
			return await handleMeta(
				req,
				res,
				VERSION.test(rest[0] ?? '') ? rest.slice(1) : rest,
				url.searchParams,
				url.pathname,
			)
		} catch (error) {
			if (error instanceof HttpError) {
				if (parts[0] === 'meta') countRejection(error)
				req.resume()
				return send(res, error.status, error.body)
			}
			console.error('[sandbox] request failed', error)
			if (!res.headersSent) send(res, 500, { error: 'Sandbox error' })
		}
	}

	const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
		void handle(req, res)
	})
	server.headersTimeout = 66_000
	reset()
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject)
		server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
	})
	const address = server.address() as AddressInfo
	const url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${address.port}`

	return {
		url,
		port: address.port,
		get settings() {
			return settings
		},
		updateSettings,
		reset,
		stats,
		ledger: () => ledger.map(ledgerEntry),
		readReceipts: () => [...readReceipts],
		idle,
		setTemplateStatus,
		simulateReply: inbound,
		setMarketingPreference,
		async close() {
			scheduler.stop()
			webhooks.close()
			server.closeAllConnections()
			await new Promise<void>((resolve) => server.close(() => resolve()))
		},
	}
}

const FAILURE_TITLES: Record<number, string> = {
	131026: 'Message undeliverable',
	131047: 'Re-engagement message',
	131049: 'This message was not delivered to maintain healthy ecosystem engagement.',
	131050: 'User has stopped marketing messages',
	131000: 'Something went wrong',
	131016: 'Service unavailable',
	132015: 'Template is paused',
	131056: 'Pair rate limit hit',
}
