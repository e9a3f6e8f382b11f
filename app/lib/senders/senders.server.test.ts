import type { ActionFunctionArgs } from '@remix-run/node'
import { beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { senders } from '#db/schema/index'
import { createSession } from '#app/lib/auth/sessions.server'
import { createUser } from '#app/lib/auth/users.server'
import { action } from '#app/routes/_app.settings.senders'
import { listSenders } from './senders.server'

/** Settings → Senders → Add, through the route's action as the form posts it. */
let adminToken: string

beforeAll(async () => {
	const admin = await createUser(
		{ email: 'boss@senders.test', name: 'Boss', role: 'admin', password: 'senders-password' },
		null,
	)
	adminToken = (await createSession(admin.id, { ip: '10.0.0.1' })).token
})

beforeEach(async () => {
	await db.delete(senders)
})

const valid = {
	intent: 'create',
	phoneNumberId: '100000000000042',
	wabaId: '200000000000042',
	displayNumber: '+51 987 654 321',
	name: 'Ventas',
}

type Outcome = { status: number; errors?: Record<string, string>; message?: string }

async function add(fields: Record<string, string>): Promise<Outcome> {
	const response = await action({
		request: new Request('http://localhost/settings/senders', {
			method: 'POST',
			headers: { cookie: `pregon_session=${adminToken}` },
			body: new URLSearchParams(fields),
		}),
		params: {},
		context: {},
	} as ActionFunctionArgs)
	if (response instanceof Response) {
		return {
			status: response.status,
			...((await response.json()) as { errors?: Record<string, string> }),
		}
	}
	return { status: 200, ...response }
}

describe('adding a sender number', () => {
	test('the rate defaults to 80 messages per second', async () => {
		expect(await add(valid)).toMatchObject({ status: 200, message: 'Sender added.' })
		const [sender] = await listSenders()
		expect(sender).toMatchObject({
			phoneNumberId: valid.phoneNumberId,
			wabaId: valid.wabaId,
			ratePerSecond: 80,
		})
	})

	test('takes up to 1,000 per second and refuses more, naming the field', async () => {
		expect((await add({ ...valid, ratePerSecond: '1000' })).status).toBe(200)
		expect((await listSenders())[0].ratePerSecond).toBe(1000)
		await db.delete(senders)
		for (const [rate, message] of [
			['1001', /at most 1,000 messages per second/],
			['0', /At least 1 message per second/],
			['2.5', /Whole messages per second/],
		] as const) {
			const result = await add({ ...valid, ratePerSecond: rate })
			expect(result.status).toBe(400)
			expect(result.errors).toEqual({ ratePerSecond: expect.stringMatching(message) })
		}
		expect(await listSenders()).toHaveLength(0)
	})

	test('the Meta ids must be 5–20 digits; each error names its field', async () => {
		for (const bad of ['12345a', '1234', '1'.repeat(21), '']) {
			const result = await add({ ...valid, phoneNumberId: bad })
			expect(result.status).toBe(400)
			expect(result.errors?.phoneNumberId).toMatch(/^Phone number id is the numeric id Meta gives/)
			const waba = await add({ ...valid, wabaId: bad })
			expect(waba.errors?.wabaId).toMatch(/^WABA id is the numeric id Meta gives/)
		}
		const both = await add({ ...valid, phoneNumberId: 'x', wabaId: 'y', displayNumber: 'call me' })
		expect(Object.keys(both.errors ?? {}).sort()).toEqual([
			'displayNumber',
			'phoneNumberId',
			'wabaId',
		])
		expect(
			(await add({ ...valid, phoneNumberId: ' 12345 ', wabaId: '98765432109876543210' })).status,
		).toBe(200)
		expect(await listSenders()).toMatchObject([
			{ phoneNumberId: '12345', wabaId: '98765432109876543210' },
		])
	})

	test('a phone number id already configured is refused on that field', async () => {
		await add(valid)
		expect(await add({ ...valid, wabaId: '200000000000099' })).toMatchObject({
			status: 400,
			errors: { phoneNumberId: 'This phone number id is already configured' },
		})
	})
})
