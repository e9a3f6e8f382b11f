import { createHmac, timingSafeEqual } from 'node:crypto'

const HEX_SHA256 = /^[0-9a-f]{64}$/i

function hmacHex(rawBody: Buffer | string, secret: string) {
	return createHmac('sha256', secret).update(rawBody).digest('hex')
}

function equalHex(expectedHex: string, givenHex: string) {
	// timingSafeEqual throws on unequal lengths, and a malformed header must simply fail.
	if (!HEX_SHA256.test(givenHex)) return false
	const expected = Buffer.from(expectedHex, 'hex')
	const given = Buffer.from(givenHex.toLowerCase(), 'hex')
	return expected.length === given.length && timingSafeEqual(expected, given)
}

/** The `X-Webhook-Signature` value Kapso sends: bare hex HMAC-SHA256 of the raw body. */
export function signKapsoBody(rawBody: Buffer | string, secret: string) {
	return hmacHex(rawBody, secret)
}

/**
 * Checks Kapso's `X-Webhook-Signature` (bare hex, no `sha256=` prefix) on the raw request bytes,
 * before any JSON parsing. False for a missing header or secret.
 */
export function verifyKapsoSignature(
	rawBody: Buffer | string,
	header: string | null | undefined,
	secret: string | null | undefined,
) {
	if (!header || !secret) return false
	return equalHex(hmacHex(rawBody, secret), header.trim())
}

/** Checks Meta's `X-Hub-Signature-256: sha256=<hex>` with the app secret on the raw bytes. */
export function verifyMetaSignature(
	rawBody: Buffer | string,
	header: string | null | undefined,
	appSecret: string | null | undefined,
) {
	if (!header || !appSecret) return false
	const value = header.trim()
	if (!value.startsWith('sha256=')) return false
	return equalHex(hmacHex(rawBody, appSecret), value.slice('sha256='.length))
}

/** The `X-Hub-Signature-256` value Meta would send, for tests and the sandbox. */
export function signMetaBody(rawBody: Buffer | string, appSecret: string) {
	return `sha256=${hmacHex(rawBody, appSecret)}`
}
