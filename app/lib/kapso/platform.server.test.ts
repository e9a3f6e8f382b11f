import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createKapsoPlatform } from './platform.server'

type Seen = { method: string; path: string; query: URLSearchParams; apiKey: string | undefined }
type Reply = { status: number; headers?: Record<string, string>; body: string }

/** A stand-in Kapso host that records each request and answers with `reply`. */
let server: http.Server
let baseUrl: string
const seen: Seen[] = []
let reply: Reply

beforeAll(async () => {
	server = http.createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost')
		seen.push({
			method: req.method ?? '',
			path: url.pathname,
			query: url.searchParams,
			apiKey: req.headers['x-api-key'] as string | undefined,
		})
		res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers })
		res.end(reply.body)
	})
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
	await new Promise((resolve) => server.close(resolve))
})

beforeEach(() => {
	seen.length = 0
})

function answer(status: number, body: unknown, headers?: Record<string, string>) {
	reply = { status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) }
}

const platform = () => createKapsoPlatform({ baseUrl, apiKey: 'key_1', timeoutMs: 2000 })

describe('listCalls (the SDK calls history API)', () => {
	test('asks for one page after the cursor since a date, and reads every call field', async () => {
		answer(200, {
			data: [
				{
					id: 'wacid.1',
					direction: 'USER_INITIATED',
					status: 'COMPLETED',
					duration_seconds: 42,
					started_at: '2025-03-01T10:00:00.000Z',
					ended_at: '2025-03-01T10:00:42.000Z',
					from: '+51 987 654 321',
					to: '100000000000001',
					whatsapp_conversation_id: 'conv_1',
				},
				{
					call_id: 'wacid.2',
					direction: 'BUSINESS_INITIATED',
					status: 'no_answer',
					duration: '0',
					timestamp: '1740823200',
					contact: { wa_id: '51911222333' },
					conversation_id: 'conv_2',
				},
				{ status: 'COMPLETED' },
			],
			paging: { cursors: { after: 'CURSOR_2' }, next: `${baseUrl}/next` },
		})
		const since = new Date('2025-02-01T00:00:00.000Z')
		const result = await platform().listCalls({
			phoneNumberId: '100000000000001',
			since,
			after: 'CURSOR_1',
		})

		expect(seen).toHaveLength(1)
		expect(seen[0]).toMatchObject({
			method: 'GET',
			path: '/meta/whatsapp/v24.0/100000000000001/calls',
			apiKey: 'key_1',
		})
		expect(Object.fromEntries(seen[0].query)).toEqual({
			since: since.toISOString(),
			after: 'CURSOR_1',
			limit: '100',
		})
		if (!result.ok) throw new Error(result.title)
		expect(result.nextCursor).toBe('CURSOR_2')
		expect(result.items.map(({ raw: _raw, ...call }) => call)).toEqual([
			{
				id: 'wacid.1',
				direction: 'inbound',
				status: 'completed',
				durationSeconds: 42,
				startedAt: new Date('2025-03-01T10:00:00.000Z'),
				endedAt: new Date('2025-03-01T10:00:42.000Z'),
				waId: '51987654321',
				conversationId: 'conv_1',
			},
			{
				id: 'wacid.2',
				direction: 'outbound',
				status: 'no_answer',
				durationSeconds: null,
				startedAt: new Date(1740823200 * 1000),
				endedAt: null,
				waId: '51911222333',
				conversationId: 'conv_2',
			},
		])
	})

	test('the last page has no cursor', async () => {
		answer(200, { data: [], paging: { cursors: { after: 'END' } } })
		expect(await platform().listCalls({ phoneNumberId: '1' })).toEqual({
			ok: true,
			items: [],
			nextCursor: null,
		})
	})

	test('failures come back classified, never thrown', async () => {
		answer(401, { error: { message: 'Invalid API key', code: 190, type: 'OAuthException' } })
		expect(await platform().listCalls({ phoneNumberId: '1' })).toMatchObject({
			ok: false,
			class: 'halts_broadcast',
			code: 190,
			httpStatus: 401,
		})

		answer(429, { error: 'Too many requests' }, { 'Retry-After': '7' })
		expect(await platform().listCalls({ phoneNumberId: '1' })).toMatchObject({
			ok: false,
			class: 'retryable',
			httpStatus: 429,
			retryAfterMs: 7000,
		})

		answer(503, 'upstream down', { 'Content-Type': 'text/plain' })
		expect(await platform().listCalls({ phoneNumberId: '1' })).toMatchObject({
			ok: false,
			class: 'retryable',
			httpStatus: 503,
		})

		// A 2xx that is not a call page: a read, so simply retryable.
		answer(200, { unexpected: true })
		expect(await platform().listCalls({ phoneNumberId: '1' })).toMatchObject({
			ok: false,
			class: 'retryable',
		})

		const unreachable = createKapsoPlatform({
			baseUrl: 'http://127.0.0.1:9',
			apiKey: 'key_1',
			timeoutMs: 1000,
		})
		expect(await unreachable.listCalls({ phoneNumberId: '1' })).toMatchObject({
			ok: false,
			class: 'retryable',
			code: null,
		})
	})

	test('a caller that aborts gets a classified abort, not a thrown error', async () => {
		answer(200, { data: [] })
		const controller = new AbortController()
		controller.abort()
		const result = await platform().listCalls({ phoneNumberId: '1', signal: controller.signal })
		expect(result.ok).toBe(false)
		expect(seen).toHaveLength(0)
	})
})
