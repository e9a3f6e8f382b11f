import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createHttpFetch, RequestAborted, RequestTimedOut } from './http-fetch.server'

const BIG_BINARY = Buffer.alloc(3 * 1024 * 1024, 7)
let connections = 0
let server: http.Server
let base: string

beforeAll(async () => {
	server = http.createServer((req, res) => {
		const chunks: Buffer[] = []
		req.on('data', (chunk: Buffer) => chunks.push(chunk))
		req.on('end', () => {
			const body = Buffer.concat(chunks)
			const url = new URL(req.url!, 'http://x')
			if (url.pathname === '/echo') {
				res.writeHead(201, { 'content-type': 'application/json', 'x-trace': 'abc' })
				res.end(
					JSON.stringify({
						method: req.method,
						apiKey: req.headers['x-api-key'],
						contentType: req.headers['content-type'],
						body: body.toString(),
					}),
				)
			} else if (url.pathname === '/empty') {
				res.writeHead(204).end()
			} else if (url.pathname === '/binary') {
				res.writeHead(200, { 'content-type': 'video/mp4' })
				res.end(BIG_BINARY)
			} else if (url.pathname === '/stall-body') {
				res.writeHead(200, { 'content-type': 'video/mp4' })
				res.write(Buffer.alloc(1000))
			} else if (url.pathname === '/slow') {
				setTimeout(() => res.end('late'), 500)
			} else {
				res.writeHead(404).end()
			}
		})
	})
	server.on('connection', () => connections++)
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
	server.closeAllConnections()
	await new Promise((resolve) => server.close(resolve))
})

describe('the SDK’s fetch over node:http', () => {
	const send = createHttpFetch()

	test('a JSON call arrives with its method, headers and body, and answers like fetch', async () => {
		const response = await send(
			`${base}/echo`,
			{
				method: 'POST',
				headers: { 'X-API-Key': 'k1', 'Content-Type': 'application/json' },
				body: '{"to":"+51987654321"}',
			},
			{ timeoutMs: 2000 },
		)
		expect(response.status).toBe(201)
		expect(response.ok).toBe(true)
		expect(response.url).toBe(`${base}/echo`)
		expect(response.headers.get('x-trace')).toBe('abc')
		expect(await response.json()).toEqual({
			method: 'POST',
			apiKey: 'k1',
			contentType: 'application/json',
			body: '{"to":"+51987654321"}',
		})
	})

	test('calls in sequence reuse one kept-alive connection', async () => {
		const before = connections
		for (let i = 0; i < 20; i++) {
			const response = await send(`${base}/echo`, { method: 'GET' }, { timeoutMs: 2000 })
			await response.text()
		}
		expect(connections - before).toBeLessThanOrEqual(1)
	})

	test('204 gives a Response with no body', async () => {
		const response = await send(`${base}/empty`, { method: 'DELETE' }, { timeoutMs: 2000 })
		expect(response.status).toBe(204)
		expect(await response.text()).toBe('')
	})

	test('a binary answer larger than the buffering limit streams through whole', async () => {
		const response = await send(`${base}/binary`, { method: 'GET' }, { timeoutMs: 5000 })
		expect(response.headers.get('content-type')).toBe('video/mp4')
		const bytes = Buffer.from(await response.arrayBuffer())
		expect(bytes.length).toBe(BIG_BINARY.length)
		expect(bytes.equals(BIG_BINARY)).toBe(true)
	})

	test('no answer within the timeout rejects with RequestTimedOut', async () => {
		await expect(
			send(`${base}/slow`, { method: 'GET' }, { timeoutMs: 100 }),
		).rejects.toBeInstanceOf(RequestTimedOut)
	})

	test('the timeout also covers a body that stops half-way', async () => {
		const response = await send(`${base}/stall-body`, { method: 'GET' }, { timeoutMs: 300 })
		await expect(response.arrayBuffer()).rejects.toThrow()
	})

	test('the caller’s signal aborts a call in flight, and one already aborted never starts', async () => {
		const controller = new AbortController()
		const call = send(
			`${base}/slow`,
			{ method: 'GET' },
			{ timeoutMs: 2000, signal: controller.signal },
		)
		setTimeout(() => controller.abort(), 50)
		await expect(call).rejects.toBeInstanceOf(RequestAborted)
		await expect(
			send(`${base}/echo`, { method: 'GET' }, { timeoutMs: 2000, signal: controller.signal }),
		).rejects.toBeInstanceOf(RequestAborted)
	})

	test('a refused connection rejects with the socket’s error code', async () => {
		const closed = http.createServer()
		await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
		const port = (closed.address() as AddressInfo).port
		await new Promise((resolve) => closed.close(resolve))
		await expect(
			send(`http://127.0.0.1:${port}/`, { method: 'GET' }, { timeoutMs: 2000 }),
		).rejects.toMatchObject({ code: 'ECONNREFUSED' })
	})

	test('a multipart upload (FormData) still goes out encoded, through the global fetch', async () => {
		const form = new FormData()
		form.append('messaging_product', 'whatsapp')
		form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt')
		const response = await send(`${base}/echo`, { method: 'POST', body: form }, { timeoutMs: 2000 })
		const echoed = (await response.json()) as { contentType: string; body: string }
		expect(echoed.contentType).toMatch(/^multipart\/form-data; boundary=/)
		expect(echoed.body).toContain('filename="hello.txt"')
		expect(echoed.body).toContain('hello')
	})
})
