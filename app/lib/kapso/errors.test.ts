import { describe, expect, test } from 'vitest'
import { ERROR_TABLE, classifyError, delayFor, describeError } from './errors'

type Case = [code: number, httpStatus: number, expected: string]

// One row per code of the reference's error table (plus the extra integrity codes), with the
// HTTP status Meta documents for it.
const metaCodes: Case[] = [
	[130429, 400, 'retryable'],
	[131056, 400, 'retryable'],
	[131000, 500, 'retryable'],
	[131016, 500, 'retryable'],
	[131057, 500, 'retryable'],
	[131049, 400, 'recipient_final'],
	[131050, 400, 'recipient_final'],
	[131026, 400, 'recipient_final'],
	[131021, 400, 'recipient_final'],
	[131047, 400, 'recipient_final'],
	[470, 400, 'recipient_final'],
	[131062, 400, 'recipient_final'],
	[132005, 400, 'recipient_final'],
	[132007, 400, 'recipient_final'],
	[100, 400, 'recipient_final'],
	[132000, 400, 'halts_broadcast'],
	[132001, 404, 'halts_broadcast'],
	[132012, 400, 'halts_broadcast'],
	[132015, 400, 'halts_broadcast'],
	[132016, 400, 'halts_broadcast'],
	[131048, 400, 'halts_broadcast'],
	[368, 403, 'halts_broadcast'],
	[130497, 400, 'halts_broadcast'],
	[131031, 400, 'halts_broadcast'],
	[133010, 400, 'halts_broadcast'],
	[190, 401, 'halts_broadcast'],
	[4, 400, 'halts_broadcast'],
	[80007, 400, 'halts_broadcast'],
]

describe('classifyError by Meta code', () => {
	test.each(metaCodes)('%i (HTTP %i) is %s', (code, httpStatus, expected) => {
		const result = classifyError({ code, httpStatus })
		expect(result).toMatchObject({ ok: false, class: expected, code, httpStatus })
		expect(result.title).toBe(ERROR_TABLE[`meta:${code}` as keyof typeof ERROR_TABLE].title)
	})

	test('every Meta row in the table is covered above', () => {
		const tested = new Set(metaCodes.map(([code]) => `meta:${code}`))
		const rows = Object.keys(ERROR_TABLE).filter((key) => key.startsWith('meta:'))
		expect(rows.filter((key) => !tested.has(key))).toEqual([])
	})

	test('the Meta code wins over the HTTP status (a 130429 sent with HTTP 429 slows down, never halts)', () => {
		expect(classifyError({ code: 131026, httpStatus: 500 }).class).toBe('recipient_final')
		expect(classifyError({ code: 130429, httpStatus: 429 })).toMatchObject({
			class: 'retryable',
			retryAfterMs: 1000,
		})
	})
})

describe('classifyError without a Meta code', () => {
	test('Kapso 409 (another message in flight) is retryable, although the SDK says fix_and_retry', () => {
		expect(classifyError({ httpStatus: 409, code: 409 })).toMatchObject({
			class: 'retryable',
			code: 409,
			retryAfterMs: 1000,
		})
	})

	test('Kapso 429 honours Retry-After, else waits a minute', () => {
		expect(classifyError({ httpStatus: 429, retryAfterMs: 5000 })).toMatchObject({
			class: 'retryable',
			retryAfterMs: 5000,
		})
		expect(classifyError({ httpStatus: 429 }).retryAfterMs).toBe(60_000)
	})

	test.each([500, 502, 503, 504])('HTTP %i is retryable', (httpStatus) => {
		expect(classifyError({ httpStatus, code: httpStatus })).toMatchObject({
			class: 'retryable',
			code: httpStatus,
		})
	})

	test('401 and 403 halt the broadcast', () => {
		expect(classifyError({ httpStatus: 401 }).class).toBe('halts_broadcast')
		expect(classifyError({ httpStatus: 403 }).class).toBe('halts_broadcast')
	})

	test('an unknown 4xx halts and keeps the provider message in the title', () => {
		const result = classifyError({ code: 131053, httpStatus: 400, message: 'Media upload error' })
		expect(result).toMatchObject({ class: 'halts_broadcast', code: 131053 })
		expect(result.title).toContain('Media upload error')
	})

	test('Kapso refusing a marketing send to a stopped contact is final for that recipient', () => {
		expect(
			classifyError({ httpStatus: 422, kapsoCode: 'marketing_preference_stopped' }).class,
		).toBe('recipient_final')
	})

	test('a recipient without a phone number is final for that recipient', () => {
		expect(classifyError({ kapsoCode: 'invalid_recipient' }).class).toBe('recipient_final')
	})

	test('a request the SDK could not build halts the broadcast', () => {
		expect(classifyError({ kapsoCode: 'invalid_request' }).class).toBe('halts_broadcast')
	})
})

describe('transport failures', () => {
	test('a timeout is ambiguous: the request may have been accepted', () => {
		expect(classifyError({ transport: 'timeout' })).toMatchObject({
			class: 'ambiguous',
			code: null,
			httpStatus: null,
			retryAfterMs: null,
		})
	})

	test('a connection lost after writing is ambiguous', () => {
		expect(classifyError({ transport: 'connection_lost' }).class).toBe('ambiguous')
	})

	test('a cancelled in-flight request is ambiguous', () => {
		expect(classifyError({ transport: 'aborted' }).class).toBe('ambiguous')
	})

	test('a refused connection sent nothing, so it is retryable', () => {
		expect(classifyError({ transport: 'connection_refused' })).toMatchObject({
			class: 'retryable',
			retryAfterMs: 5000,
		})
	})
})

describe('delays', () => {
	test('131056 backs off 4^X seconds, never under 6 s', () => {
		const rule = ERROR_TABLE['meta:131056']
		expect([0, 1, 2, 3].map((attempt) => delayFor(rule, attempt))).toEqual([
			6000, 6000, 16_000, 64_000,
		])
		expect(classifyError({ code: 131056, httpStatus: 400, attempt: 2 }).retryAfterMs).toBe(16_000)
	})

	test('exponential delays double and are capped', () => {
		const rule = ERROR_TABLE['meta:130429']
		expect(delayFor(rule, 0)).toBe(1000)
		expect(delayFor(rule, 3)).toBe(8000)
		expect(delayFor(rule, 40)).toBe(6 * 60 * 60 * 1000)
	})

	test('Retry-After never shortens a halt', () => {
		expect(classifyError({ code: 132015, httpStatus: 400, retryAfterMs: 10 }).retryAfterMs).toBe(
			3 * 60 * 60 * 1000,
		)
	})
})

describe('describeError', () => {
	test('every row has a plain-language explanation and an action', () => {
		for (const rule of Object.values(ERROR_TABLE)) {
			expect(rule.explanation.length).toBeGreaterThan(20)
			expect(rule.action.length).toBeGreaterThan(10)
		}
	})

	test('finds the row for a stored code', () => {
		expect(describeError(131026).title).toBe('Message undeliverable')
		expect(describeError(4).title).toBe('API call limit reached')
		expect(describeError(409).class).toBe('retryable')
		expect(describeError(503).class).toBe('retryable')
		expect(describeError(null, 'connection_refused').class).toBe('retryable')
		expect(describeError(null).class).toBe('ambiguous')
	})
})
