import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type postgres from 'postgres'
import { z } from 'zod'
import { getEnv } from '#app/lib/env.server'
import { verifyKapsoSignature, verifyMetaSignature } from '#app/lib/kapso/signatures'

/**
 * The webhook fast path: verify the signature on the raw bytes, validate the shape, store each
 * event once and enqueue processing in the same statement, answer 200. Framework-free, so the
 * web server mounts it in front of Remix and the benchmark can mount it on bare node:http.
 *
 * Requests arriving together are written together (group commit): while one insert is in flight
 * the next requests queue, and the following insert takes them all. Each request is answered
 * only after the statement holding its events has committed.
 */

/** Meta allows payloads up to 3 MB; anything bigger is refused before it is read in full. */
export const WEBHOOK_BODY_LIMIT = 5 * 1024 * 1024

export const PROCESS_JOB = 'process_webhook_events'
/** One queue, so processing jobs run one at a time whatever the number of workers. */
export const PROCESS_QUEUE = 'webhook_events'

export type WebhookSource = 'kapso' | 'meta'
export type Headers = Record<string, string | string[] | undefined>
export type IngestResult = { status: number; body: string; contentType?: string }

export type IngestConfig = {
	kapsoSecret?: string
	metaAppSecret?: string
	metaVerifyToken?: string
	/** Most events written by one statement. */
	maxBatchEvents?: number
	/** Statements in flight at once. */
	maxInFlight?: number
}

/** One row of webhook_events, ready to insert. `payload` is JSON text. */
export type StoredEvent = {
	source: WebhookSource
	dedupeKey: string
	eventType: string
	payload: string
}

const OK: IngestResult = { status: 200, body: '{"ok":true}', contentType: 'application/json' }
const UNAUTHORIZED: IngestResult = { status: 401, body: 'Invalid signature.' }
const UNAVAILABLE: IngestResult = { status: 503, body: 'Could not store the event; try again.' }

function header(headers: Headers, name: string) {
	const value = headers[name]
	return Array.isArray(value) ? value[0] : value
}

function sha256(text: string | Buffer) {
	return createHash('sha256').update(text).digest('hex')
}

function badRequest(message: string): IngestResult {
	return { status: 400, body: message }
}

// jsonb refuses the NUL escape and a surrogate escape that is not half of a pair ("\ud800"
// alone, which JSON.stringify writes for a lone surrogate); one such message must not fail the
// events written with it, so both become U+FFFD.
const SURROGATE_ESCAPE = /\\u(d[89ab][0-9a-f]{2})(\\ud[c-f][0-9a-f]{2})?|\\ud[c-f][0-9a-f]{2}/gi
const MAYBE_SURROGATE = /\\u[dD][89a-fA-F]/

function storable(json: string) {
	let text = json.includes('\\u0000') ? json.replaceAll('\\u0000', '\\ufffd') : json
	if (MAYBE_SURROGATE.test(text)) {
		text = text.replace(SURROGATE_ESCAPE, (match, high?: string, low?: string) =>
			high && low ? match : '\\ufffd',
		)
	}
	return text
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
	try {
		return { ok: true, value: JSON.parse(body.toString('utf8')) }
	} catch {
		return { ok: false }
	}
}

const kapsoMessageEventSchema = z.looseObject({
	message: z.looseObject({ id: z.string().min(1) }),
})
const kapsoEventSchema = z.record(z.string(), z.unknown())
const kapsoBatchSchema = z.looseObject({
	type: z.string().optional(),
	batch: z.literal(true),
	data: z.array(kapsoEventSchema).min(1),
})

