import { eq } from 'drizzle-orm'
import { beforeEach, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { loginThrottle, sessions, users } from '#db/schema/index'
import { getSessionUser } from './sessions.server'
import {
	ACCOUNT_FREE_FAILURES,
	ACCOUNT_LOCK_FAILURES,
	ADDRESS_FREE_FAILURES,
	blockDurationMs,
} from './throttle.server'
import { createUser, login, setUserActive, unlockAccount } from './users.server'

const PASSWORD = 'correct-horse-battery'
let userId: string
let adminId: string

beforeEach(async () => {
	await db.delete(sessions)
	await db.delete(loginThrottle)
	await db.delete(users)
	const admin = await createUser(
		{ email: 'boss@example.com', name: 'Boss', role: 'admin', password: PASSWORD },
		null,
	)
	adminId = admin.id
	const user = await createUser(
		{ email: 'Ann@Example.com', name: 'Ann', role: 'marketer', password: PASSWORD },
		adminId,
	)
	userId = user.id
})

async function loginAs(email: string, password: string, ip = '10.0.0.1') {
	return login({ email, password }, { ip, userAgent: 'vitest' })
}

describe('login and sessions', () => {
	test('valid credentials open a session; the email is case-insensitive', async () => {
		const result = await loginAs('ann@example.COM', PASSWORD)
		expect(result.ok).toBe(true)
		if (!result.ok) return
		const user = await getSessionUser(result.token)
		expect(user?.id).toBe(userId)
		expect(user?.role).toBe('marketer')
		const stored = await db.select().from(sessions).where(eq(sessions.userId, userId))
		expect(stored).toHaveLength(1)
		expect(stored[0].id).not.toBe(result.token)
	})

	test('passwords are stored as argon2id hashes with the OWASP parameters', async () => {
		const [stored] = await db
			.select({ passwordHash: users.passwordHash })
			.from(users)
			.where(eq(users.id, userId))
		expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
		expect(stored.passwordHash).not.toContain(PASSWORD)
	})

	test('a wrong password is refused', async () => {
		expect(await loginAs('ann@example.com', 'wrong-password')).toEqual({
			ok: false,
			reason: 'invalid',
		})
	})

	test("a deactivated user's sessions stop working and they cannot sign in", async () => {
		const result = await loginAs('ann@example.com', PASSWORD)
		if (!result.ok) throw new Error('login failed')
		await setUserActive(userId, false, adminId)
		expect(await getSessionUser(result.token)).toBeNull()
		expect(await db.select().from(sessions).where(eq(sessions.userId, userId))).toHaveLength(0)
		expect((await loginAs('ann@example.com', PASSWORD)).ok).toBe(false)
	})

	test('an idle session expires', async () => {
		const result = await loginAs('ann@example.com', PASSWORD)
		if (!result.ok) throw new Error('login failed')
		await db
			.update(sessions)
			.set({ lastSeenAt: new Date(Date.now() - 3 * 3_600_000) })
			.where(eq(sessions.userId, userId))
		expect(await getSessionUser(result.token)).toBeNull()
	})

	test('a session past its absolute lifetime expires even when active', async () => {
		const result = await loginAs('ann@example.com', PASSWORD)
		if (!result.ok) throw new Error('login failed')
		await db
			.update(sessions)
			.set({ expiresAt: new Date(Date.now() - 1000) })
			.where(eq(sessions.userId, userId))
		expect(await getSessionUser(result.token)).toBeNull()
	})
})

describe('login throttling', () => {
	test('engages after repeated failures on one account, even with the right password', async () => {
		for (let i = 0; i < ACCOUNT_FREE_FAILURES; i++) {
			expect((await loginAs('ann@example.com', `nope-${i}`, `10.0.1.${i}`)).ok).toBe(false)
		}
		const blocked = await loginAs('ann@example.com', PASSWORD, '10.0.2.1')
		expect(blocked).toMatchObject({ ok: false, reason: 'throttled' })
		if (!blocked.ok) expect(blocked.retryAt!.getTime()).toBeGreaterThan(Date.now())
	})

	test('engages per address across many accounts', async () => {
		let throttled = false
		for (let i = 0; i < 30 && !throttled; i++) {
			const result = await loginAs(`user${i}@example.com`, 'nope', '10.9.9.9')
			throttled = !result.ok && result.reason === 'throttled'
		}
		expect(throttled).toBe(true)
		expect((await loginAs('ann@example.com', PASSWORD, '10.9.9.9')).ok).toBe(false)
		expect((await loginAs('ann@example.com', PASSWORD, '10.9.9.10')).ok).toBe(true)
	})

	test('attempts racing each other are counted before they are checked', async () => {
		const results = await Promise.all(
			Array.from({ length: 40 }, (_, i) => loginAs('ann@example.com', `nope-${i}`, `10.0.3.${i}`)),
		)
		const admitted = results.filter((result) => !result.ok && result.reason === 'invalid')
		expect(admitted).toHaveLength(ACCOUNT_FREE_FAILURES)
	})

	test('a successful sign-in does not count against its address', async () => {
		for (let i = 0; i < ADDRESS_FREE_FAILURES - 1; i++) {
			expect(await loginAs(`user${i}@example.com`, 'nope', '10.7.7.7')).toEqual({
				ok: false,
				reason: 'invalid',
			})
		}
		for (let i = 0; i < 3; i++)
			expect((await loginAs('ann@example.com', PASSWORD, '10.7.7.7')).ok).toBe(true)
		expect(await loginAs('nobody@example.com', 'nope', '10.7.7.7')).toEqual({
			ok: false,
			reason: 'invalid',
		})
		expect(await loginAs('nobody@example.com', 'nope', '10.7.7.7')).toMatchObject({
			reason: 'throttled',
		})
	})

	test('the delay grows exponentially and is capped', () => {
		expect(blockDurationMs(ACCOUNT_FREE_FAILURES - 1, ACCOUNT_FREE_FAILURES)).toBe(0)
		expect(blockDurationMs(ACCOUNT_FREE_FAILURES, ACCOUNT_FREE_FAILURES)).toBe(1000)
		expect(blockDurationMs(ACCOUNT_FREE_FAILURES + 3, ACCOUNT_FREE_FAILURES)).toBe(8000)
		expect(blockDurationMs(ACCOUNT_FREE_FAILURES + 40, ACCOUNT_FREE_FAILURES)).toBe(15 * 60_000)
	})

	test('an account locks after 100 consecutive failures until an admin unlocks it', async () => {
		const { recordLoginFailure, accountKey } = await import('./throttle.server')
		for (let i = 0; i < ACCOUNT_LOCK_FAILURES; i++) {
			await recordLoginFailure(
				accountKey('ann@example.com'),
				ACCOUNT_FREE_FAILURES,
				ACCOUNT_LOCK_FAILURES,
			)
		}
		expect(await loginAs('ann@example.com', PASSWORD)).toEqual({ ok: false, reason: 'locked' })
		await unlockAccount('ann@example.com', adminId)
		expect((await loginAs('ann@example.com', PASSWORD)).ok).toBe(true)
	})
})
