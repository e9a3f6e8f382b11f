/**
 * What template states mean to users, and which actions each role has on a template in a given
 * state. Shared by the domain (which enforces it) and the pages (which only show what is allowed).
 */

import type { ReviewState, Role } from '#db/schema/index'

export const REVIEW_STATE_LABEL: Record<ReviewState, string> = {
	draft: 'Draft',
	in_review: 'In review',
	changes_requested: 'Changes requested',
	approved_internal: 'Approved, not yet submitted',
	submitted: 'Submitted to WhatsApp',
}

type Tone = 'green' | 'yellow' | 'red' | 'gray' | 'blue'

export const META_STATUSES = [
	'PENDING',
	'APPROVED',
	'REJECTED',
	'PAUSED',
	'DISABLED',
	'IN_APPEAL',
	'PENDING_DELETION',
	'DELETED',
	'ARCHIVED',
	'LIMIT_EXCEEDED',
	'LOCKED',
] as const

const META_STATUS_INFO: Record<string, { tone: Tone; description: string }> = {
	PENDING: {
		tone: 'yellow',
		description: 'WhatsApp is reviewing it (usually minutes, up to 24 hours).',
	},
	APPROVED: { tone: 'green', description: 'Approved by WhatsApp: it can be sent.' },
	REJECTED: {
		tone: 'red',
		description: 'Rejected by WhatsApp: see the reason, edit it and submit again.',
	},
	PAUSED: {
		tone: 'red',
		description:
			'Paused by WhatsApp for low quality (3 hours the first time, 6 the second). Broadcasts using it are paused.',
	},
	DISABLED: {
		tone: 'red',
		description:
			'Disabled by WhatsApp after repeated pauses. It can never be sent again: make a new template.',
	},
	IN_APPEAL: { tone: 'yellow', description: 'An appeal against the rejection is being reviewed.' },
	PENDING_DELETION: { tone: 'gray', description: 'Being deleted on WhatsApp.' },
	DELETED: { tone: 'gray', description: 'Deleted on WhatsApp.' },
	ARCHIVED: { tone: 'gray', description: 'Archived on WhatsApp.' },
	LIMIT_EXCEEDED: {
		tone: 'red',
		description: 'The WhatsApp account has reached its template limit.',
	},
	LOCKED: { tone: 'red', description: 'Locked by WhatsApp: it cannot be edited.' },
}

export function metaStatusInfo(status: string | null | undefined) {
	if (!status) return { tone: 'gray' as Tone, description: 'Not submitted to WhatsApp yet.' }
	return (
		META_STATUS_INFO[status] ?? { tone: 'gray' as Tone, description: `WhatsApp status ${status}.` }
	)
}

export function reviewStateTone(state: ReviewState): Tone {
	return state === 'changes_requested'
		? 'red'
		: state === 'in_review'
			? 'yellow'
			: state === 'submitted'
				? 'blue'
				: 'gray'
}

/** Statuses that mean "ask again soon": the poller keeps checking these. */
export const PENDING_META_STATUSES = ['PENDING', 'IN_APPEAL', 'PENDING_DELETION'] as const
/** Statuses that make sends fail (132015/132016): broadcasts using the template are paused. */
export const UNSENDABLE_META_STATUSES = ['PAUSED', 'DISABLED'] as const
/** Meta lets these be edited (POST /{template_id}); others must wait or be recreated. */
export const EDITABLE_META_STATUSES = ['APPROVED', 'REJECTED', 'PAUSED'] as const

/** Meta's limits on editing an approved template. */
export const EDIT_LIMITS = { perThirtyDays: 10, perDay: 1 } as const

export const EDIT_LIMITS_EXPLANATION =
	'WhatsApp lets you edit an approved template at most once every 24 hours and 10 times in 30 days. ' +
	'The edit goes through WhatsApp review again; until it is approved the previous version keeps being sent. ' +
	'Name, language and category cannot change: duplicate the template for that.'

