import { redirect } from '@remix-run/node'
import type { Role } from '#db/schema/index'
import {
	deleteSessionByToken,
	getSessionUser,
	type SessionUser,
} from '#app/lib/auth/sessions.server'

const PLAIN_COOKIE = 'pregon_session'
// The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only, Path=/.
const SECURE_COOKIE = '__Host-pregon_session'

function isSecure(request: Request) {
	return new URL(request.url).protocol === 'https:'
}

function readCookie(request: Request, name: string) {
	const header = request.headers.get('cookie')
	if (!header) return null
	for (const part of header.split(';')) {
		const index = part.indexOf('=')
		if (index > 0 && part.slice(0, index).trim() === name)
			return decodeURIComponent(part.slice(index + 1).trim())
	}
	return null
}

/** The session token the request's cookie carries, if any. */
export function sessionToken(request: Request) {
	return readCookie(request, isSecure(request) ? SECURE_COOKIE : PLAIN_COOKIE)
}

export function sessionCookie(request: Request, token: string, expiresAt: Date) {
	const secure = isSecure(request)
	const name = secure ? SECURE_COOKIE : PLAIN_COOKIE
	const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000))
	return `${name}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`
}

export function clearSessionCookie(request: Request) {
	const secure = isSecure(request)
	const name = secure ? SECURE_COOKIE : PLAIN_COOKIE
	return `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`
}

export async function getUser(request: Request): Promise<SessionUser | null> {
	const token = sessionToken(request)
	return token ? getSessionUser(token) : null
}

/** The signed-in user, or a redirect to the login page that comes back here afterwards. */
export async function requireUser(request: Request): Promise<SessionUser> {
	const user = await getUser(request)
	if (!user) {
		const url = new URL(request.url)
		const back = url.pathname.replace(/\.data$/, '') + url.search
		throw redirect(`/login?redirectTo=${encodeURIComponent(back)}`, {
			headers: { 'Set-Cookie': clearSessionCookie(request) },
		})
	}
	return user
}

export const ALL_ROLES: Array<Role> = ['admin', 'marketer', 'analyst']

/** The signed-in user when their role is one of `roles`; 403 otherwise. */
export async function requireRole(
	request: Request,
	roles: ReadonlyArray<Role>,
): Promise<SessionUser> {
	const user = await requireUser(request)
	if (!roles.includes(user.role)) {
		throw new Response('You do not have permission to do this.', { status: 403 })
	}
	return user
}

export async function logout(request: Request) {
	const token = sessionToken(request)
	if (token) await deleteSessionByToken(token)
	return clearSessionCookie(request)
}

export function clientAddress(request: Request) {
	return request.headers.get('x-pregon-client-ip') ?? 'unknown'
}
