import { describe, expect, test } from 'vitest'
import type { GatewayError } from '#app/lib/kapso/types'
import { callbackData, MAX_ATTEMPTS, outcomeOf, parseCallbackData } from './outcome'

const error = (over: Partial<GatewayError>): GatewayError => ({
	ok: false,
	class: 'retryable',
	code: null,
	title: 'x',
	httpStatus: 400,
	retryAfterMs: null,
	...over,
})
const noJitter = () => 0

describe('outcomeOf', () => {
	test('success → sent with the wamid', () => {
		expect(
			outcomeOf({ ok: true, wamid: 'wamid.1', waId: '51999', messageStatus: 'accepted' }, 1),
		).toEqual({
			state: 'sent',
			wamid: 'wamid.1',
			waId: '51999',
		})
	})

	test('131056 (pair rate) waits 4^X seconds for that recipient, never under 6 s', () => {
		const delays = [1, 2, 3, 4].map((attempts) => {
			const outcome = outcomeOf(error({ code: 131056 }), attempts, noJitter)
			return outcome.state === 'retry_wait' ? outcome.delayMs : null
		})
		expect(delays).toEqual([6000, 6000, 16_000, 64_000])
	})

	test('a delay the provider suggested (Retry-After) is honoured as is', () => {
		expect(outcomeOf(error({ code: 131000, retryAfterMs: 90_000 }), 1, noJitter)).toMatchObject({
			state: 'retry_wait',
			delayMs: 90_000,
			slowSender: false,
		})
		expect(
			outcomeOf(error({ code: 429, httpStatus: 429, retryAfterMs: 1000 }), 3, noJitter),
		).toMatchObject({
			delayMs: 1000,
		})
		// Without one (the gateway reports the table's first delay), the table's backoff grows.
		expect(outcomeOf(error({ code: 131000, retryAfterMs: 5000 }), 3, noJitter)).toMatchObject({
			delayMs: 20_000,
		})
	})

	test('130429 retries and slows the sender', () => {
		expect(outcomeOf(error({ code: 130429 }), 1, noJitter)).toMatchObject({
			state: 'retry_wait',
			slowSender: true,
		})
	})

	test('retryable errors give up after MAX_ATTEMPTS', () => {
		expect(outcomeOf(error({ code: 131000 }), MAX_ATTEMPTS, noJitter).state).toBe('failed')
	})

	test('131049 and other recipient-final errors → failed; halts → halt; ambiguous → unknown', () => {
		expect(outcomeOf(error({ class: 'recipient_final', code: 131049 }), 1)).toMatchObject({
			state: 'failed',
			code: 131049,
		})
		expect(outcomeOf(error({ class: 'halts_broadcast', code: 132015 }), 1)).toMatchObject({
			state: 'halt',
			code: 132015,
		})
		expect(outcomeOf(error({ class: 'ambiguous', code: null }), 1)).toMatchObject({
			state: 'unknown',
		})
	})
})

describe('callback data', () => {
	test('names the row and the attempt, and parses back', () => {
		const value = callbackData(42, '0b7c5a1e-6f1d-4c8e-9a55-0c1d2e3f4a5b')
		expect(value).toBe('r:42:a:0b7c5a1e-6f1d-4c8e-9a55-0c1d2e3f4a5b')
		expect(parseCallbackData(value)).toEqual({
			recipientId: 42,
			attemptId: '0b7c5a1e-6f1d-4c8e-9a55-0c1d2e3f4a5b',
		})
		expect(parseCallbackData('cmp_42:rcp_9001')).toBeNull()
	})
})
