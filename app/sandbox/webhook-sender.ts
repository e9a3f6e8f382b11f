import http from 'node:http'
import https from 'node:https'
import { randomUUID } from 'node:crypto'
import { createHash } from 'node:crypto'
import { signKapsoBody, signMetaBody } from '#app/lib/kapso/signatures'
import { type Scheduler } from './scheduler'

export type WebhookEvent = {
	event: string
	/** Kapso keeps the key across its own retries; the receiver dedupes on it. */
	idempotencyKey: string
	body: string
	attempt: number
	forged?: boolean
	/** Meta-format events go to another URL with Meta's signature header. */
	format?: 'kapso' | 'meta'
}

export type WebhookStats = {
	enqueued: number
	delivered: number
	/** Non-2xx answers or network errors (each try). */
	failedAttempts: number
	/** Given up after the last retry. */
	abandoned: number
	/** Dropped on purpose (chaos) or because the queue was full. */
	dropped: number
	duplicated: number
	delayed: number
	forged: number
	/** Answers by HTTP status, e.g. `{ "200": 10, "401": 1 }`. */
	byStatus: Record<string, number>
}

export type WebhookOptions = {
	url: () => string | null
	secret: () => string
	metaUrl: () => string | null
	metaSecret: () => string
	concurrency: () => number
	timeoutMs: () => number
	retryDelaysMs: () => number[]
	queueLimit: () => number
	/** Pick a random item from the head of the queue instead of the first (chaos: shuffle). */
	shuffle: () => boolean
	random: () => number
}

/**
 * Posts webhooks through a bounded number of keep-alive connections. Everything else waits in a
 * FIFO array, so a send burst costs memory, never thousands of concurrent sockets.
 */
export function createWebhookSender(scheduler: Scheduler, options: WebhookOptions) {
	const queue: Array<WebhookEvent | undefined> = []
	let head = 0
	let inFlight = 0
	let agentFor: { concurrency: number; http: http.Agent; https: https.Agent } | null = null
	const stats: WebhookStats = emptyStats()
	const idleWaiters: Array<() => void> = []

	function emptyStats(): WebhookStats {
		return {
			enqueued: 0,
			delivered: 0,
			failedAttempts: 0,
			abandoned: 0,
			dropped: 0,
			duplicated: 0,
			delayed: 0,
			forged: 0,
			byStatus: {},
		}
	}

	function agents() {
		const concurrency = options.concurrency()
		if (!agentFor || agentFor.concurrency !== concurrency) {
			agentFor?.http.destroy()
			agentFor?.https.destroy()
			agentFor = {
				concurrency,
				http: new http.Agent({ keepAlive: true, maxSockets: concurrency }),
				https: new https.Agent({ keepAlive: true, maxSockets: concurrency }),
			}
		}
		return agentFor
	}

	function pending() {
		return queue.length - head + inFlight
	}

	function take(): WebhookEvent | undefined {
		const available = queue.length - head
		if (available <= 0) return undefined
		if (options.shuffle() && available > 1) {
			const pick = head + Math.floor(options.random() * Math.min(available, 64))
			const chosen = queue[pick]
			queue[pick] = queue[head]
			queue[head++] = undefined
			return chosen
		}
		const item = queue[head]
		queue[head++] = undefined
		if (head > 4096 && head * 2 > queue.length) {
			queue.splice(0, head)
			head = 0
		}
		return item
	}

	function pump() {
		const limit = options.concurrency()
		while (inFlight < limit) {
			const item = take()
			if (!item) break
			post(item)
		}
		if (pending() === 0) {
			for (const resolve of idleWaiters.splice(0)) resolve()
		}
	}

	function urlFor(item: WebhookEvent) {
		return item.format === 'meta' ? options.metaUrl() : options.url()
	}

	function enqueue(item: WebhookEvent) {
		if (!urlFor(item)) return
		if (queue.length - head >= options.queueLimit()) {
			stats.dropped++
			return
		}
		stats.enqueued++
		queue.push(item)
		pump()
	}

	function post(item: WebhookEvent) {
		const target = urlFor(item)
		if (!target) return
		inFlight++
		const url = new URL(target)
		const isMeta = item.format === 'meta'
		const baseSecret = isMeta ? options.metaSecret() : options.secret()
		const secret = item.forged ? `forged-${baseSecret}` : baseSecret
		const isHttps = url.protocol === 'https:'
		const signature: Record<string, string> = isMeta
			? { 'X-Hub-Signature-256': signMetaBody(item.body, secret) }
			: {
					'X-Webhook-Event': item.event,
					'X-Webhook-Signature': signKapsoBody(item.body, secret),
					'X-Webhook-Payload-Version': 'v2',
				}
		const request = (isHttps ? https : http).request(url, {
			method: 'POST',
			agent: isHttps ? agents().https : agents().http,
			timeout: options.timeoutMs(),
			headers: {
				'Content-Type': 'application/json',
				'Content-Length': Buffer.byteLength(item.body),
				'User-Agent': 'Kapso-Webhooks (pregon-sandbox)',
				'X-Idempotency-Key': item.idempotencyKey,
				...signature,
			},
		})
		let settled = false
		const finish = (status: number | null) => {
			if (settled) return
			settled = true
			inFlight--
			const key = status == null ? 'error' : String(status)
			stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1
			if (status != null && status >= 200 && status < 300) stats.delivered++
			else {
				stats.failedAttempts++
				// A forged copy is expected to be refused; only real deliveries are retried.
				const delays = options.retryDelaysMs()
				if (!item.forged && item.attempt < delays.length) {
					scheduler.after(delays[item.attempt], () =>
						enqueue({ ...item, attempt: item.attempt + 1 }),
					)
				} else if (!item.forged) stats.abandoned++
			}
			pump()
		}
		request.on('response', (response) => {
			response.resume()
			response.on('end', () => finish(response.statusCode ?? null))
			response.on('error', () => finish(null))
		})
		request.on('timeout', () => request.destroy(new Error('webhook timeout')))
		request.on('error', () => finish(null))
		request.end(item.body)
	}

	return {
		enqueue,
		stats,
		/** Builds one delivery with a fresh idempotency key. */
		event(event: string, payload: unknown): WebhookEvent {
			return { event, idempotencyKey: randomUUID(), body: JSON.stringify(payload), attempt: 0 }
		},
		/** A forwarded Meta event: Kapso's idempotency key for these is the SHA-256 of the payload. */
		metaEvent(event: string, payload: unknown): WebhookEvent {
			const body = JSON.stringify(payload)
			const idempotencyKey = createHash('sha256').update(body).digest('hex')
			return { event, idempotencyKey, body, attempt: 0, format: 'meta' }
		},
		get pending() {
			return pending()
		},
		whenIdle(): Promise<void> {
			if (pending() === 0) return Promise.resolve()
			return new Promise((resolve) => idleWaiters.push(resolve))
		},
		reset() {
			queue.length = 0
			head = 0
			Object.assign(stats, emptyStats())
		},
		close() {
			queue.length = 0
			head = 0
			agentFor?.http.destroy()
			agentFor?.https.destroy()
			for (const resolve of idleWaiters.splice(0)) resolve()
		},
	}
}

export type WebhookSender = ReturnType<typeof createWebhookSender>
