import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { beforeAll, describe, expect, test } from 'vitest'
import { createSession, getSessionUser } from '#app/lib/auth/sessions.server'
import { createUser } from '#app/lib/auth/users.server'
import { action as loginAction } from '#app/routes/login'
import { action as usersAction, loader as usersLoader } from '#app/routes/_app.settings.users'

/** Sign-in and role changes through the route modules, as a browser's requests reach them. */
const PASSWORD = 'flow-password-12'
let adminId: string
let annId: string

beforeAll(async () => {
	adminId = (
		await createUser(
			{ email: 'boss@flow.test', name: 'Boss', role: 'admin', password: PASSWORD },
			null,
		)
	).id
	annId = (
		await createUser(
			{ email: 'ann@flow.test', name: 'Ann', role: 'marketer', password: PASSWORD },
			null,
		)
	).id
})

function request(path: string, token?: string, form?: Record<string, string>) {
	const headers = new Headers({ 'x-pregon-client-ip': '10.1.1.1' })
	if (token) headers.set('cookie', `pregon_session=${token}`)
	return new Request(
		`http://localhost${path}`,
		form ? { method: 'POST', headers, body: new URLSearchParams(form) } : { headers },
	)
}

async function status(promise: Promise<unknown>) {
	try {
		const result = await promise
		return result instanceof Response ? result.status : 200
	} catch (thrown) {
		if (thrown instanceof Response) return thrown.status
		throw thrown
	}
}

describe('signing in', () => {
	test('issues a new token and ends the session the browser held before', async () => {
		const before = await createSession(annId, { ip: '10.1.1.1' })
		const elsewhere = await createSession(annId, { ip: '10.2.2.2' })
		const response = (await loginAction({
			request: request('/login', before.token, { email: 'ann@flow.test', password: PASSWORD }),
			params: {},
			context: {},
		} as ActionFunctionArgs)) as Response
		expect(response.status).toBe(302)
		const token = /^pregon_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1]
		expect(token).toBeDefined()
		expect(token).not.toBe(before.token)
		expect((await getSessionUser(decodeURIComponent(token as string)))?.id).toBe(annId)
		expect(await getSessionUser(before.token)).toBeNull()
		// A session in another browser is not the one presented; it stays.
		expect((await getSessionUser(elsewhere.token))?.id).toBe(annId)
	})

	test('every sign-in gets a token of its own', async () => {
		const tokens = new Set<string>()
		for (let i = 0; i < 3; i++) {
			const response = (await loginAction({
				request: request('/login', undefined, { email: 'ann@flow.test', password: PASSWORD }),
				params: {},
				context: {},
			} as ActionFunctionArgs)) as Response
			tokens.add(response.headers.get('set-cookie')?.split(';')[0] ?? '')
		}
		expect(tokens.size).toBe(3)
	})
})

describe('an admin changing a role', () => {
	test('takes effect on the user’s next request, in the session they already have', async () => {
		const admin = await createSession(adminId, { ip: '10.1.1.1' })
		const ann = await createSession(annId, { ip: '10.1.1.1' })
		const openUsers = () =>
			status(
				usersLoader({
					request: request('/settings/users', ann.token),
					params: {},
					context: {},
				} as LoaderFunctionArgs),
			)
		const changeRole = (role: string) =>
			usersAction({
				request: request('/settings/users', admin.token, { intent: 'role', userId: annId, role }),
				params: {},
				context: {},
			} as ActionFunctionArgs)

		expect(await openUsers()).toBe(403)
		expect(await changeRole('admin')).toEqual({ message: 'Role changed.' })
		expect(await openUsers()).toBe(200)
		expect((await getSessionUser(ann.token))?.role).toBe('admin')

		await changeRole('analyst')
		expect(await openUsers()).toBe(403)
		expect((await getSessionUser(ann.token))?.role).toBe('analyst')
	})
})
