import { asc, inArray, sql } from 'drizzle-orm'
import { db, type Executor } from '#db/client'
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

export type ThrottleKey = { key: string; freeFailures: number; lockAfter?: number }

/**
 * Admits one login attempt, or returns until when one of `keys` is blocked. An admitted attempt
 * is counted as a failure at once, in the transaction that checked the block with the rows
 * locked: otherwise attempts racing each other (a burst from many addresses) all pass the check
 * before the first failure is written, and the delays and the lock after 100 failures do not
 * hold. A successful attempt takes its count back (`forgiveAttempt`).
 */
export async function admitAttempt(keys: ReadonlyArray<ThrottleKey>) {
	if (keys.length === 0) return null
	const names = keys.map(({ key }) => key).sort()
	// Most attempts of an attack arrive while blocked: refuse those without taking a lock.
	const blocked = await blockedUntil(db, names)
	if (blocked) return blocked
	return db.transaction(async (tx) => {
		// Creating missing rows first gives every attempt a row to lock, even the very first ones.
		await tx
			.insert(loginThrottle)
			.values(names.map((key) => ({ key })))
			.onConflictDoNothing()
		const until = await blockedUntil(tx, names, true)
		if (until) return until
		for (const { key, freeFailures, lockAfter } of keys) {
			await recordLoginFailure(key, freeFailures, lockAfter, tx)
		}
		return null
	})
}

async function blockedUntil(executor: Executor, names: Array<string>, lock = false) {
	const query = executor
		.select({ blockedUntil: loginThrottle.blockedUntil })
		.from(loginThrottle)
		.where(inArray(loginThrottle.key, names))
		.orderBy(asc(loginThrottle.key))
	const rows = lock ? await query.for('update') : await query
	const now = new Date()
	const until = rows
		.map((row) => row.blockedUntil)
		.filter((date): date is Date => date !== null && date > now)
		.sort((a, b) => b.getTime() - a.getTime())[0]
	return until ?? null
}

/** Takes back the failure an admitted attempt was counted as, when it turned out a success. */
export async function forgiveAttempt(key: string, freeFailures: number) {
	const remaining = sql`${loginThrottle.failures} - 1`
	await db
		.update(loginThrottle)
		.set({
			failures: sql`greatest(${remaining}, 0)`,
			blockedUntil: sql`case when ${remaining} < ${freeFailures} then null else least(
				${loginThrottle.blockedUntil},
				now() + least(${`${MAX_DELAY_MS} milliseconds`}::interval, interval '1 second' * power(2, ${remaining} - ${freeFailures}))
			) end`,
		})
		.where(sql`${loginThrottle.key} = ${key}`)
}

export async function recordLoginFailure(
	key: string,
	freeFailures: number,
	lockAfter?: number,
	executor: Executor = db,
) {
	const [row] = await executor
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
	await executor
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
