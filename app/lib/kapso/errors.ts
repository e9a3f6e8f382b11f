import { type ErrorClass, type GatewayError } from './types'

/**
 * How a delay grows with the attempt number:
 * - `fixed`: always `delayMs`.
 * - `exponential`: `delayMs * 2^attempt`, capped at `maxDelayMs`.
 * - `pair_rate`: Meta's advice for 131056, `4^attempt` seconds but never under `delayMs`.
 */
export type Backoff = 'fixed' | 'exponential' | 'pair_rate'

export type ErrorRule = {
	class: ErrorClass
	title: string
	/** Base delay before a retry (retryable codes) or before a halted broadcast may resume. */
	delayMs: number | null
	backoff: Backoff
	/** What happened, in words a marketer understands. Reports reuse it. */
	explanation: string
	/** What the user should do about it. */
	action: string
}

/** Keys for failures that have no Meta code. */
export type TransportFailure = 'timeout' | 'connection_lost' | 'connection_refused' | 'aborted'

const MAX_DELAY_MS = 6 * 60 * 60 * 1000
const MINUTE = 60_000
const HOUR = 60 * MINUTE

/**
 * The one table that decides the class of every provider error. Keys are Meta error codes
 * (`meta:<code>`), HTTP statuses without a Meta code (`http:<status>`, `http:5xx`, `http:4xx`),
 * Kapso's own error strings (`kapso:<code>`) and transport failures.
 */
