import crypto from 'node:crypto'
import { asc, eq, sql } from 'drizzle-orm'
import { z } from 'zod'
import { db } from '#db/client'
import { roleEnum, users, type Role } from '#db/schema/index'
import { recordAudit } from '#app/lib/audit.server'
import { hashPassword, PASSWORD_MIN_LENGTH, verifyPassword } from './password.server'
import { createSession, deleteSessionByToken, deleteUserSessions } from './sessions.server'
import {
	ACCOUNT_FREE_FAILURES,
	ACCOUNT_LOCK_FAILURES,
	ADDRESS_FREE_FAILURES,
	accountKey,
	addressKey,
	admitAttempt,
	clearLoginFailures,
	forgiveAttempt,
	isPermanentLock,
} from './throttle.server'

export const NewUserSchema = z.object({
	email: z.email('Enter a valid email address').transform((value) => value.trim().toLowerCase()),
	name: z.string().trim().min(1, 'Enter a name').max(120),
	role: z.enum(roleEnum.enumValues),
	password: z
		.string()
		.min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters`)
		.max(256),
})
export type NewUser = z.infer<typeof NewUserSchema>

export class EmailTakenError extends Error {
	constructor() {
		super('A user with this email already exists')
	}
}

export async function createUser(input: NewUser, actorId: string | null) {
	const data = NewUserSchema.parse(input)
	const passwordHash = await hashPassword(data.password)
	return db.transaction(async (tx) => {
		const [existing] = await tx
			.select({ id: users.id })
			.from(users)
			.where(sql`lower(${users.email}) = ${data.email}`)
		if (existing) throw new EmailTakenError()
		const [user] = await tx
			.insert(users)
			.values({ email: data.email, name: data.name, role: data.role, passwordHash })
			.returning({ id: users.id, email: users.email, role: users.role })
		await recordAudit(tx, {
			actorId,
			action: 'user.create',
			objectType: 'user',
			objectId: user.id,
			details: { email: data.email, role: data.role },
		})
		return user
	})
}

export function generatePassword() {
	return crypto.randomBytes(18).toString('base64url')
}

/**
 * Creates the first admin when there is no user at all: from ADMIN_EMAIL/ADMIN_PASSWORD, or with
 * generated credentials that the caller prints once.
 */
export async function ensureFirstAdmin(options: { email?: string; password?: string }) {
	const [{ count }] = await db.select({ count: sql<number>`count(*)::int` }).from(users)
	if (count > 0) return null
	const email = options.email ?? 'admin@pregon.local'
	const password = options.password ?? generatePassword()
	await createUser({ email, name: 'Administrator', role: 'admin', password }, null)
	return { email, password, generated: !options.password }
}

export async function listUsers() {
	return db
		.select({
			id: users.id,
			email: users.email,
			name: users.name,
			role: users.role,
			active: users.active,
			createdAt: users.createdAt,
		})
		.from(users)
		.orderBy(asc(users.email))
}

export async function getUser(id: string) {
	const [user] = await db
		.select({
			id: users.id,
			email: users.email,
			name: users.name,
			role: users.role,
			active: users.active,
			timezone: users.timezone,
		})
		.from(users)
		.where(eq(users.id, id))
	return user ?? null
}

export async function changeUserRole(userId: string, role: Role, actorId: string) {
	return db.transaction(async (tx) => {
		const [user] = await tx.update(users).set({ role }).where(eq(users.id, userId)).returning()
		if (!user) return null
		await recordAudit(tx, {
			actorId,
			action: 'user.role',
			objectType: 'user',
			objectId: userId,
			details: { role },
		})
		return user
	})
}

/** Deactivating a user ends every one of their sessions at once. */
export async function setUserActive(userId: string, active: boolean, actorId: string) {
	const user = await db.transaction(async (tx) => {
		const [updated] = await tx
			.update(users)
			.set({ active, deactivatedAt: active ? null : new Date() })
			.where(eq(users.id, userId))
			.returning()
		if (!updated) return null
		await recordAudit(tx, {
			actorId,
			action: active ? 'user.reactivate' : 'user.deactivate',
			objectType: 'user',
			objectId: userId,
		})
		return updated
	})
	if (user) {
		if (!active) await deleteUserSessions(userId)
		else await clearLoginFailures([accountKey(user.email)])
	}
	return user
}

export async function setUserTimezone(userId: string, timezone: string) {
	await db.update(users).set({ timezone }).where(eq(users.id, userId))
}

export type LoginResult =
	| { ok: true; token: string; expiresAt: Date; userId: string }
	| { ok: false; reason: 'invalid' | 'throttled' | 'locked'; retryAt?: Date }

/**
 * Checks credentials with per-account and per-address throttling, and opens a session. The
 * session the browser presented with the sign-in (`previousToken`) ends: a token that existed
 * before sign-in, which someone else may have planted or seen, never carries the new sign-in.
 */
export async function login(
	input: { email: string; password: string },
	meta: { ip: string; userAgent?: string | null; previousToken?: string | null },
): Promise<LoginResult> {
	const email = input.email.trim().toLowerCase()
	const keys = { account: accountKey(email), address: addressKey(meta.ip) }
	const blockedUntil = await admitAttempt([
		{ key: keys.account, freeFailures: ACCOUNT_FREE_FAILURES, lockAfter: ACCOUNT_LOCK_FAILURES },
		{ key: keys.address, freeFailures: ADDRESS_FREE_FAILURES },
	])
	if (blockedUntil) {
		return isPermanentLock(blockedUntil)
			? { ok: false, reason: 'locked' }
			: { ok: false, reason: 'throttled', retryAt: blockedUntil }
	}
	const [user] = await db
		.select({ id: users.id, passwordHash: users.passwordHash, active: users.active })
		.from(users)
		.where(sql`lower(${users.email}) = ${email}`)
	const valid = await verifyPassword(input.password, user?.passwordHash ?? null)
	// The attempt was counted as a failure when admitted; a success takes that back.
	if (!user || !valid || !user.active) return { ok: false, reason: 'invalid' }
	await clearLoginFailures([keys.account])
	await forgiveAttempt(keys.address, ADDRESS_FREE_FAILURES)
	if (meta.previousToken) await deleteSessionByToken(meta.previousToken)
	const session = await createSession(user.id, meta)
	await recordAudit(db, {
		actorId: user.id,
		action: 'user.login',
		objectType: 'user',
		objectId: user.id,
	})
	return { ok: true, token: session.token, expiresAt: session.expiresAt, userId: user.id }
}

export async function unlockAccount(email: string, actorId: string) {
	await clearLoginFailures([accountKey(email)])
	await recordAudit(db, { actorId, action: 'user.unlock', objectType: 'user', objectId: email })
}
