import crypto from 'node:crypto'
import { and, eq, lt, ne, or } from 'drizzle-orm'
import { db } from '#db/client'
import { sessions, users, type Role } from '#db/schema/index'
import { getEnv } from '#app/lib/env.server'

export type SessionUser = {
	id: string
	email: string
	name: string
	role: Role
	timezone: string
	sessionId: string
}

function hashToken(token: string) {
	return crypto.createHash('sha256').update(token).digest('hex')
}

/** Creates a session and returns the token for the cookie (never stored as such). */
export async function createSession(userId: string, meta: { ip?: string | null; userAgent?: string | null }) {
	const token = crypto.randomBytes(32).toString('base64url')
	const env = getEnv()
	const expiresAt = new Date(Date.now() + env.SESSION_ABSOLUTE_HOURS * 3_600_000)
	await db.insert(sessions).values({
		id: hashToken(token),
		userId,
		expiresAt,
		ip: meta.ip ?? null,
		userAgent: meta.userAgent?.slice(0, 300) ?? null,
	})
	return { token, expiresAt }
}

// Writing last_seen_at on every request would make each page view a write; a minute of
// imprecision in the idle timeout is harmless.
const TOUCH_INTERVAL_MS = 60_000

/**
 * The active user behind a session token, or null when the session is unknown, expired (idle or
 * absolute) or its user is deactivated.
 */
export async function getSessionUser(token: string): Promise<SessionUser | null> {
	const id = hashToken(token)
	const [row] = await db
		.select({
			sessionId: sessions.id,
			lastSeenAt: sessions.lastSeenAt,
			expiresAt: sessions.expiresAt,
			id: users.id,
			email: users.email,
			name: users.name,
			role: users.role,
			timezone: users.timezone,
			active: users.active,
		})
		.from(sessions)
		.innerJoin(users, eq(users.id, sessions.userId))
		.where(eq(sessions.id, id))
	if (!row) return null
	const now = Date.now()
	const idleLimitMs = getEnv().SESSION_IDLE_MINUTES * 60_000
	if (!row.active || row.expiresAt.getTime() <= now || now - row.lastSeenAt.getTime() > idleLimitMs) {
		await db.delete(sessions).where(eq(sessions.id, id))
		return null
	}
	if (now - row.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
		await db.update(sessions).set({ lastSeenAt: new Date(now) }).where(eq(sessions.id, id))
	}
	return {
		id: row.id,
		email: row.email,
		name: row.name,
		role: row.role,
		timezone: row.timezone,
		sessionId: row.sessionId,
	}
}

export async function deleteSessionByToken(token: string) {
	await db.delete(sessions).where(eq(sessions.id, hashToken(token)))
}

export async function deleteExpiredSessions() {
	const idleCutoff = new Date(Date.now() - getEnv().SESSION_IDLE_MINUTES * 60_000)
	await db
		.delete(sessions)
		.where(or(lt(sessions.expiresAt, new Date()), lt(sessions.lastSeenAt, idleCutoff)))
}

export async function deleteUserSessions(userId: string, exceptSessionId?: string) {
	await db
		.delete(sessions)
		.where(
			exceptSessionId
				? and(eq(sessions.userId, userId), ne(sessions.id, exceptSessionId))
				: eq(sessions.userId, userId),
		)
}