/** Parses a Kapso v2 delivery (single or batched) into stored events; a string is a 400. */
export function kapsoEvents(body: Buffer, headers: Headers): StoredEvent[] | string {
	const parsed = parseJson(body)
	if (!parsed.ok) return 'Body is not JSON.'
	const batched = header(headers, 'x-webhook-batch') === 'true'
	let items: Array<Record<string, unknown>>
	let eventType = header(headers, 'x-webhook-event')
	if (batched) {
		const batch = kapsoBatchSchema.safeParse(parsed.value)
		if (!batch.success) return 'A batch must be {type, batch: true, data: [events]}.'
		items = batch.data.data
		eventType ??= batch.data.type
	} else {
		const single = kapsoEventSchema.safeParse(parsed.value)
		if (!single.success) return 'An event must be a JSON object.'
		items = [single.data]
	}
	if (!eventType) return 'X-Webhook-Event is missing.'
	if (eventType.startsWith('whatsapp.message.')) {
		for (const item of items) {
			if (!kapsoMessageEventSchema.safeParse(item).success)
				return 'A message event needs message.id.'
		}
	}
	const key = header(headers, 'x-idempotency-key')?.trim() || `sha256:${sha256(body)}`
	if (!batched) {
		return [
			{
				source: 'kapso',
				dedupeKey: `kapso:${key}`,
				eventType,
				payload: storable(body.toString('utf8')),
			},
		]
	}
	return items.map((item, index) => ({
		source: 'kapso' as const,
		dedupeKey: `kapso:${key}:${index}`,
		eventType,
		payload: storable(JSON.stringify(item)),
	}))
}

const metaStatusSchema = z.looseObject({
	id: z.string().min(1),
	status: z.string().min(1),
	timestamp: z.union([z.string(), z.number()]).transform(String),
})
const metaMessageSchema = z.looseObject({ id: z.string().min(1) })
const metaEnvelopeSchema = z.looseObject({
	object: z.string(),
	entry: z.array(
		z.looseObject({
			id: z.union([z.string(), z.number()]).transform(String).optional(),
			time: z.number().optional(),
			changes: z.array(
				z.looseObject({
					field: z.string(),
					value: z.record(z.string(), z.unknown()),
				}),
			),
		}),
	),
})

/**
 * Splits a Meta-format delivery into one stored event per status, per inbound message and per
 * other change, each deduplicated on its own: a status on wamid + status + timestamp, a message
 * on its id, anything else on a hash of its value. Stored payloads are single-item changes:
 * `{field, wabaId, time, value}` with at most one status or message in `value`.
 */
export function metaEvents(body: Buffer): StoredEvent[] | string {
	const parsed = parseJson(body)
	if (!parsed.ok) return 'Body is not JSON.'
	const envelope = metaEnvelopeSchema.safeParse(parsed.value)
	if (!envelope.success) return 'Expected {object, entry: [{changes: [{field, value}]}]}.'
	const events: StoredEvent[] = []
	for (const entry of envelope.data.entry) {
		for (const change of entry.changes) {
			const { statuses, messages, ...rest } = change.value
			const base = { field: change.field, wabaId: entry.id ?? null, time: entry.time ?? null }
			if (change.field === 'messages' && (statuses !== undefined || messages !== undefined)) {
				if (statuses !== undefined) {
					const list = z.array(metaStatusSchema).safeParse(statuses)
					if (!list.success) return 'Every status needs id, status and timestamp.'
					for (const status of list.data) {
						events.push({
							source: 'meta',
							dedupeKey: `meta:status:${status.id}:${status.status}:${status.timestamp}`,
							eventType: `status.${status.status}`,
							payload: storable(
								JSON.stringify({ ...base, value: { ...rest, statuses: [status] } }),
							),
						})
					}
				}
				if (messages !== undefined) {
					const list = z.array(metaMessageSchema).safeParse(messages)
					if (!list.success) return 'Every message needs an id.'
					for (const message of list.data) {
						events.push({
							source: 'meta',
							dedupeKey: `meta:message:${message.id}`,
							eventType: `message.${typeof message.type === 'string' ? message.type : 'unknown'}`,
							payload: storable(
								JSON.stringify({ ...base, value: { ...rest, messages: [message] } }),
							),
						})
					}
				}
				continue
			}
			const json = JSON.stringify({ ...base, value: change.value })
			events.push({
				source: 'meta',
				dedupeKey: `meta:${change.field}:${sha256(JSON.stringify(change.value))}`,
				eventType: change.field,
				payload: storable(json),
			})
		}
	}
	return events
}

type Waiter = { events: StoredEvent[]; resolve: () => void; reject: (error: unknown) => void }

