import http from 'node:http'
import https from 'node:https'
import { Readable } from 'node:stream'

/**
 * A `fetch` for the SDK built on node:http's keep-alive agents.
 *
 * Node's global fetch (undici) spends about 400 µs of CPU per call on web streams, abort signals
 * and their transfer machinery; at 1,000 sends a second that alone took most of a core and the
 * event-loop stalls cost booked send slots (docs/benchmark-gaps.md). The same request over
 * node:http costs a third of that. Calls with a body that is not a string (media uploads with
 * FormData or Blob) still go through the global fetch, which knows how to encode them.
 */

/** JSON and text answers are read whole unless they announce more than this; binary ones stream. */
const BUFFERED_BODY_LIMIT = 1 << 20
/** Idle keep-alive sockets close after this long (sooner when the server announces less). */
const IDLE_SOCKET_MS = 30_000
/** Statuses whose Response must not have a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304])

export class RequestTimedOut extends Error {
	constructor(timeoutMs: number) {
		super(`no complete answer within ${timeoutMs} ms`)
	}
}

export class RequestAborted extends Error {
	constructor() {
		super('the caller aborted the request')
	}
}

export type HttpFetchOptions = { timeoutMs: number; signal?: AbortSignal }
export type HttpFetch = (
	input: string | URL | Request,
	init: RequestInit | undefined,
	options: HttpFetchOptions,
) => Promise<Response>

export function createHttpFetch({ maxSockets = 256 }: { maxSockets?: number } = {}): HttpFetch {
	const agentOptions: http.AgentOptions = {
		keepAlive: true,
		maxSockets,
		timeout: IDLE_SOCKET_MS,
		scheduling: 'lifo',
	}
	const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) }

	return (input, init, options) => {
		const body = init?.body
		if (input instanceof Request || (body != null && typeof body !== 'string')) {
			return fallbackFetch(input, init, options)
		}
		const url = typeof input === 'string' ? new URL(input) : input
		const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null
		if (!transport) return fallbackFetch(input, init, options)

		return new Promise<Response>((resolve, reject) => {
			const headers = plainHeaders(init?.headers)
			if (body != null) headers['content-length'] = String(Buffer.byteLength(body))
			const request = transport.request(url, {
				method: init?.method ?? 'GET',
				headers,
				agent: agents[url.protocol as 'http:' | 'https:'],
			})
			const timer = setTimeout(
				() => request.destroy(new RequestTimedOut(options.timeoutMs)),
				options.timeoutMs,
			)
			const caller = options.signal
			const onAbort = () => request.destroy(new RequestAborted())
			if (caller?.aborted) onAbort()
			else caller?.addEventListener('abort', onAbort, { once: true })
			const settle = () => {
				clearTimeout(timer)
				caller?.removeEventListener('abort', onAbort)
			}
			request.once('close', settle)
			request.once('error', (error) => {
				settle()
				reject(error)
			})
			request.once('response', (incoming) => {
				const status = incoming.statusCode ?? 0
				const responseHeaders = new Headers()
				const raw = incoming.rawHeaders
				for (let i = 0; i < raw.length; i += 2) responseHeaders.append(raw[i], raw[i + 1])
				const responseInit = {
					status,
					statusText: incoming.statusMessage ?? '',
					headers: responseHeaders,
				}
				const finish = (responseBody: BodyInit | null) => {
					const response = new Response(
						NULL_BODY_STATUSES.has(status) ? null : responseBody,
						responseInit,
					)
					Object.defineProperty(response, 'url', { value: url.toString() })
					resolve(response)
				}
				if (!isSmallReadable(incoming)) {
					finish(Readable.toWeb(incoming) as ReadableStream<Uint8Array>)
					return
				}
				const chunks: Buffer[] = []
				incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
				incoming.once('end', () => finish(Buffer.concat(chunks)))
				incoming.once('error', reject)
			})
			request.end(body ?? undefined)
		})
	}
}

function isSmallReadable(incoming: http.IncomingMessage) {
	const type = incoming.headers['content-type'] ?? ''
	const length = Number(incoming.headers['content-length'] ?? 0)
	const textual = type === '' || /json|text/i.test(type)
	return textual && length <= BUFFERED_BODY_LIMIT
}

function plainHeaders(headers: HeadersInit | undefined): Record<string, string> {
	if (!headers) return {}
	if (headers instanceof Headers) return Object.fromEntries(headers.entries())
	if (Array.isArray(headers)) return Object.fromEntries(headers)
	return { ...headers }
}

async function fallbackFetch(
	input: string | URL | Request,
	init: RequestInit | undefined,
	options: HttpFetchOptions,
) {
	const timeout = AbortSignal.timeout(options.timeoutMs)
	const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
	try {
		return await fetch(input, { ...init, signal })
	} catch (error) {
		if (options.signal?.aborted) throw new RequestAborted()
		if (timeout.aborted) throw new RequestTimedOut(options.timeoutMs)
		throw error
	}
}
