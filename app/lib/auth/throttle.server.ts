import { inArray, sql } from 'drizzle-orm'
import { db } from '#db/client'
import { loginThrottle } from '#db/schema/index'

/**
 * Failed-login throttling, per account and per address, kept in PostgreSQL so every web process
 * shares it. Delays grow exponentially after a few failures; after 100 consecutive failures an
 * account stays locked until an admin unlocks it (NIST 800-63B §5.2.2), while an address only
 * ever waits (many people can share one).
 */
export const ACCOUNT_FREE_FAILURES = 5
export const ADDRESS_FREE_FAILURES = 20
export const ACCOUNT_LOCK_FAILURES = 100
const MAX_DELAY_MS = 15 * 60_000
const LOCKED_UNTIL = new Date('9999-12-31T00:00:00Z')

export function accountKey(email: string) {
	return `acct:${email.trim().toLowerCase()}`
}

export function addressKey(ip: string) {
	return `ip:${ip}`
}

/** How long a key is blocked after `failures` consecutive failures (pure, for tests). */
export function blockDurationMs(failures: number, freeFailures: number) {
	if (failures < freeFailures) return 0
	return Math.min(MAX_DELAY_MS, 1000 * 2 ** (failures - freeFailures))
}

export async function getBlockedUntil(keys: Array<string>, now = new Date()) {
	if (keys.length === 0) return null
	const rows = await db
		.select({ blockedUntil: loginThrottle.blockedUntil })
		.from(loginThrottle)
		.where(inArray(loginThrottle.key, keys))
	const until = rows
		.map((row) => row.blockedUntil)
		.filter((date): date is Date => date !== null && date > now)
		.sort((a, b) => b.getTime() - a.getTime())[0]
	return until ?? null
}

export async function recordLoginFailure(key: string, freeFailures: number, lockAfter?: number) {
	const [row] = await db
		.insert(loginThrottle)
		.values({ key, failures: 1 })
		.onConflictDoUpdate({
			target: loginThrottle.key,
			set: { failures: sql`${loginThrottle.failures} + 1`, lastFailedAt: sql`now()` },
		})
		.returning({ failures: loginThrottle.failures })
	const failures = row?.failures ?? 1
	const locked = lockAfter !== undefined && failures >= lockAfter
	const delay = blockDurationMs(failures, freeFailures)
	const blockedUntil = locked ? LOCKED_UNTIL : delay > 0 ? new Date(Date.now() + delay) : null
	await db
		.update(loginThrottle)
		.set({ blockedUntil })
		.where(sql`${loginThrottle.key} = ${key}`)
	return { failures, blockedUntil }
}

export async function clearLoginFailures(keys: Array<string>) {
	if (keys.length === 0) return
	await db.delete(loginThrottle).where(inArray(loginThrottle.key, keys))
}

export function isPermanentLock(date: Date) {
	return date.getTime() >= LOCKED_UNTIL.getTime()
}
