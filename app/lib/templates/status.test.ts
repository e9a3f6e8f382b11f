import { describe, expect, test } from 'vitest'
import {
	allowedActions,
	canEditContent,
	explainRejection,
	metaStatusInfo,
	type TemplateStateView,
} from './status'

const draft: TemplateStateView = { reviewState: 'draft', metaStatus: null, remoteId: null }
const inReview: TemplateStateView = { ...draft, reviewState: 'in_review' }
const approved: TemplateStateView = {
	reviewState: 'submitted',
	metaStatus: 'APPROVED',
	remoteId: '1',
}

describe('allowedActions', () => {
	test('analysts only read', () => {
		for (const t of [draft, inReview, approved]) expect(allowedActions(t, 'analyst')).toEqual([])
	})
	test('marketers draft, edit and send for review, never approve', () => {
		expect(allowedActions(draft, 'marketer').sort()).toEqual([
			'delete',
			'duplicate',
			'edit',
			'send_for_review',
		])
		expect(allowedActions(inReview, 'marketer')).not.toContain('approve')
		expect(allowedActions(inReview, 'marketer')).not.toContain('request_changes')
		expect(allowedActions(approved, 'marketer')).not.toContain('delete')
	})
	test('admins approve, request changes and delete from WhatsApp', () => {
		expect(allowedActions(inReview, 'admin')).toEqual(
			expect.arrayContaining(['approve', 'request_changes']),
		)
		expect(allowedActions({ ...draft, reviewState: 'approved_internal' }, 'admin')).toContain(
			'approve',
		)
		expect(allowedActions(approved, 'admin')).toContain('delete')
		expect(allowedActions({ ...approved, metaStatus: 'DISABLED' }, 'admin')).not.toContain('delete')
	})
})

test('submitted templates are editable only in the statuses Meta allows', () => {
	expect(canEditContent(approved)).toBe(true)
	expect(canEditContent({ ...approved, metaStatus: 'REJECTED' })).toBe(true)
	expect(canEditContent({ ...approved, metaStatus: 'PAUSED' })).toBe(true)
	expect(canEditContent({ ...approved, metaStatus: 'PENDING' })).toBe(false)
	expect(canEditContent({ ...approved, metaStatus: 'DISABLED' })).toBe(false)
})

test('every rejection reason Meta sends has a plain explanation and a fix', () => {
	for (const reason of [
		'ABUSIVE_CONTENT',
		'INCORRECT_CATEGORY',
		'INVALID_FORMAT',
		'PROMOTIONAL',
		'SCAM',
		'TAG_CONTENT_MISMATCH',
		'CATEGORY_NOT_AVAILABLE',
		'NONE',
	]) {
		const explained = explainRejection(reason)!
		expect(explained.meaning.length).toBeGreaterThan(10)
		expect(explained.fix.length).toBeGreaterThan(10)
	}
	expect(explainRejection('SOMETHING_NEW')!.meaning).toContain('SOMETHING_NEW')
	expect(explainRejection(null)).toBeNull()
	expect(metaStatusInfo('PAUSED').tone).toBe('red')
})