/** PostgreSQL refused a value (SQLSTATE class 22, data exception): sending it again will not help. */
function isUnstorable(error: unknown) {
	const code = (error as { code?: unknown } | null)?.code
	return typeof code === 'string' && code.startsWith('22')
}

/**
 * Writes events in groups: one statement inserts every waiting event (duplicates skipped by
 * the unique dedupe key) and, when something new was stored and no processing job is waiting,
 * adds the single processing job. Both happen in that one statement, so an event is never stored
 * without a job to pick it up; a job that started just before the commit is followed by another
 * (see the processing task).
 */
export function createEventWriter(
	sql: postgres.Sql,
	options: { maxBatchEvents?: number; maxInFlight?: number } = {},
) {
	const maxBatch = options.maxBatchEvents ?? 2000
	const maxInFlight = options.maxInFlight ?? 4
	const waiting: Waiter[] = []
	let inFlight = 0

	function pump() {
		while (inFlight < maxInFlight && waiting.length > 0) {
			const group: Waiter[] = []
			let count = 0
			while (
				waiting.length > 0 &&
				(group.length === 0 || count + waiting[0].events.length <= maxBatch)
			) {
				const next = waiting.shift()!
				group.push(next)
				count += next.events.length
			}
			inFlight++
			void flush(group).finally(() => {
				inFlight--
				pump()
			})
		}
	}

	async function insert(events: StoredEvent[]) {
		const sources: string[] = []
		const keys: string[] = []
		const types: string[] = []
		const payloads: string[] = []
		for (const event of events) {
			sources.push(event.source)
			keys.push(event.dedupeKey)
			types.push(event.eventType)
			payloads.push(event.payload)
		}
		await sql`
			with stored as (
				insert into webhook_events (source, dedupe_key, event_type, payload)
				select s::webhook_source, k, t, p::jsonb
				from unnest(${sources}::text[], ${keys}::text[], ${types}::text[], ${payloads}::text[]) as v(s, k, t, p)
				on conflict (dedupe_key) do nothing
				returning 1
			)
			select graphile_worker.add_job(
				identifier => ${PROCESS_JOB}::text,
				payload => '{}'::json,
				queue_name => ${PROCESS_QUEUE}::text,
				job_key => ${PROCESS_JOB}::text,
				job_key_mode => 'preserve_run_at',
				max_attempts => 25
			)
			where exists (select 1 from stored)
				-- A job that is waiting will see these rows: leave it alone instead of queueing on its row lock.
				and not exists (
					select 1 from graphile_worker.jobs
					where key = ${PROCESS_JOB} and locked_at is null and task_identifier = ${PROCESS_JOB}
				)
		`
	}

	async function flush(group: Waiter[]) {
		try {
			await insert(group.flatMap((waiter) => waiter.events))
			for (const waiter of group) waiter.resolve()
		} catch (error) {
			if (group.length === 1 || !isUnstorable(error)) {
				for (const waiter of group) waiter.reject(error)
				return
			}
			// One request's value that jsonb refuses (a number too large for it) must not fail the
			// requests written with it: each is written again on its own, and only that one fails.
			for (const waiter of group) await insert(waiter.events).then(waiter.resolve, waiter.reject)
		}
	}

	return {
		write(events: StoredEvent[]): Promise<void> {
			if (events.length === 0) return Promise.resolve()
			return new Promise<void>((resolve, reject) => {
				waiting.push({ events, resolve, reject })
				pump()
			})
		},
	}
}

export type EventWriter = ReturnType<typeof createEventWriter>