/** Meta's rejection reasons in plain language, with what to change. */
export const REJECTION_REASONS: Record<string, { meaning: string; fix: string }> = {
	INVALID_FORMAT: {
		meaning: 'The template breaks WhatsApp’s format rules.',
		fix: 'Check the variables: numbered {{1}}, {{2}}… without gaps, not at the start or end of the body, never two side by side, each with a realistic example. Follow WhatsApp’s recommendation below if there is one.',
	},
	INCORRECT_CATEGORY: {
		meaning: 'The category does not match the content.',
		fix: 'Offers, promotions and invitations are Marketing; Utility is only for updates about something the customer already did (an order, a booking, an account). Change the category or the text.',
	},
	PROMOTIONAL: {
		meaning: 'A utility or authentication template contains promotional content.',
		fix: 'Remove the promotional wording (discounts, offers, “buy now”) or make it a Marketing template.',
	},
	TAG_CONTENT_MISMATCH: {
		meaning: 'The content does not fit the chosen category, or the examples do not fit the text.',
		fix: 'Make the text, the examples and the category tell the same story; use realistic example values.',
	},
	ABUSIVE_CONTENT: {
		meaning: 'WhatsApp found content that breaks its Business and Commerce policies.',
		fix: 'Remove threatening, abusive, adult or prohibited-goods content, then submit a new version.',
	},
	SCAM: {
		meaning: 'WhatsApp considers the message misleading or a possible scam.',
		fix: 'Make it clear who is writing and why; do not ask for passwords, card numbers or money transfers; avoid unrealistic claims.',
	},
	CATEGORY_NOT_AVAILABLE: {
		meaning: 'This category is not available for the WhatsApp account.',
		fix: 'Choose another category.',
	},
	NONE: {
		meaning: 'WhatsApp gave no specific reason.',
		fix: 'Review the text against WhatsApp’s template guidelines; if you believe it is compliant, appeal in WhatsApp Manager.',
	},
}

export function explainRejection(reason: string | null | undefined) {
	if (!reason) return null
	return (
		REJECTION_REASONS[reason] ?? {
			meaning: `WhatsApp rejected it (${reason}).`,
			fix: 'Review the text against WhatsApp’s template guidelines and submit a new version.',
		}
	)
}

export type TemplateStateView = {
	reviewState: ReviewState
	metaStatus: string | null
	remoteId: string | null
}

export type TemplateAction =
	'edit' | 'send_for_review' | 'approve' | 'request_changes' | 'delete' | 'duplicate'

/** Whether the content may be changed now (and, for a submitted one, start a new version). */
export function canEditContent(t: TemplateStateView) {
	if (t.reviewState !== 'submitted') return true
	return (EDITABLE_META_STATUSES as readonly string[]).includes(t.metaStatus ?? '')
}

/**
 * The actions `role` may take on `t` now. Marketers draft, edit and send for review; admins also
 * approve (which submits to WhatsApp), request changes and delete from WhatsApp; analysts only read.
 */
export function allowedActions(t: TemplateStateView, role: Role): TemplateAction[] {
	if (role === 'analyst') return []
	const actions: TemplateAction[] = ['duplicate']
	if (canEditContent(t)) actions.push('edit')
	if (t.reviewState === 'draft' || t.reviewState === 'changes_requested')
		actions.push('send_for_review')
	if (role === 'admin' && (t.reviewState === 'in_review' || t.reviewState === 'approved_internal'))
		actions.push('approve')
	if (role === 'admin' && t.reviewState === 'in_review') actions.push('request_changes')
	// Deleting a template that exists on WhatsApp is an admin decision; a local draft is anyone's.
	const onWhatsApp = t.remoteId !== null && t.metaStatus !== 'DELETED'
	if (role === 'admin' ? t.metaStatus !== 'DISABLED' : !onWhatsApp) actions.push('delete')
	return actions
}
