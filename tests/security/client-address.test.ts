import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ADDRESS_FREE_FAILURES } from '#app/lib/auth/throttle.server'
import { createUser } from '#app/lib/auth/users.server'
import { sameOrigin, startSecurityServer } from './server'

/**
 * Without TRUST_PROXY (the default: no proxy in front), X-Forwarded-For is the client's own
 * claim. Rotating it must not buy an attacker a fresh address for the throttle, and a client
 * cannot name its address with the header the server uses internally either.
 */
let server: Awaited<ReturnType<typeof startSecurityServer>>

beforeAll(async () => {
	server = await startSecurityServer({ TRUST_PROXY: 'false' })
	await createUser(
		{ email: 'owner@address.test', name: 'Owner', role: 'admin', password: 'owner-password-1' },
		null,
	)
})

afterAll(() => server?.close())

function attempt(email: string, i: number) {
	return fetch(`${server.base}/login`, {
		method: 'POST',
		redirect: 'manual',
		headers: sameOrigin(server.base, {
			'content-type': 'application/x-www-form-urlencoded',
			'x-forwarded-for': `198.18.${i >> 8}.${i & 255}`,
			'x-pregon-client-ip': `198.19.${i >> 8}.${i & 255}`,
		}),
		body: new URLSearchParams({ email, password: 'wrong-guess-123' }),
	}).then(async (response) => {
		await response.arrayBuffer()
		return response.status
	})
}

describe('client address without a trusted proxy', () => {
	test('spoofed X-Forwarded-For and X-Pregon-Client-IP do not dodge the per-address throttle', async () => {
		const statuses: number[] = []
		// A different account each time, so only the address can be what throttles.
		for (let i = 0; i < ADDRESS_FREE_FAILURES + 5; i++)
			statuses.push(await attempt(`nobody${i}@address.test`, i))
		expect(statuses.slice(0, ADDRESS_FREE_FAILURES).every((status) => status === 401)).toBe(true)
		expect(statuses.slice(ADDRESS_FREE_FAILURES)).toContain(429)
	})
})