function sameSecret(given: string, expected: string) {
	const a = Buffer.from(given)
	const b = Buffer.from(expected)
	return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The two endpoints. Secrets come from the environment unless given: `KAPSO_WEBHOOK_SECRET`
 * (Kapso, and the sandbox, which shares a generated one), `META_APP_SECRET` and
 * `META_VERIFY_TOKEN`. A Meta-format delivery forwarded by Kapso may carry Kapso's
 * `X-Webhook-Signature` instead of Meta's header; it is accepted with the Kapso secret.
 */
export function createWebhookIngest(writer: EventWriter, config: IngestConfig = {}) {
	const env = getEnv()
	const kapsoSecret = config.kapsoSecret ?? env.KAPSO_WEBHOOK_SECRET
	const metaAppSecret = config.metaAppSecret ?? env.META_APP_SECRET
	const metaVerifyToken = config.metaVerifyToken ?? env.META_VERIFY_TOKEN

	async function store(events: StoredEvent[] | string): Promise<IngestResult> {
		if (typeof events === 'string') return badRequest(events)
		try {
			await writer.write(events)
			return OK
		} catch (error) {
			if (isUnstorable(error)) return badRequest('The event holds a value that cannot be stored.')
			console.error('webhook store failed:', error instanceof Error ? error.message : error)
			return UNAVAILABLE
		}
	}

	return {
		kapso(body: Buffer, headers: Headers): Promise<IngestResult> {
			if (!verifyKapsoSignature(body, header(headers, 'x-webhook-signature'), kapsoSecret)) {
				return Promise.resolve(UNAUTHORIZED)
			}
			return store(kapsoEvents(body, headers))
		},

		meta(body: Buffer, headers: Headers): Promise<IngestResult> {
			const hub = header(headers, 'x-hub-signature-256')
			const kapso = header(headers, 'x-webhook-signature')
			const valid = hub
				? verifyMetaSignature(body, hub, metaAppSecret)
				: verifyKapsoSignature(body, kapso, kapsoSecret)
			if (!valid) return Promise.resolve(UNAUTHORIZED)
			return store(metaEvents(body))
		},

		/** Meta's endpoint check: echo `hub.challenge` when the verify token matches. */
		metaVerification(query: URLSearchParams): IngestResult {
			const token = query.get('hub.verify_token')
			const challenge = query.get('hub.challenge')
			if (
				query.get('hub.mode') === 'subscribe' &&
				challenge !== null &&
				token !== null &&
				metaVerifyToken &&
				sameSecret(token, metaVerifyToken)
			) {
				return { status: 200, body: challenge, contentType: 'text/plain' }
			}
			return { status: 403, body: 'Verification failed.' }
		},
	}
}

export type WebhookIngest = ReturnType<typeof createWebhookIngest>

class TooLarge extends Error {}

/** Reads a request body into one Buffer, refusing more than `limit` bytes. */
export async function readRawBody(
	req: IncomingMessage,
	limit = WEBHOOK_BODY_LIMIT,
): Promise<Buffer> {
	const declared = Number(req.headers['content-length'])
	if (Number.isFinite(declared) && declared > limit) throw new TooLarge()
	const chunks: Buffer[] = []
	let size = 0
	for await (const chunk of req) {
		size += (chunk as Buffer).length
		if (size > limit) throw new TooLarge()
		chunks.push(chunk as Buffer)
	}
	return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
}

function send(res: ServerResponse, result: IngestResult) {
	res.writeHead(result.status, {
		'Content-Type': result.contentType ?? 'text/plain; charset=utf-8',
		'Content-Length': Buffer.byteLength(result.body),
	})
	res.end(result.body)
}

/** Answers one node:http request with `handler` (the Kapso or Meta endpoint). */
export async function serveWebhook(
	req: IncomingMessage,
	res: ServerResponse,
	handler: (body: Buffer, headers: Headers) => Promise<IngestResult>,
) {
	let body: Buffer
	try {
		body = await readRawBody(req)
	} catch (error) {
		if (error instanceof TooLarge) {
			res.setHeader('Connection', 'close')
			send(res, { status: 413, body: 'Payload too large.' })
			req.resume()
			return
		}
		send(res, badRequest('Could not read the body.'))
		return
	}
	send(res, await handler(body, req.headers))
}

/** Answers Meta's GET verification request. */
export function serveMetaVerification(
	req: IncomingMessage,
	res: ServerResponse,
	ingest: WebhookIngest,
) {
	const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : ''
	send(res, ingest.metaVerification(new URLSearchParams(query)))
}

let shared: WebhookIngest | undefined

/** The process-wide endpoints, writing through the process-wide database client. */
export async function getWebhookIngest() {
	if (shared) return shared
	const { sql } = await import('#db/client')
	shared = createWebhookIngest(createEventWriter(sql))
	return shared
}
