import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { sessions, users } from '#db/schema/index'
import { routeAccess } from '#app/utils/route-access'
import { roleCookies, sameOrigin, startSecurityServer } from './server'
import { seedWorld } from './world'

/**
 * Issue #9: no secret in any page's HTML or loader data. The server runs with every secret the
 * product reads configured; an admin (who sees the most) crawls every GET route, as a page and as
 * single-fetch loader data, and every same-origin link those pages lead to.
 */
const SECRETS = {
	KAPSO_API_KEY: 'kapso-key-9f8e7d6c5b4a39281706',
	KAPSO_WEBHOOK_SECRET: 'whsec-kapso-1a2b3c4d5e6f7a8b9c0d',
	META_APP_SECRET: 'meta-app-secret-0f1e2d3c4b5a6978',
	META_VERIFY_TOKEN: 'meta-verify-token-5566778899aabb',
	ADMIN_PASSWORD: 'first-admin-password-x7y8z9',
}
let server: Awaited<ReturnType<typeof startSecurityServer>>
let adminCookie: string
let params: Record<string, string>

beforeAll(async () => {
	server = await startSecurityServer({
		...SECRETS,
		// Nothing answers here: a page that called Kapso would fail fast rather than leave the test.
		KAPSO_BASE_URL: 'http://127.0.0.1:9',
		KAPSO_TIMEOUT_MS: '1000',
	})
	const { cookies } = await roleCookies('secrets.test')
	adminCookie = cookies.get('admin')!
	// Other people's sessions exist too; their tokens must not show either.
	await roleCookies('secrets-others.test')
	params = await seedWorld()
})

afterAll(() => server?.close())

async function forbiddenStrings() {
	const hashes = await db.select({ hash: users.passwordHash }).from(users)
	const sessionIds = await db.select({ id: sessions.id }).from(sessions)
	const token = decodeURIComponent(adminCookie.split('=')[1])
	return [
		...Object.entries(SECRETS).map(([name, value]) => ({ name, value })),
		{ name: 'session token', value: token },
		...sessionIds.map(({ id }) => ({ name: 'stored session id', value: id })),
		...hashes
			.filter(({ hash }) => hash)
			.map(({ hash }) => ({ name: 'password hash', value: hash! })),
		{ name: 'argon2 hash prefix', value: '$argon2id$' },
	]
}

function routeUrl(id: string) {
	const parts: string[] = []
	let index = false
	for (const segment of id.split('.')) {
		if (segment === '_index') index = true
		else if (segment.startsWith('$')) parts.push(params[segment.slice(1)])
		else if (!segment.startsWith('_')) parts.push(segment)
	}
	return { path: `/${parts.join('/')}`, index }
}

describe('no secret in pages or loader data', () => {
	test('an admin crawl of every GET route and every link it finds', async () => {
		const forbidden = await forbiddenStrings()
		expect(forbidden.filter((f) => f.name === 'password hash').length).toBeGreaterThan(3)
		const queue: string[] = []
		const seen = new Set<string>()
		const enqueue = (url: string) => {
			if (seen.has(url) || url.startsWith('/logout') || url.startsWith('/assets/')) return
			seen.add(url)
			queue.push(url)
		}
		for (const [id, access] of Object.entries(routeAccess)) {
			if (!access.loader || id === 'logout') continue
			const { path, index } = routeUrl(id)
			enqueue(path + (index ? '?index' : ''))
			enqueue(
				`${path === '/' ? '/_root' : path}.data?_routes=${encodeURIComponent(`routes/${id}`)}`,
			)
		}
		const leaks: string[] = []
		let sawData = false
		const statuses = new Map<string, number>()
		while (queue.length > 0 && seen.size < 400) {
			const url = queue.shift()!
			const response = await fetch(`${server.base}${url}`, {
				headers: { cookie: adminCookie },
				redirect: 'manual',
			})
			const body = await response.text()
			statuses.set(url, response.status)
			// The crawl must see real data, or it would prove nothing.
			sawData ||= body.includes('Rosa Security')
			for (const { name, value } of forbidden) {
				if (body.includes(value)) leaks.push(`${url}: ${name}`)
			}
			for (const header of ['set-cookie', 'location']) {
				const value = response.headers.get(header) ?? ''
				for (const { name, value: secret } of forbidden)
					if (value.includes(secret)) leaks.push(`${url} ${header}: ${name}`)
			}
			if (!(response.headers.get('content-type') ?? '').includes('text/html')) continue
			for (const match of body.matchAll(/href="(\/[^"#]*)"/g)) {
				enqueue(match[1].replaceAll('&amp;', '&'))
			}
		}
		const failures = [...statuses].filter(([, status]) => status >= 500)
		console.log(`secret crawl: ${statuses.size} responses checked for ${forbidden.length} secrets`)
		expect(sawData).toBe(true)
		expect(leaks).toEqual([])
		expect(failures).toEqual([])
		expect(statuses.size).toBeGreaterThan(Object.keys(routeAccess).length)
	}, 120_000)

	test('behind a TLS proxy (X-Forwarded-Proto: https) the session cookie is Secure and __Host-', async () => {
		const response = await fetch(`${server.base}/login`, {
			method: 'POST',
			redirect: 'manual',
			headers: sameOrigin(server.base, {
				'content-type': 'application/x-www-form-urlencoded',
				'x-forwarded-proto': 'https',
				'x-forwarded-for': '198.51.100.20',
			}),
			body: new URLSearchParams({ email: 'admin@secrets.test', password: 'admin-password-1' }),
		})
		expect(response.status).toBe(302)
		const cookie = response.headers.get('set-cookie') ?? ''
		expect(cookie).toMatch(/^__Host-pregon_session=/)
		expect(cookie).toContain('; Secure')
		expect(cookie).toContain('HttpOnly')
		expect(cookie).toContain('SameSite=Lax')
		expect(cookie).toContain('Path=/')
		expect(cookie).not.toMatch(/Domain=/i)

		const session = cookie.split(';')[0]
		const overHttps = await fetch(`${server.base}/`, {
			headers: { cookie: session, 'x-forwarded-proto': 'https' },
			redirect: 'manual',
		})
		expect(overHttps.status).toBe(200)
		// The Secure cookie is not honoured on a plain-http request.
		const overHttp = await fetch(`${server.base}/`, {
			headers: { cookie: session },
			redirect: 'manual',
		})
		expect(overHttp.status).toBe(302)
	})
})
