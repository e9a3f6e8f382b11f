import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRequestHandler, type LoaderFunctionArgs, type ServerBuild } from '@remix-run/node'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { createSession } from '#app/lib/auth/sessions.server'
import { createUser } from '#app/lib/auth/users.server'
import { loader as appLoader } from '#app/routes/_app'

/**
 * The "Sandbox" badge tells users nothing reaches WhatsApp; with a Kapso key configured it must
 * not show. Set before any module reads the environment, which is parsed once per process.
 */
const saved = vi.hoisted(() => {
	const before = {
		KAPSO_API_KEY: process.env.KAPSO_API_KEY,
		KAPSO_BASE_URL: process.env.KAPSO_BASE_URL,
	}
	process.env.KAPSO_API_KEY = 'kp_test_key'
	// Nothing in these pages should call Kapso; if something did, it must not leave the machine.
	process.env.KAPSO_BASE_URL = 'http://127.0.0.1:9'
	return before
})

const buildUrl = pathToFileURL(path.resolve(__dirname, '../../build/server/index.js')).href
let cookie: string

beforeAll(async () => {
	const user = await createUser(
		{ email: 'ann@badge.test', name: 'Ann', role: 'marketer', password: 'badge-password-1' },
		null,
	)
	cookie = `pregon_session=${(await createSession(user.id, { ip: '10.0.0.1' })).token}`
})

afterAll(() => {
	for (const [name, value] of Object.entries(saved)) {
		if (value === undefined) delete process.env[name]
		else process.env[name] = value
	}
})

/**
 * The account page as the production build renders it, with KAPSO_API_KEY as given. Each call
 * loads the build afresh (its own copy of the once-parsed environment).
 */
async function accountPage(kapsoApiKey: string) {
	process.env.KAPSO_API_KEY = kapsoApiKey
	const build = (await import(`${buildUrl}?kapso=${kapsoApiKey || 'none'}`)) as ServerBuild
	const response = await createRequestHandler(
		build,
		'production',
	)(new Request('http://localhost/account', { headers: { cookie } }))
	expect(response.status).toBe(200)
	return response.text()
}

describe('the Sandbox badge', () => {
	test('the app layout reports no sandbox when KAPSO_API_KEY is set', async () => {
		const data = await appLoader({
			request: new Request('http://localhost/', { headers: { cookie } }),
			params: {},
			context: {},
		} as LoaderFunctionArgs)
		expect(data.sandbox).toBe(false)
	})

	test('is absent from pages with a Kapso key and present without one', async () => {
		const withKey = await accountPage('kp_test_key')
		expect(withKey).toContain('data-testid="current-user"')
		expect(withKey).not.toContain('badge-sandbox')
		expect(withKey).not.toMatch(/>Sandbox</)
		expect(await accountPage('')).toMatch(/badge-sandbox[^>]*>\s*Sandbox\s*</)
	})
})
