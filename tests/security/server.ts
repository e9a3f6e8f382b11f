import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { createSession } from '#app/lib/auth/sessions.server'
import { createUser } from '#app/lib/auth/users.server'
import type { Role } from '#db/schema/index'

/**
 * The real web server (app/cli/web.ts) on the production build, configured the way an operator
 * behind a TLS-terminating proxy would: TRUST_PROXY=true, so X-Forwarded-For names the client
 * and X-Forwarded-Proto the scheme (unless `extraEnv` says TRUST_PROXY=false). Call before anything
 * reads the environment.
 */
export async function startSecurityServer(extraEnv: Record<string, string> = {}) {
	const buildEntry = path.resolve(__dirname, '../../build/server/index.js')
	if (!fs.existsSync(buildEntry)) throw new Error('No production build: run `npm run build` first')
	process.env.TRUST_PROXY = extraEnv.TRUST_PROXY ?? 'true'
	process.env.PREGON_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'pregon-security-'))
	Object.assign(process.env, extraEnv)
	const { createWebServer } = await import('#app/cli/web')
	const webServer = await createWebServer()
	const server: Server = webServer.listen(0, '127.0.0.1')
	await new Promise((resolve) => server.once('listening', resolve))
	const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
	return {
		base,
		dataDir: process.env.PREGON_DATA_DIR,
		close() {
			server.closeAllConnections()
			server.close()
		},
	}
}

export const ROLES: ReadonlyArray<Role> = ['admin', 'marketer', 'analyst']

/** One user per role and a session cookie for each. */
export async function roleCookies(domain: string) {
	const cookies = new Map<Role, string>()
	const ids = new Map<Role, string>()
	for (const role of ROLES) {
		const user = await createUser(
			{ email: `${role}@${domain}`, name: `The ${role}`, role, password: `${role}-password-1` },
			null,
		)
		ids.set(role, user.id)
		const session = await createSession(user.id, { ip: '127.0.0.1' })
		cookies.set(role, `pregon_session=${session.token}`)
	}
	return { cookies, ids }
}

/** Headers a same-origin browser form POST carries. */
export function sameOrigin(base: string, extra: Record<string, string> = {}) {
	return { origin: base, 'sec-fetch-site': 'same-origin', ...extra }
}