export const ERROR_TABLE = {
	'meta:130429': {
		class: 'retryable',
		title: 'Throughput limit reached',
		delayMs: 1000,
		backoff: 'exponential',
		explanation:
			'The sending number went over the number of messages per second WhatsApp allows it.',
		action: 'Nothing to do: the message is retried automatically and the number sends more slowly.',
	},
	'meta:131056': {
		class: 'retryable',
		title: 'Too many messages to the same person',
		delayMs: 6000,
		backoff: 'pair_rate',
		explanation: 'This person was sent several messages from this number in a few seconds.',
		action: 'Nothing to do: only this recipient is retried, a little later each time.',
	},
	'meta:131000': {
		class: 'retryable',
		title: 'Unknown WhatsApp error',
		delayMs: 5000,
		backoff: 'exponential',
		explanation: 'WhatsApp reported an unexpected error on its side.',
		action: 'Nothing to do: the message is retried automatically.',
	},
	'meta:131016': {
		class: 'retryable',
		title: 'WhatsApp service unavailable',
		delayMs: 10_000,
		backoff: 'exponential',
		explanation: 'WhatsApp was temporarily unavailable.',
		action: 'Nothing to do: the message is retried automatically.',
	},
	'meta:131057': {
		class: 'retryable',
		title: 'Account in maintenance',
		delayMs: MINUTE,
		backoff: 'fixed',
		explanation:
			'The WhatsApp account was in maintenance, for example while its throughput was being upgraded.',
		action: 'Nothing to do: sending resumes after about a minute.',
	},
	'meta:131049': {
		class: 'recipient_final',
		title: 'Not delivered to keep engagement healthy',
		delayMs: 24 * HOUR,
		backoff: 'fixed',
		explanation:
			'WhatsApp chose not to deliver this marketing message, usually because the person already got many marketing messages lately (and marketing templates are never delivered to US numbers).',
		action: 'Do not resend for at least a day. Consider a smaller, more relevant audience.',
	},
	'meta:131050': {
		class: 'recipient_final',
		title: 'Person stopped marketing messages',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'This person told WhatsApp they do not want marketing messages from this business.',
		action: 'Do not send marketing messages to this contact; they are marked as opted out.',
	},
	'meta:131026': {
		class: 'recipient_final',
		title: 'Message undeliverable',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'The number is not on WhatsApp, uses a very old app version, or has not accepted the current terms.',
		action: 'Check the phone number. Do not retry it in this broadcast.',
	},
	'meta:131021': {
		class: 'recipient_final',
		title: 'Recipient is the sender',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The recipient is the same number the message was sent from.',
		action: 'Remove this number from the audience.',
	},
	'meta:131047': {
		class: 'recipient_final',
		title: '24-hour window closed',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'A free-form message can only be sent within 24 hours of the person’s last message.',
		action: 'Send an approved template instead.',
	},
	'meta:470': {
		class: 'recipient_final',
		title: '24-hour window closed (legacy code)',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'A free-form message can only be sent within 24 hours of the person’s last message, or the number is not on WhatsApp.',
		action: 'Send an approved template instead.',
	},
	'meta:131062': {
		class: 'recipient_final',
		title: 'Authentication template sent to a user id',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'Authentication templates can only be sent to a phone number, not to a business-scoped user id.',
		action: 'Send to the contact’s phone number.',
	},
	'meta:132005': {
		class: 'recipient_final',
		title: 'Message text too long',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'With this contact’s values filled in, the template text became too long.',
		action: 'Shorten this contact’s values (for example a long name) and send again.',
	},
	'meta:132007': {
		class: 'recipient_final',
		title: 'Content violates WhatsApp policy',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'The values filled into the template for this contact break WhatsApp’s content rules.',
		action: 'Check this contact’s values for forbidden content.',
	},
	'meta:100': {
		class: 'recipient_final',
		title: 'Invalid parameter',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'WhatsApp rejected a value in this message, for example a media id or a parameter.',
		action: 'Check this contact’s values and the template’s media.',
	},
	'meta:132000': {
		class: 'halts_broadcast',
		title: 'Wrong number of template variables',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The number of values sent does not match the variables in the approved template.',
		action: 'Re-sync the template and check the broadcast’s variable mapping, then resume.',
	},
	'meta:132001': {
		class: 'halts_broadcast',
		title: 'Template not found or not approved',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'WhatsApp has no approved template with this name and language on this account.',
		action: 'Re-sync templates, check the template is approved in this language, then resume.',
	},
	'meta:132012': {
		class: 'halts_broadcast',
		title: 'Template variable format mismatch',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'The values sent do not match the template’s format (for example named vs numbered variables, or the wrong media type).',
		action: 'Re-sync the template and fix the variable mapping, then resume.',
	},
	'meta:132015': {
		class: 'halts_broadcast',
		title: 'Template paused for low quality',
		delayMs: 3 * HOUR,
		backoff: 'fixed',
		explanation: 'WhatsApp paused this template because people reported or blocked it.',
		action:
			'Wait until WhatsApp unpauses it (3 hours the first time, 6 the second) or edit it, then resume.',
	},
	'meta:132016': {
		class: 'halts_broadcast',
		title: 'Template disabled',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'WhatsApp disabled this template permanently after repeated quality problems.',
		action: 'Create a new template and use it in a new broadcast.',
	},
	'meta:131048': {
		class: 'halts_broadcast',
		title: 'Spam rate limit',
		delayMs: HOUR,
		backoff: 'fixed',
		explanation: 'Too many messages from this number were blocked or reported as spam.',
		action: 'Check the number’s quality rating and the audience before resuming.',
	},
	'meta:368': {
		class: 'halts_broadcast',
		title: 'Temporarily blocked for policy violations',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'WhatsApp blocked this account for breaking its policies.',
		action: 'Check the account in Meta Business Manager; do not resume until the block is lifted.',
	},
	'meta:130497': {
		class: 'halts_broadcast',
		title: 'Messaging restricted for this country',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The business account is restricted from messaging users in this country.',
		action: 'Check the account restrictions in Meta Business Manager.',
	},
	'meta:131031': {
		class: 'halts_broadcast',
		title: 'Account locked',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'WhatsApp locked the business account, for example after a policy violation.',
		action: 'Check the account in Meta Business Manager; do not resume until it is unlocked.',
	},
	'meta:133010': {
		class: 'halts_broadcast',
		title: 'Phone number not registered',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The sending number is not registered with WhatsApp Cloud API.',
		action: 'Register the number (or pick another sender) and resume.',
	},
	'meta:190': {
		class: 'halts_broadcast',
		title: 'Access token expired',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The credentials used to reach WhatsApp are no longer valid.',
		action: 'Fix the Kapso API key or the WhatsApp connection, then resume.',
	},
	'meta:4': {
		class: 'halts_broadcast',
		title: 'API call limit reached',
		delayMs: 15 * MINUTE,
		backoff: 'fixed',
		explanation: 'The app made too many API calls to WhatsApp in a short time.',
		action: 'Resume later; the limit resets within an hour.',
	},
	'meta:80007': {
		class: 'halts_broadcast',
		title: 'Business account rate limit',
		delayMs: 15 * MINUTE,
		backoff: 'fixed',
		explanation: 'The WhatsApp business account made too many API calls in a short time.',
		action: 'Resume later; the limit resets within an hour.',
	},
	'http:409': {
		class: 'retryable',
		title: 'Another message in flight for this conversation',
		delayMs: 1000,
		backoff: 'exponential',
		explanation: 'Kapso was still sending an earlier message to this person.',
		action: 'Nothing to do: the message is retried automatically.',
	},
	'http:429': {
		class: 'retryable',
		title: 'Kapso rate limit',
		delayMs: MINUTE,
		backoff: 'fixed',
		explanation: 'Too many requests were made to Kapso in a short time.',
		action: 'Nothing to do: sending slows down and resumes automatically.',
	},
	'http:5xx': {
		class: 'retryable',
		title: 'Provider server error',
		delayMs: 2000,
		backoff: 'exponential',
		explanation: 'Kapso or WhatsApp had a temporary server error.',
		action: 'Nothing to do: the message is retried automatically.',
	},
	'http:401': {
		class: 'halts_broadcast',
		title: 'Not authorised',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'Kapso did not accept the API key.',
		action: 'Check KAPSO_API_KEY, then resume.',
	},
	'http:403': {
		class: 'halts_broadcast',
		title: 'Forbidden',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The API key may not use this phone number or business account.',
		action: 'Check the phone number id and WABA id belong to this Kapso project.',
	},
	'http:4xx': {
		class: 'halts_broadcast',
		title: 'Request rejected',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'Kapso rejected the request with an error this app does not recognise.',
		action: 'Check the error details and the sender setup, then resume.',
	},
	'kapso:marketing_preference_stopped': {
		class: 'recipient_final',
		title: 'Person stopped marketing messages',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'This person told WhatsApp they do not want marketing messages from this number.',
		action: 'Do not send marketing messages to this contact; they are marked as opted out.',
	},
	'kapso:invalid_recipient': {
		class: 'recipient_final',
		title: 'No phone number',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The contact has no phone number to send to.',
		action: 'Add a valid phone number to the contact.',
	},
	'kapso:invalid_request': {
		class: 'halts_broadcast',
		title: 'Invalid request',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The message could not be built: a value is missing or malformed.',
		action: 'Check the template mapping and the broadcast settings, then resume.',
	},
	timeout: {
		class: 'ambiguous',
		title: 'No answer in time',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'Kapso did not answer in time; the message may or may not have been sent.',
		action: 'Nothing to do: the app checks with Kapso before it sends again.',
	},
	connection_lost: {
		class: 'ambiguous',
		title: 'Connection lost',
		delayMs: null,
		backoff: 'fixed',
		explanation:
			'The connection to Kapso broke after the request was sent; it may have been accepted.',
		action: 'Nothing to do: the app checks with Kapso before it sends again.',
	},
	aborted: {
		class: 'ambiguous',
		title: 'Request cancelled',
		delayMs: null,
		backoff: 'fixed',
		explanation: 'The request was cancelled while in flight (for example during shutdown).',
		action: 'Nothing to do: the app checks with Kapso before it sends again.',
	},
	connection_refused: {
		class: 'retryable',
		title: 'Kapso unreachable',
		delayMs: 5000,
		backoff: 'exponential',
		explanation: 'Kapso could not be reached, so nothing was sent.',
		action:
			'Nothing to do: the message is retried automatically. Check the network if it persists.',
	},
} satisfies Record<string, ErrorRule>

