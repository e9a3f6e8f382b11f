import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { loginThrottle } from '#db/schema/index'
import { ACCOUNT_FREE_FAILURES, ACCOUNT_LOCK_FAILURES } from '#app/lib/auth/throttle.server'
import { createUser } from '#app/lib/auth/users.server'
import { sameOrigin, startSecurityServer } from './server'

/**
 * Issue #9, login brute force, over HTTP against the real server. The client address comes from
 * X-Forwarded-For because the server runs with TRUST_PROXY=true, as it does behind a proxy.
 */
const ACCOUNTS = 50
const PASSWORD = 'the-real-password-1'
let server: Awaited<ReturnType<typeof startSecurityServer>>

beforeAll(async () => {
	server = await startSecurityServer()
	await Promise.all(
		Array.from({ length: ACCOUNTS }, (_, i) =>
			createUser(
				{ email: `user${i}@brute.test`, name: `User ${i}`, role: 'marketer', password: PASSWORD },
				null,
			),
		),
	)
})

afterAll(() => server?.close())

async function attempt(email: string, password: string, ip: string) {
	const started = performance.now()
	const response = await fetch(`${server.base}/login`, {
		method: 'POST',
		redirect: 'manual',
		headers: sameOrigin(server.base, {
			'content-type': 'application/x-www-form-urlencoded',
			'x-forwarded-for': ip,
		}),
		body: new URLSearchParams({ email, password }),
	})
	await response.arrayBuffer()
	return { status: response.status, ms: performance.now() - started }
}

/** Runs `tasks` with at most `width` in flight. */
async function inParallel<T>(width: number, tasks: Array<() => Promise<T>>) {
	const results: T[] = new Array(tasks.length)
	let next = 0
	await Promise.all(
		Array.from({ length: width }, async () => {
			while (next < tasks.length) {
				const index = next++
				results[index] = await tasks[index]()
			}
		}),
	)
	return results
}

/**
 * Lets the longest delay (15 minutes) pass for every throttle row: the same as waiting, without
 * the wait. A permanent lock stays a lock.
 */
async function coolDown() {
	await db.execute(sql`
		update ${loginThrottle}
		set blocked_until = blocked_until - interval '16 minutes', last_failed_at = last_failed_at - interval '16 minutes'
		where blocked_until < '9000-01-01'
	`)
}

function count(statuses: number[], status: number) {
	return statuses.filter((s) => s === status).length
}

describe('login brute force over HTTP', () => {
	test('1,000 attempts across 50 accounts from one address', async () => {
		await db.delete(loginThrottle)
		const attacker = '203.0.113.7'
		const tasks = Array.from({ length: 1000 }, (_, i) => () => {
			const account = i % ACCOUNTS
			return attempt(`user${account}@brute.test`, `guess-${i}`, attacker).then((r) => ({
				account,
				...r,
			}))
		})
		const results = await inParallel(25, tasks)
		const statuses = results.map((r) => r.status)
		console.log(
			`one address, 50 accounts: ${count(statuses, 401)} refused as wrong, ${count(statuses, 429)} throttled`,
		)
		expect(count(statuses, 302), 'a guess signed in').toBe(0)
		expect(count(statuses, 401) + count(statuses, 429)).toBe(1000)
		expect(count(statuses, 429), 'throttling never engaged').toBeGreaterThan(900)
		for (let account = 0; account < ACCOUNTS; account++) {
			const accepted = results.filter((r) => r.account === account && r.status === 401).length
			expect(accepted, `user${account} accepted too many failures`).toBeLessThanOrEqual(
				ACCOUNT_LOCK_FAILURES,
			)
		}

		// The account owners are not locked out by someone else's address…
		expect((await attempt('user3@brute.test', PASSWORD, '198.51.100.3')).status).toBe(302)
		// …and the attacker's address gets its turn back only after the cool-down.
		expect((await attempt('user4@brute.test', PASSWORD, attacker)).status).toBe(429)
		await coolDown()
		expect((await attempt('user4@brute.test', PASSWORD, attacker)).status).toBe(302)
	}, 120_000)

	test('500 attempts against one account from 500 addresses, all at once', async () => {
		await db.delete(loginThrottle)
		const email = 'user7@brute.test'
		const tasks = Array.from(
			{ length: 500 },
			(_, i) => () =>
				attempt(email, `guess-${i}`, `10.${Math.floor(i / 250)}.${i % 250}.${1 + (i % 7)}`),
		)
		const statuses = (await inParallel(500, tasks)).map((r) => r.status)
		console.log(
			`one account, 500 addresses: ${count(statuses, 401)} refused as wrong, ${count(statuses, 429)} throttled`,
		)
		expect(count(statuses, 302), 'a guess signed in').toBe(0)
		expect(count(statuses, 429), 'throttling never engaged').toBeGreaterThan(0)
		// Requests racing each other must not slip past the check before the first failure is
		// written: past the free failures, the doubling delay (1 s, 2 s, 4 s…) lets at most a
		// handful more through while this burst lasts, and never the 100 that lock the account.
		const accepted = count(statuses, 401)
		expect(accepted, 'failures accepted for one account').toBeLessThanOrEqual(ACCOUNT_LOCK_FAILURES)
		expect(accepted, 'failures accepted for one account').toBeLessThanOrEqual(
			ACCOUNT_FREE_FAILURES + 5,
		)
		const [row] = await db
			.select()
			.from(loginThrottle)
			.where(sql`${loginThrottle.key} = ${`acct:${email}`}`)
		expect(row.failures).toBeLessThanOrEqual(ACCOUNT_LOCK_FAILURES)

		// The real user, from their own address, is held back while the account is blocked (one
		// more admitted failure blocks it for at least 4 s), then signs in after the cool-down.
		await coolDown()
		expect((await attempt(email, 'one-more-guess', '192.0.2.99')).status).toBe(401)
		expect((await attempt(email, PASSWORD, '192.0.2.50')).status).toBe(429)
		await coolDown()
		expect((await attempt(email, PASSWORD, '192.0.2.50')).status).toBe(302)
	}, 120_000)

	test('a known and an unknown email take the same time to refuse (median within 10 ms)', async () => {
		// Each sample starts from a clean throttle, so both paths run the full password check; the
		// two kinds alternate in ABBA order so load from elsewhere on the machine, and whatever
		// the previous request left behind, hits both alike.
		const known: number[] = []
		const unknown: number[] = []
		const samples = 40
		for (let i = 0; i < samples * 2 + 4; i++) {
			await db.delete(loginThrottle)
			const isKnown = [0, 3].includes(i % 4)
			const email = isKnown ? `user${i % ACCOUNTS}@brute.test` : `nobody${i}@brute.test`
			const { status, ms } = await attempt(email, 'wrong-password-x', `172.16.${i >> 8}.${i & 255}`)
			expect(status).toBe(401)
			if (i < 4) continue // warm-up
			;(isKnown ? known : unknown).push(ms)
		}
		const median = (values: number[]) => {
			const sorted = [...values].sort((a, b) => a - b)
			return (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2
		}
		const difference = Math.abs(median(known) - median(unknown))
		console.log(
			`login timing: known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms median over ${samples} each`,
		)
		expect(difference).toBeLessThan(10)
	}, 120_000)
})
