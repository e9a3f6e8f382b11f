import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createUser } from '#app/lib/auth/users.server'
import { createWebServer } from './web'

// The real web server with the production build (npm test builds it first).
const buildEntry = path.resolve(__dirname, '../../build/server/index.js')
let server: Server
let base: string

beforeAll(async () => {
	if (!fs.existsSync(buildEntry)) throw new Error('No production build: run `npm run build` first')
	await createUser({ email: 'mark@example.com', name: 'Mark', role: 'marketer', password: 'marketer-password' }, null)
	const webServer = await createWebServer()
	server = webServer.listen(0, '127.0.0.1')
	await new Promise((resolve) => server.once('listening', resolve))
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => {
	server?.closeAllConnections()
	server?.close()
})

function postLogin(headers: Record<string, string>) {
	return fetch(`${base}/login`, {
		method: 'POST',
		redirect: 'manual',
		headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
		body: new URLSearchParams({ email: 'mark@example.com', password: 'marketer-password' }),
	})
}

describe('web server', () => {
	test('refuses a cross-site POST (Origin of another site)', async () => {
		const response = await postLogin({ origin: 'https://evil.example' })
		expect(response.status).toBe(403)
		expect(response.headers.get('set-cookie')).toBeNull()
	})

	test('refuses a POST the browser marks cross-site', async () => {
		expect((await postLogin({ 'sec-fetch-site': 'cross-site', origin: base })).status).toBe(403)
	})

	test('refuses a POST with neither Origin nor Sec-Fetch-Site', async () => {
		expect((await postLogin({})).status).toBe(403)
	})

	test('signs in a same-origin POST with an HttpOnly, SameSite=Lax session cookie', async () => {
		const response = await postLogin({ origin: base, 'sec-fetch-site': 'same-origin' })
		expect(response.status).toBe(302)
		const cookie = response.headers.get('set-cookie') ?? ''
		expect(cookie).toMatch(/^pregon_session=/)
		expect(cookie).toContain('HttpOnly')
		expect(cookie).toContain('SameSite=Lax')
		expect(cookie).not.toContain('Secure')

		const session = cookie.split(';')[0]
		const users = await fetch(`${base}/settings/users`, { headers: { cookie: session }, redirect: 'manual' })
		expect(users.status).toBe(403)
		const dashboard = await fetch(`${base}/`, { headers: { cookie: session }, redirect: 'manual' })
		expect(dashboard.status).toBe(200)
		expect(await dashboard.text()).toContain('Mark')
	})

	test('sends no session cookie and redirects anonymous visitors to sign in', async () => {
		const response = await fetch(`${base}/broadcasts`, { redirect: 'manual' })
		expect(response.status).toBe(302)
		expect(response.headers.get('location')).toBe('/login?redirectTo=%2Fbroadcasts')
	})
})