export type ErrorKey = keyof typeof ERROR_TABLE

export type ClassifyInput = {
	/** Meta error code, when the provider gave one. */
	code?: number | null
	httpStatus?: number | null
	/** Kapso's own error code string (e.g. `marketing_preference_stopped`). */
	kapsoCode?: string | null
	transport?: TransportFailure | null
	/** The provider's message, kept as the title when the code is unknown. */
	message?: string | null
	/** `Retry-After` from the response; wins over the table's delay. */
	retryAfterMs?: number | null
	/** How many times this recipient was already tried (0 on the first failure). */
	attempt?: number
}

/** Finds the table row for an error: transport first, then Meta code, then Kapso code, then HTTP status. */
export function ruleKeyFor(input: ClassifyInput): ErrorKey {
	if (input.transport) return input.transport
	if (input.code != null && `meta:${input.code}` in ERROR_TABLE)
		return `meta:${input.code}` as ErrorKey
	if (input.kapsoCode && `kapso:${input.kapsoCode}` in ERROR_TABLE)
		return `kapso:${input.kapsoCode}` as ErrorKey
	const status = input.httpStatus ?? null
	if (status != null && `http:${status}` in ERROR_TABLE) return `http:${status}` as ErrorKey
	if (status != null && status >= 500) return 'http:5xx'
	return 'http:4xx'
}

/** The suggested wait before the next try, growing with the attempt number. */
export function delayFor(rule: ErrorRule, attempt = 0): number | null {
	if (rule.delayMs == null) return null
	const n = Math.max(0, Math.floor(attempt))
	if (rule.backoff === 'pair_rate')
		return Math.min(MAX_DELAY_MS, Math.max(rule.delayMs, 4 ** n * 1000))
	if (rule.backoff === 'exponential') return Math.min(MAX_DELAY_MS, rule.delayMs * 2 ** n)
	return rule.delayMs
}

/** Turns whatever went wrong into the contract's classified error. */
export function classifyError(input: ClassifyInput): GatewayError {
	const key = ruleKeyFor(input)
	const rule: ErrorRule = ERROR_TABLE[key]
	const known = key.startsWith('meta:') || key.startsWith('kapso:') || !input.message
	const delay = delayFor(rule, input.attempt ?? 0)
	const retryAfterMs =
		rule.class === 'retryable' && input.retryAfterMs != null ? input.retryAfterMs : delay
	return {
		ok: false,
		class: rule.class,
		code: input.code ?? input.httpStatus ?? null,
		title: known ? rule.title : `${rule.title}: ${input.message}`,
		httpStatus: input.httpStatus ?? null,
		retryAfterMs,
	}
}

/**
 * Explanation and advice for an error recorded earlier (reports show failures grouped by code).
 * `code` is what `GatewayError.code` held: a Meta code, else the HTTP status.
 */
export function describeError(code: number | null, transport?: TransportFailure): ErrorRule {
	if (transport) return ERROR_TABLE[transport]
	if (code == null) return ERROR_TABLE.timeout
	return ERROR_TABLE[ruleKeyFor({ code, httpStatus: code >= 400 && code < 600 ? code : null })]
}
