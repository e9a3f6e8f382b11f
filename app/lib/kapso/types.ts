/**
 * The contract between the app and Kapso (or the sandbox). Every gateway call returns one of
 * these results and never throws for a provider error: the caller decides what to do.
 */

/**
 * - `retryable`: try again later (suggested delay in `retryAfterMs`).
 * - `recipient_final`: this recipient will never get this message; do not retry it.
 * - `halts_broadcast`: every recipient would fail the same way; pause the broadcast.
 * - `ambiguous`: the request may have been accepted (timeout or connection lost after it was
 *   written): never re-send blindly, reconcile by lookup.
 */
export type ErrorClass = 'retryable' | 'recipient_final' | 'halts_broadcast' | 'ambiguous'

export type GatewayError = {
	ok: false
	class: ErrorClass
	/** Meta error code when there is one (e.g. 130429), else the HTTP status, else null. */
	code: number | null
	title: string
	httpStatus: number | null
	retryAfterMs: number | null
}

export type GatewayResult<T> = ({ ok: true } & T) | GatewayError

export type SendSuccess = {
	wamid: string
	waId: string | null
	/** `accepted` or `held_for_quality_assessment` when Meta paces the template. */
	messageStatus: string | null
}

/** A template send in Meta's wire format (snake_case components). */
export type TemplateSend = {
	phoneNumberId: string
	to: string
	template: {
		name: string
		language: string
		components?: Array<Record<string, unknown>>
	}
	/** Names the ledger row, echoed back in status webhooks (max 512 chars). */
	bizOpaqueCallbackData?: string
	signal?: AbortSignal
}

export type TextSend = {
	phoneNumberId: string
	to: string
	body: string
	contextWamid?: string
	signal?: AbortSignal
}

/** A template as Kapso returns it (Meta's snake_case wire format, unconverted). */
export type TemplateInfo = {
	id: string
	name: string
	language: string
	status: string
	category: string | null
	parameterFormat: string | null
	components: Array<Record<string, unknown>>
	/** `GREEN | YELLOW | RED | UNKNOWN`, null when not reported. */
	qualityScore: string | null
	/** `NONE` or a reason such as `INVALID_FORMAT`; null when not reported. */
	rejectedReason: string | null
}

export type TemplateCreate = {
	wabaId: string
	name: string
	language: string
	category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION'
	parameterFormat?: 'NAMED' | 'POSITIONAL'
	allowCategoryChange?: boolean
	messageSendTtlSeconds?: number
	/** Meta's create format (`type: 'BODY'`, `example.body_text_named_params`, …). */
	components: Array<Record<string, unknown>>
	signal?: AbortSignal
}

export type TemplateEdit = {
	wabaId: string
	/** Meta's template id (`hsm_id`). */
	templateId: string
	/** The complete new components, in the create format; they replace the old ones. */
	components: Array<Record<string, unknown>>
	category?: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION'
	signal?: AbortSignal
}

export type TemplateCreated = { id: string; status: string; category: string | null }

export type Page<T> = { items: T[]; nextCursor: string | null }

/** A stored message from Kapso's history (outbound or inbound). */
export type MessageInfo = {
	wamid: string
	direction: 'inbound' | 'outbound' | null
	/** Kapso's status: `pending | sent | delivered | read | failed | received`. */
	status: string | null
	type: string | null
	/** The contact's phone number (E.164 with `+`) when Kapso reports it. */
	phoneNumber: string | null
	conversationId: string | null
	templateName: string | null
	/** Unix seconds as Meta sends them, converted to a Date. */
	timestamp: Date | null
	text: string | null
	raw: Record<string, unknown>
}

export type ConversationInfo = {
	id: string
	phoneNumber: string | null
	phoneNumberId: string | null
	status: string | null
	lastActiveAt: Date | null
	contactName: string | null
	raw: Record<string, unknown>
}
