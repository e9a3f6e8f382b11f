import { delayFor, ERROR_TABLE, ruleKeyFor } from '#app/lib/kapso/errors'
import type { GatewayResult, SendSuccess } from '#app/lib/kapso/types'

/** After this many tries a recipient with retryable errors is failed with the last error. */
export const MAX_ATTEMPTS = 10

export type Outcome =
	| { state: 'sent'; wamid: string; waId: string | null }
	| {
			state: 'retry_wait'
			code: number | null
			title: string
			delayMs: number
			slowSender: boolean
	  }
	| { state: 'failed'; code: number | null; title: string }
	| { state: 'halt'; code: number | null; title: string }
	| { state: 'unknown'; code: number | null; title: string }

/**
 * What one send's result means for its ledger row. `attempts` counts this try (1 on the first).
 * Retry delays follow the error table's backoff for the attempt, never shorter than the
 * provider's suggestion (131056 grows 4^X only for that recipient); 130429 also slows the
 * sender's bucket.
 */
export function outcomeOf(
	result: GatewayResult<SendSuccess>,
	attempts: number,
	random: () => number = Math.random,
): Outcome {
	if (result.ok) return { state: 'sent', wamid: result.wamid, waId: result.waId }
	const { code, title } = result
	switch (result.class) {
		case 'recipient_final':
			return { state: 'failed', code, title }
		case 'halts_broadcast':
			return { state: 'halt', code, title }
		case 'ambiguous':
			return { state: 'unknown', code, title }
		case 'retryable': {
			if (attempts >= MAX_ATTEMPTS)
				return { state: 'failed', code, title: `${title} (gave up after ${attempts} tries)` }
			const rule = ERROR_TABLE[ruleKeyFor({ code, httpStatus: result.httpStatus })]
			// The gateway fills `retryAfterMs` from the table when the provider suggested nothing; a
			// different value is the provider's own suggestion (Retry-After), which is honoured as is.
			const suggested =
				result.retryAfterMs != null && result.retryAfterMs !== delayFor(rule, 0)
					? result.retryAfterMs
					: null
			const base = suggested ?? delayFor(rule, attempts - 1) ?? 2000
			// Jitter spreads a burst of retries so they do not all come back in the same second.
			const delayMs = Math.round(base * (1 + random() * 0.2))
			return { state: 'retry_wait', code, title, delayMs, slowSender: code === 130429 }
		}
	}
}

/** `biz_opaque_callback_data`: names the ledger row and the attempt (reconcile and webhooks parse it). */
export function callbackData(recipientId: number, attemptId: string) {
	return `r:${recipientId}:a:${attemptId}`
}

export function parseCallbackData(value: string | null | undefined) {
	const match = value ? /^r:(\d+):a:([0-9a-f-]{36})$/.exec(value) : null
	return match ? { recipientId: Number(match[1]), attemptId: match[2] } : null
}
