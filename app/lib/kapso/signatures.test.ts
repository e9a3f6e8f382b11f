import { createHmac } from 'node:crypto'
import { verifySignature as sdkVerifySignature } from '@kapso/whatsapp-cloud-api/server'
import { describe, expect, test } from 'vitest'
import {
	signKapsoBody,
	signMetaBody,
	verifyKapsoSignature,
	verifyMetaSignature,
} from './signatures'

// RFC 4231, test case 2: a published HMAC-SHA256 vector.
const RFC_KEY = 'Jefe'
const RFC_DATA = 'what do ya want for nothing?'
const RFC_MAC = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'

// Meta signs the bytes it sends, which escape non-ASCII characters; re-serialised JSON differs.
const rawBody = Buffer.from(
	'{"message":{"id":"wamid.ABC","text":{"body":"Se\\u00f1or \\u00bfc\\u00f3mo?"}},"phone_number_id":"100000000000001"}',
)
const secret = 'whsec_test_5d8f'
const independentHex = createHmac('sha256', secret).update(rawBody).digest('hex')

describe('Kapso signatures (bare hex)', () => {
	test('matches the RFC 4231 vector', () => {
		expect(signKapsoBody(RFC_DATA, RFC_KEY)).toBe(RFC_MAC)
		expect(verifyKapsoSignature(RFC_DATA, RFC_MAC, RFC_KEY)).toBe(true)
		expect(verifyKapsoSignature(Buffer.from(RFC_DATA), RFC_MAC.toUpperCase(), RFC_KEY)).toBe(true)
	})

	test('verifies the raw bytes, not re-serialised JSON', () => {
		expect(verifyKapsoSignature(rawBody, independentHex, secret)).toBe(true)
		const reserialised = JSON.stringify(JSON.parse(rawBody.toString()))
		expect(reserialised).not.toBe(rawBody.toString())
		expect(verifyKapsoSignature(reserialised, independentHex, secret)).toBe(false)
	})

	test('rejects a wrong secret, a changed body, a prefixed, truncated or empty header', () => {
		expect(verifyKapsoSignature(rawBody, independentHex, 'other')).toBe(false)
		expect(
			verifyKapsoSignature(Buffer.concat([rawBody, Buffer.from(' ')]), independentHex, secret),
		).toBe(false)
		expect(verifyKapsoSignature(rawBody, `sha256=${independentHex}`, secret)).toBe(false)
		expect(verifyKapsoSignature(rawBody, independentHex.slice(0, 63), secret)).toBe(false)
		expect(verifyKapsoSignature(rawBody, `${independentHex}00`, secret)).toBe(false)
		expect(verifyKapsoSignature(rawBody, 'zz'.repeat(32), secret)).toBe(false)
		expect(verifyKapsoSignature(rawBody, '', secret)).toBe(false)
		expect(verifyKapsoSignature(rawBody, null, secret)).toBe(false)
		expect(verifyKapsoSignature(rawBody, independentHex, '')).toBe(false)
	})

	test('the SDK verifier only accepts it once prefixed (the gap this module closes)', () => {
		expect(
			sdkVerifySignature({ appSecret: secret, rawBody, signatureHeader: independentHex }),
		).toBe(false)
		expect(
			sdkVerifySignature({
				appSecret: secret,
				rawBody,
				signatureHeader: `sha256=${independentHex}`,
			}),
		).toBe(true)
	})
})

describe('Meta signatures (sha256=hex)', () => {
	test('matches the RFC 4231 vector', () => {
		expect(signMetaBody(RFC_DATA, RFC_KEY)).toBe(`sha256=${RFC_MAC}`)
		expect(verifyMetaSignature(RFC_DATA, `sha256=${RFC_MAC}`, RFC_KEY)).toBe(true)
	})

	test('verifies an independently computed header and agrees with the SDK', () => {
		const header = `sha256=${independentHex}`
		expect(verifyMetaSignature(rawBody, header, secret)).toBe(true)
		expect(sdkVerifySignature({ appSecret: secret, rawBody, signatureHeader: header })).toBe(true)
	})

	test('rejects a bare hex value, another algorithm, a wrong secret or a short value', () => {
		expect(verifyMetaSignature(rawBody, independentHex, secret)).toBe(false)
		expect(verifyMetaSignature(rawBody, `sha1=${independentHex}`, secret)).toBe(false)
		expect(verifyMetaSignature(rawBody, `sha256=${independentHex}`, 'other')).toBe(false)
		expect(verifyMetaSignature(rawBody, 'sha256=abc', secret)).toBe(false)
		expect(verifyMetaSignature(rawBody, undefined, secret)).toBe(false)
		expect(verifyMetaSignature(rawBody, `sha256=${independentHex}`, undefined)).toBe(false)
	})
})
