import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { Role } from '#db/schema/index'
import { createSession } from '#app/lib/auth/sessions.server'
import { createUser } from '#app/lib/auth/users.server'
import { routeAccess, type Access } from '#app/utils/route-access'

/**
 * The role matrix, enforced: every route module in app/routes is listed in route-access.ts, and
 * calling its loader/action as each role (and with no session) is refused exactly when the
 * matrix says so. A new route that forgets requireRole fails here.
 */
const routesDir = path.resolve(__dirname, '../../app/routes')
const routeFiles = fs
	.readdirSync(routesDir)
	.filter((file) => /\.(tsx?|jsx?)$/.test(file) && !/\.(test|server)\./.test(file) && !file.startsWith('__'))
const roles: Array<Role> = ['admin', 'marketer', 'analyst']
const userIds = new Map<Role, string>()
const cookies = new Map<Role, string>()
const NIL_UUID = '00000000-0000-4000-8000-000000000000'

beforeAll(async () => {
	for (const role of roles) {
		const user = await createUser(
			{ email: `${role}@matrix.test`, name: role, role, password: 'matrix-password-1' },
			null,
		)
		userIds.set(role, user.id)
	}
})

// Fresh sessions for every route: calling the logout action ends the session it was given.
beforeEach(async () => {
	for (const role of roles) {
		const session = await createSession(userIds.get(role) as string, { ip: '127.0.0.1' })
		cookies.set(role, `pregon_session=${session.token}`)
	}
})

function routeId(file: string) {
	return file.replace(/\.(tsx?|jsx?)$/, '')
}

function paramsFor(id: string) {
	const params: Record<string, string> = {}
	for (const segment of id.split('.')) {
		if (segment.startsWith('$')) params[segment.slice(1)] = segment.toLowerCase().includes('id') ? NIL_UUID : 'x'
	}
	return params
}

type Outcome = 'allowed' | 'forbidden' | 'login'

async function call(fn: (args: unknown) => unknown, id: string, method: 'GET' | 'POST', cookie?: string): Promise<Outcome> {
	const headers = new Headers({ origin: 'http://localhost' })
	if (cookie) headers.set('cookie', cookie)
	const request = new Request(`http://localhost/matrix/${id}`, {
		method,
		headers,
		body: method === 'POST' ? new FormData() : undefined,
	})
	try {
		const result = await fn({ request, params: paramsFor(id), context: {} })
		return outcomeOfResponse(result)
	} catch (thrown) {
		return outcomeOfResponse(thrown)
	}
}

function outcomeOfResponse(value: unknown): Outcome {
	if (value instanceof Response) {
		if (value.status === 403) return 'forbidden'
		const location = value.headers.get('location') ?? ''
		if (value.status >= 300 && value.status < 400 && location.startsWith('/login')) return 'login'
	}
	return 'allowed'
}

function expected(access: Exclude<Access, 'public'>, role: Role | null): Outcome {
	if (role === null) return 'login'
	return access.includes(role) ? 'allowed' : 'forbidden'
}

describe('route access matrix', () => {
	test('every route module is listed in the matrix', () => {
		const missing = routeFiles.map(routeId).filter((id) => !(id in routeAccess))
		expect(missing).toEqual([])
	})

	test('the matrix lists no route that does not exist', () => {
		const ids = new Set(routeFiles.map(routeId))
		expect(Object.keys(routeAccess).filter((id) => !ids.has(id))).toEqual([])
	})

	for (const file of routeFiles) {
		const id = routeId(file)
		test(`${id}: loader and action enforce their roles`, async () => {
			const mod = (await import(path.join(routesDir, file))) as {
				loader?: (args: unknown) => unknown
				action?: (args: unknown) => unknown
			}
			const access = routeAccess[id]
			expect(access, `${id} is missing from route-access.ts`).toBeDefined()
			for (const [kind, fn, method] of [
				['loader', mod.loader, 'GET'],
				['action', mod.action, 'POST'],
			] as const) {
				if (!fn) {
					expect(access[kind], `${id} has no ${kind} but the matrix lists one`).toBeUndefined()
					continue
				}
				const rule = access[kind]
				expect(rule, `${id} ${kind} is not in the matrix`).toBeDefined()
				for (const role of [null, ...roles]) {
					const outcome = await call(fn, id, method, role ? cookies.get(role) : undefined)
					const label = `${id} ${kind} as ${role ?? 'anonymous'}`
					// A public route may still redirect (logout goes to /login); it must never refuse.
					if (rule === 'public') expect(outcome, label).not.toBe('forbidden')
					else expect(outcome, label).toBe(expected(rule as Exclude<Access, 'public'>, role))
				}
			}
		})
	}
})
