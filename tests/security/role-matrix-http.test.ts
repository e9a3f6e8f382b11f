import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Role } from '#db/schema/index'
import { createSession } from '#app/lib/auth/sessions.server'
import { routeAccess, type Access } from '#app/utils/route-access'
import { ROLES, roleCookies, sameOrigin, startSecurityServer } from './server'
import { seedWorld } from './world'

/**
 * Issue #9, role matrix over HTTP: every route of app/utils/route-access.ts, as every role and
 * anonymously, through the real server. GET runs the route's loader alone (a single-fetch data
 * request naming the route) and the page as a browser loads it; POST calls its action. An allow
 * the matrix does not list is counted, and the count must be 0; an allow it lists must work
 * (no 5xx).
 */
let server: Awaited<ReturnType<typeof startSecurityServer>>
let userIds: Map<Role, string>
let params: Record<string, string>

beforeAll(async () => {
	server = await startSecurityServer()
	userIds = (await roleCookies('matrix-http.test')).ids
	params = await seedWorld()
})

afterAll(() => server?.close())

type Caller = Role | 'anonymous'
const CALLERS: ReadonlyArray<Caller> = [...ROLES, 'anonymous']

/** The URL a flat route id answers on: pathless `_x` segments vanish, `$param`s are filled in. */
function urlOf(id: string) {
	const parts: string[] = []
	let index = false
	for (const segment of id.split('.')) {
		if (segment === '_index') index = true
		else if (segment.startsWith('$')) parts.push(params[segment.slice(1)])
		else if (!segment.startsWith('_')) parts.push(segment)
	}
	return { path: `/${parts.join('/')}`, index }
}

async function cookieFor(caller: Caller) {
	if (caller === 'anonymous') return undefined
	// A fresh session for every request: the logout action ends the session it is given.
	const session = await createSession(userIds.get(caller)!, { ip: '127.0.0.1' })
	return `pregon_session=${session.token}`
}

async function request(caller: Caller, method: 'GET' | 'POST', url: string) {
	const cookie = await cookieFor(caller)
	const response = await fetch(`${server.base}${url}`, {
		method,
		redirect: 'manual',
		headers: {
			...(cookie ? { cookie } : {}),
			...(method === 'POST'
				? sameOrigin(server.base, { 'content-type': 'application/x-www-form-urlencoded' })
				: {}),
		},
		body: method === 'POST' ? new URLSearchParams({ intent: 'matrix-probe' }) : undefined,
	})
	const text = await response.text()
	return { status: response.status, location: response.headers.get('location'), text }
}

type Outcome = 'allowed' | 'forbidden' | 'login' | 'error'

function outcomeOf(response: { status: number; location: string | null; text: string }): Outcome {
	if (response.status >= 500) return 'error'
	if (response.status === 403) return 'forbidden'
	if (response.status >= 300 && response.status < 400 && response.location?.startsWith('/login'))
		return 'login'
	// A single-fetch data request answers a redirect with 202 and the target in the body.
	if (
		response.status === 202 &&
		response.text.includes('"SingleFetchRedirect"') &&
		response.text.includes('"/login')
	) {
		return 'login'
	}
	return 'allowed'
}

function expected(access: Access | undefined, caller: Caller): Outcome {
	if (access === undefined || access === 'public') return 'allowed'
	if (caller === 'anonymous') return 'login'
	return access.includes(caller) ? 'allowed' : 'forbidden'
}

/** Route ids whose page a document request for `id` also runs: its parent layouts. */
function chain(id: string) {
	const segments = id.split('.')
	return segments
		.map((_, i) => segments.slice(0, i + 1).join('.'))
		.filter((candidate) => candidate in routeAccess)
}

/** What a page request as `caller` should get when every loader on the way must let them in. */
function expectedPage(id: string, caller: Caller): Outcome {
	const outcomes = chain(id).map((link) => expected(routeAccess[link].loader, caller))
	return outcomes.find((o) => o === 'login') ?? outcomes.find((o) => o === 'forbidden') ?? 'allowed'
}

function isLeaf(id: string) {
	return !Object.keys(routeAccess).some((other) => other.startsWith(`${id}.`))
}

describe('role matrix over HTTP', () => {
	test('every route × every role: no unexpected allow, and every expected allow works', async () => {
		const unexpectedAllows: string[] = []
		const otherMismatches: string[] = []
		let checks = 0
		const check = (label: string, want: Outcome, got: Outcome, status: number) => {
			checks++
			if (want === 'allowed' && got === 'error') otherMismatches.push(`${label}: ${status}`)
			else if (want !== 'allowed' && got === 'allowed')
				unexpectedAllows.push(`${label}: ${status}, expected ${want}`)
			else if (want !== got) otherMismatches.push(`${label}: ${got} (${status}), expected ${want}`)
		}
		for (const [id, access] of Object.entries(routeAccess)) {
			const { path, index } = urlOf(id)
			const url = path + (index ? '?index' : '')
			const dataUrl = `${path === '/' ? '/_root' : path}.data?_routes=${encodeURIComponent(`routes/${id}`)}`
			for (const caller of CALLERS) {
				if (access.loader) {
					const data = await request(caller, 'GET', dataUrl)
					check(
						`GET ${dataUrl} (${id} loader) as ${caller}`,
						expected(access.loader, caller),
						outcomeOf(data),
						data.status,
					)
					if (isLeaf(id)) {
						const page = await request(caller, 'GET', url)
						check(
							`GET ${url} (${id} page) as ${caller}`,
							expectedPage(id, caller),
							outcomeOf(page),
							page.status,
						)
					}
				}
				if (access.action) {
					const post = await request(caller, 'POST', url)
					const got = outcomeOf(post)
					// A public action may send anyone to the login page (logout does); it must never refuse.
					const seen = access.action === 'public' && got === 'login' ? 'allowed' : got
					check(
						`POST ${url} (${id} action) as ${caller}`,
						expected(access.action, caller),
						seen,
						post.status,
					)
				}
			}
		}
		console.log(
			`role matrix over HTTP: ${checks} checks, ${unexpectedAllows.length} unexpected allows`,
		)
		expect(unexpectedAllows).toEqual([])
		expect(otherMismatches).toEqual([])
		expect(checks).toBeGreaterThan(Object.keys(routeAccess).length * CALLERS.length)
	}, 180_000)
})
