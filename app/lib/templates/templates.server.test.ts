import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { createKapsoGateway } from '#app/lib/kapso/gateway.server'
import { createBroadcast, scheduleBroadcast } from '#app/lib/broadcasts/broadcasts.server'
import { createSandboxServer, type SandboxServer } from '#app/sandbox/server'
import { db } from '#db/client'
import {
	auditLog,
	broadcasts,
	senders,
	templateEvents,
	templates,
	templateSyncRuns,
	users,
	type Role,
} from '#db/schema/index'
import type { TemplateDefinition } from './definition'
import { explainRejection } from './status'
import {
	applyTemplateStatusUpdate,
	approveTemplate,
	createDraft,
	deleteTemplate,
	duplicateTemplate,
	getSendableTemplate,
	getTemplateWithHistory,
	listTemplates,
	pollPendingTemplates,
	requestChanges,
	requestFullSync,
	runFullSync,
	sendForReview,
	TemplateError,
	updateTemplate,
	type Actor,
	type TemplateGateway,
} from './templates.server'

const WABA = '200000000000001'
let sandbox: SandboxServer
let gateway: TemplateGateway
let admin: Actor
let marketer: Actor
let analyst: Actor

async function makeUser(role: Role): Promise<Actor> {
	const [user] = await db
		.insert(users)
		.values({
			email: `${role}@templates.test`,
			name: `The ${role}`,
			role,
			passwordHash: 'not-used',
		})
		.returning()
	return { id: user.id, role }
}

function definition(name: string, overrides: Partial<TemplateDefinition> = {}): TemplateDefinition {
	return {
		name,
		language: 'en_US',
		category: 'MARKETING',
		parameter_format: 'POSITIONAL',
		components: [
			{
				type: 'BODY',
				text: 'Hi {{1}}, your code {{2}} is ready.',
				example: { body_text: [['Ann', 'X1']] },
			},
			{
				type: 'BUTTONS',
				buttons: [
					{
						type: 'URL',
						text: 'Open',
						url: 'https://shop.example/c/{{1}}',
						example: ['https://shop.example/c/X1'],
					},
				],
			},
		],
		...overrides,
	}
}

async function expectTemplateError(promise: Promise<unknown>, kind: TemplateError['kind']) {
	const error = await promise.then(
		() => null,
		(e: unknown) => e,
	)
	expect(error).toBeInstanceOf(TemplateError)
	expect((error as TemplateError).kind).toBe(kind)
	return error as TemplateError
}

/** Polls as the worker would until WhatsApp (the sandbox) has decided. */
async function pollUntilDecided(id: string) {
	for (let i = 0; i < 100; i++) {
		await pollPendingTemplates(db, { gateway })
		const [row] = await db.select().from(templates).where(eq(templates.id, id))
		if (row.metaStatus !== 'PENDING') return row
		await new Promise((resolve) => setTimeout(resolve, 50))
	}
	throw new Error('the sandbox never decided')
}

/** Waits until WhatsApp (the sandbox) has reviewed a template created straight on it. */
async function remoteDecided(templateId: string) {
	for (let i = 0; i < 100; i++) {
		const remote = await gateway.getTemplate({ wabaId: WABA, templateId })
		if (remote.ok && remote.template?.status !== 'PENDING') return
		await new Promise((resolve) => setTimeout(resolve, 20))
	}
	throw new Error('the sandbox never decided')
}

async function approvedTemplate(name: string, language = 'en_US') {
	const draft = await createDraft(db, marketer, {
		wabaId: WABA,
		definition: definition(name, { language }),
	})
	await sendForReview(db, marketer, draft.id)
	await approveTemplate(db, admin, draft.id, { gateway })
	return pollUntilDecided(draft.id)
}

beforeAll(async () => {
	sandbox = await createSandboxServer({ webhookUrl: null, review: { delayMs: 30 }, templates: [] })
	gateway = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 5000 })
	admin = await makeUser('admin')
	marketer = await makeUser('marketer')
	analyst = await makeUser('analyst')
})

afterAll(async () => {
	await sandbox?.close()
})

beforeEach(() => {
	sandbox.updateSettings({ review: { delayMs: 30, mode: 'auto' } })
})

describe('review flow by role', () => {
	test('draft → review → changes requested → review → approved → submitted PENDING → APPROVED', async () => {
		const invalid = await expectTemplateError(
			createDraft(db, marketer, {
				wabaId: WABA,
				definition: definition('bad_one', {
					components: [{ type: 'BODY', text: '{{1}} hello', example: { body_text: [['a']] } }],
				}),
			}),
			'invalid',
		)
		expect(invalid.errors.map((e) => e.rule)).toContain('body.variable_at_start')

		const draft = await createDraft(db, marketer, {
			wabaId: WABA,
			definition: definition('flow_one'),
		})
		expect(draft.reviewState).toBe('draft')
		await expectTemplateError(
			createDraft(db, marketer, { wabaId: WABA, definition: definition('flow_one') }),
			'invalid',
		)

		await sendForReview(db, marketer, draft.id)
		await expectTemplateError(approveTemplate(db, marketer, draft.id, { gateway }), 'forbidden')
		await expectTemplateError(requestChanges(db, marketer, draft.id, 'no'), 'forbidden')
		await expectTemplateError(requestChanges(db, admin, draft.id, '  '), 'invalid')

		await requestChanges(db, admin, draft.id, 'Say which shop.')
		const edited = definition('flow_one')
		edited.components[0] = {
			type: 'BODY',
			text: 'Hi {{1}}, your code {{2}} is ready at Shop.',
			example: { body_text: [['Ann', 'X1']] },
		}
		await updateTemplate(db, marketer, draft.id, { definition: edited })
		await sendForReview(db, marketer, draft.id)

		const submitted = await approveTemplate(db, admin, draft.id, { gateway })
		expect(submitted.reviewState).toBe('submitted')
		expect(submitted.metaStatus).toBe('PENDING')
		expect(submitted.remoteId).toMatch(/\d+/)
		expect(submitted.submittedAt).not.toBeNull()

		const decided = await pollUntilDecided(draft.id)
		expect(decided.metaStatus).toBe('APPROVED')
		expect(decided.lastSyncedAt).not.toBeNull()

		const history = await getTemplateWithHistory(db, draft.id)
		expect(history!.events.map((e) => [e.kind, e.actorName])).toEqual([
			['created', 'The marketer'],
			['sent_for_review', 'The marketer'],
			['changes_requested', 'The admin'],
			['updated', 'The marketer'],
			['sent_for_review', 'The marketer'],
			['approved', 'The admin'],
			['submitted', 'The admin'],
			['status_changed', null],
		])
		expect(history!.events[2].comment).toBe('Say which shop.')
		const audits = await db.select().from(auditLog).where(eq(auditLog.objectId, draft.id))
		expect(audits.map((a) => a.action)).toContain('template.approved')
	})

	test('an analyst can neither draft, edit, send for review nor sync', async () => {
		await expectTemplateError(
			createDraft(db, analyst, { wabaId: WABA, definition: definition('analyst_one') }),
			'forbidden',
		)
		const draft = await createDraft(db, marketer, {
			wabaId: WABA,
			definition: definition('analyst_two'),
		})
		await expectTemplateError(
			updateTemplate(db, analyst, draft.id, { definition: definition('analyst_two') }),
			'forbidden',
		)
		await expectTemplateError(sendForReview(db, analyst, draft.id), 'forbidden')
		await expectTemplateError(duplicateTemplate(db, analyst, draft.id), 'forbidden')
		await expectTemplateError(requestFullSync(db, analyst), 'forbidden')
	})

	test('a rejected template gets its reason in plain language', async () => {
		sandbox.updateSettings({ review: { mode: 'reject' } })
		const rejected = await approvedTemplate('rejected_one')
		expect(rejected.metaStatus).toBe('REJECTED')
		expect(rejected.rejectionReason).toBe('INCORRECT_CATEGORY')
		expect(explainRejection(rejected.rejectionReason)!.fix).toMatch(/Marketing/)
		// A rejected template can be edited, which starts a new version through review.
		const next = await updateTemplate(db, marketer, rejected.id, {
			definition: definitionFrom(rejected),
		})
		expect(next.reviewState).toBe('draft')
		expect(next.metaStatus).toBe('REJECTED')
	})

	test('a template the sandbox review finds malformed is REJECTED as INVALID_FORMAT', async () => {
		// Bypass the app's validator: a template the app would never submit, to see Meta's side.
		const created = await gateway.createTemplate({
			wabaId: WABA,
			name: 'ends_with_var',
			language: 'en_US',
			category: 'MARKETING',
			components: [{ type: 'BODY', text: 'Your code is {{1}}', example: { body_text: [['1']] } }],
		})
		if (!created.ok) throw new Error(created.title)
		for (let i = 0; i < 100; i++) {
			const remote = await gateway.getTemplate({ wabaId: WABA, templateId: created.id })
			if (remote.ok && remote.template?.status !== 'PENDING') break
			await new Promise((resolve) => setTimeout(resolve, 20))
		}
		const [run] = await requestFullSync(db, admin, WABA)
		await runFullSync(db, run, { gateway })
		const [row] = await db.select().from(templates).where(eq(templates.name, 'ends_with_var'))
		expect(row.origin).toBe('external')
		expect(row.metaStatus).toBe('REJECTED')
		expect(row.rejectionReason).toBe('INVALID_FORMAT')
	})
})

function definitionFrom(row: typeof templates.$inferSelect): TemplateDefinition {
	return {
		name: row.name,
		language: row.language,
		category: row.category,
		parameter_format: row.parameterFormat,
		components: row.components as never,
	}
}

test('retrying a submission links a template WhatsApp already has instead of creating it twice', async () => {
	const draft = await createDraft(db, marketer, {
		wabaId: WABA,
		definition: definition('lost_answer'),
	})
	await sendForReview(db, marketer, draft.id)
	// As if the create reached WhatsApp but its answer was lost.
	const created = await gateway.createTemplate({
		wabaId: WABA,
		...definition('lost_answer'),
	} as never)
	if (!created.ok) throw new Error(created.title)
	await db
		.update(templates)
		.set({ reviewState: 'approved_internal' })
		.where(eq(templates.id, draft.id))
	const before = sandbox.stats().templatesCreated
	const linked = await approveTemplate(db, admin, draft.id, { gateway })
	expect(sandbox.stats().templatesCreated).toBe(before)
	expect(linked.remoteId).toBe(created.id)
	expect(linked.reviewState).toBe('submitted')
	expect(linked.origin).toBe('app')
})

describe('editing an approved template', () => {
	test('keeps the live version sendable and enforces Meta’s edit limits', async () => {
		const approved = await approvedTemplate('edit_limits')
		expect(approved.metaStatus).toBe('APPROVED')
		const edited = definitionFrom(approved)
		edited.components[0] = {
			type: 'BODY',
			text: 'Hello {{1}}, code {{2}} is yours.',
			example: { body_text: [['A', 'B']] },
		}
		await expectTemplateError(
			updateTemplate(db, marketer, approved.id, { definition: { ...edited, name: 'renamed' } }),
			'invalid',
		)
		const draft = await updateTemplate(db, marketer, approved.id, { definition: edited })
		expect(draft.reviewState).toBe('draft')
		expect(draft.metaStatus).toBe('APPROVED')

		const sendable = await getSendableTemplate(db, approved.id)
		expect(sendable!.sendable).toBe(true)
		expect(JSON.stringify(sendable!.components)).toContain('your code {{2}} is ready')
		expect(sendable!.variables.body).toEqual(['1', '2'])
		expect(sendable!.variables.urlButtons).toEqual([{ index: 0, text: 'Open' }])

		await sendForReview(db, marketer, approved.id)
		await db
			.insert(templateEvents)
			.values({ templateId: approved.id, kind: 'edit_submitted', actorId: admin.id })
		const limited = await expectTemplateError(
			approveTemplate(db, admin, approved.id, { gateway }),
			'conflict',
		)
		expect(limited.message).toMatch(/24 hours/)
	})
})

describe('editing a template that is on WhatsApp', () => {
	test('approved → edited, reviewed, approved by an admin → edit submitted → PENDING → APPROVED with the new text', async () => {
		const approved = await approvedTemplate('edit_round_trip')
		expect(approved.metaStatus).toBe('APPROVED')
		const edited = definitionFrom(approved)
		edited.components[0] = {
			type: 'BODY',
			text: 'Hello {{1}}, code {{2}} is waiting for you.',
			example: { body_text: [['A', 'B']] },
		}
		await updateTemplate(db, marketer, approved.id, { definition: edited })
		await sendForReview(db, marketer, approved.id)
		const createdBefore = sandbox.stats().templatesCreated
		const editedBefore = sandbox.stats().templatesEdited

		const submitted = await approveTemplate(db, admin, approved.id, { gateway })
		expect(submitted.reviewState).toBe('submitted')
		expect(submitted.metaStatus).toBe('PENDING')
		expect(submitted.remoteId).toBe(approved.remoteId)
		expect(sandbox.stats().templatesCreated).toBe(createdBefore)
		expect(sandbox.stats().templatesEdited).toBe(editedBefore + 1)
		const pending = await getSendableTemplate(db, approved.id)
		expect(pending!.sendable).toBe(false)

		const decided = await pollUntilDecided(approved.id)
		expect(decided.metaStatus).toBe('APPROVED')
		expect(JSON.stringify(decided.components)).toContain('is waiting for you')
		const sendable = await getSendableTemplate(db, approved.id)
		expect(sendable!.sendable).toBe(true)
		expect(JSON.stringify(sendable!.components)).toContain('is waiting for you')
		const remote = await gateway.getTemplate({ wabaId: WABA, templateId: approved.remoteId! })
		expect(remote.ok && JSON.stringify(remote.template?.components)).toContain('is waiting for you')

		const history = await getTemplateWithHistory(db, approved.id)
		expect(history!.events.map((e) => [e.kind, e.fromState, e.toState]).slice(-5)).toEqual([
			['new_version', 'submitted', 'draft'],
			['sent_for_review', 'draft', 'in_review'],
			['approved', 'in_review', 'approved_internal'],
			['edit_submitted', 'approved_internal', 'submitted'],
			['status_changed', 'PENDING', 'APPROVED'],
		])
	})

	test('an edit WhatsApp refuses stays approved here, survives the poller, and approving again resubmits it', async () => {
		const approved = await approvedTemplate('edit_refused')
		// Edited outside the app (WhatsApp Manager) with the same text: WhatsApp's daily edit is used up.
		const outside = await gateway.editTemplate({
			wabaId: WABA,
			templateId: approved.remoteId!,
			components: approved.remoteComponents as Array<Record<string, unknown>>,
		})
		expect(outside.ok).toBe(true)
		await pollUntilDecided(approved.id)
		const edited = definitionFrom(approved)
		edited.components[0] = {
			type: 'BODY',
			text: 'Hello {{1}}, code {{2}} expires soon.',
			example: { body_text: [['A', 'B']] },
		}
		await updateTemplate(db, marketer, approved.id, { definition: edited })
		await sendForReview(db, marketer, approved.id)
		await expectTemplateError(approveTemplate(db, admin, approved.id, { gateway }), 'provider')

		await pollPendingTemplates(db, { gateway })
		const [kept] = await db.select().from(templates).where(eq(templates.id, approved.id))
		expect(kept.reviewState).toBe('approved_internal')
		expect(kept.metaStatus).toBe('APPROVED')
		expect(JSON.stringify(kept.components)).toContain('expires soon')
		expect(JSON.stringify(kept.remoteComponents)).toContain('your code {{2}} is ready')

		// A day later WhatsApp takes it. The faked clock stands still, so the review must be instant.
		sandbox.updateSettings({ review: { delayMs: 0 } })
		vi.useFakeTimers({ toFake: ['Date'] })
		try {
			vi.setSystemTime(Date.now() + 25 * 3600_000)
			const submitted = await approveTemplate(db, admin, approved.id, { gateway })
			expect(submitted.metaStatus).toBe('PENDING')
			const decided = await pollUntilDecided(approved.id)
			expect(decided.metaStatus).toBe('APPROVED')
			expect(JSON.stringify(decided.remoteComponents)).toContain('expires soon')
		} finally {
			vi.useRealTimers()
		}
	})
})

test('a template with parts the editor cannot show is not editable here', async () => {
	const [external] = await db
		.insert(templates)
		.values({
			wabaId: WABA,
			name: 'carousel_promo',
			language: 'en_US',
			category: 'MARKETING',
			components: [
				{ type: 'BODY', text: 'Look at these.' },
				{ type: 'CAROUSEL', cards: [] },
			],
			reviewState: 'submitted',
			metaStatus: 'APPROVED',
			remoteId: '123456',
			origin: 'external',
		})
		.returning()
	const error = await expectTemplateError(
		updateTemplate(db, marketer, external.id, { definition: definition('carousel_promo') }),
		'conflict',
	)
	expect(error.message).toMatch(/carousel/)
})

describe('status updates from WhatsApp', () => {
	test('PAUSED pauses sending and scheduled broadcasts; REINSTATED approves again', async () => {
		const approved = await approvedTemplate('paused_one')
		const made = await db
			.insert(broadcasts)
			.values(
				(['sending', 'scheduled', 'draft', 'completed'] as const).map((status) => ({
					name: `b_${status}`,
					templateId: approved.id,
					status,
				})),
			)
			.returning()
		const result = await applyTemplateStatusUpdate(db, {
			event: 'PAUSED',
			message_template_id: Number(approved.remoteId),
			message_template_name: 'paused_one',
			message_template_language: 'en-US',
			reason: null,
			other_info: { title: 'FIRST_PAUSE', description: 'Low quality' },
		})
		expect(result).toEqual({ templateId: approved.id, status: 'PAUSED' })
		const after = await db.select().from(broadcasts).where(eq(broadcasts.templateId, approved.id))
		const byName = Object.fromEntries(after.map((b) => [b.name, b]))
		expect(byName.b_sending.status).toBe('paused')
		expect(byName.b_scheduled.status).toBe('paused')
		expect(byName.b_sending.statusReason).toMatch(/paused by WhatsApp/)
		expect(byName.b_draft.status).toBe('draft')
		expect(byName.b_completed.status).toBe('completed')
		expect((await getSendableTemplate(db, approved.id))!.sendable).toBe(false)

		await applyTemplateStatusUpdate(db, {
			event: 'REINSTATED',
			message_template_id: approved.remoteId,
		})
		expect((await getSendableTemplate(db, approved.id))!.template.metaStatus).toBe('APPROVED')

		expect(
			await applyTemplateStatusUpdate(db, { event: 'APPROVED', message_template_id: 999 }),
		).toBeNull()
		await db.delete(broadcasts).where(eq(broadcasts.templateId, approved.id))
		expect(made).toHaveLength(4)
	})

	test('DISABLED pauses sending and scheduled broadcasts and refuses to schedule more', async () => {
		const approved = await approvedTemplate('disabled_one')
		const [sender] = await db
			.insert(senders)
			.values({ phoneNumberId: '100000000000777', wabaId: WABA, displayNumber: '+1 555 010 0777' })
			.returning()
		const broadcast = (name: string) =>
			createBroadcast(
				{
					name,
					senderId: sender.id,
					templateId: approved.id,
					audience: { tagsAny: ['disabled-one'] },
					variableMapping: {
						'body:1': { source: 'field', field: 'name', fallback: 'there' },
						'body:2': { source: 'attribute', key: 'code' },
						'button:0': { source: 'attribute', key: 'code' },
					},
				},
				null,
			)
		const scheduled = await broadcast('b_scheduled')
		// An identical broadcast schedules while the template is APPROVED, so the refusal below
		// comes from the template's status, not from the broadcast.
		await scheduleBroadcast(scheduled.id, { at: new Date(Date.now() + 3600_000) }, null)
		const draft = await broadcast('b_draft')
		const [sending] = await db
			.insert(broadcasts)
			.values({ name: 'b_sending', templateId: approved.id, status: 'sending' })
			.returning()

		const result = await applyTemplateStatusUpdate(db, {
			event: 'DISABLED',
			message_template_id: approved.remoteId,
			reason: null,
			disable_info: { disable_date: 1_700_000_000 },
		})
		expect(result).toEqual({ templateId: approved.id, status: 'DISABLED' })

		const after = await db.select().from(broadcasts).where(eq(broadcasts.templateId, approved.id))
		const byId = Object.fromEntries(after.map((b) => [b.id, b]))
		for (const paused of [scheduled.id, sending.id]) {
			expect(byId[paused].status).toBe('paused')
			expect(byId[paused].statusReason).toMatch(/disabled by WhatsApp: it can no longer be sent/)
		}
		expect(byId[draft.id].status).toBe('draft')
		await expect(scheduleBroadcast(draft.id, { at: null }, null)).rejects.toThrow(/DISABLED/)

		const sendable = await getSendableTemplate(db, approved.id)
		expect(sendable!.sendable).toBe(false)
		expect(sendable!.reason).toMatch(/disabled/)
		const history = await getTemplateWithHistory(db, approved.id)
		expect(history!.events.at(-1)).toMatchObject({
			kind: 'status_changed',
			fromState: 'APPROVED',
			toState: 'DISABLED',
		})
	})

	test('a REJECTED webhook stores the reason and the recommendation', async () => {
		const draft = await createDraft(db, marketer, {
			wabaId: WABA,
			definition: definition('webhook_reject'),
		})
		await sendForReview(db, marketer, draft.id)
		sandbox.updateSettings({ review: { delayMs: 60_000 } })
		const submitted = await approveTemplate(db, admin, draft.id, { gateway })
		await applyTemplateStatusUpdate(db, {
			event: 'REJECTED',
			message_template_id: submitted.remoteId,
			reason: 'INVALID_FORMAT',
			rejection_info: {
				reason: 'Variables at the end',
				recommendation: 'Add text after the variable.',
			},
		})
		const history = await getTemplateWithHistory(db, draft.id)
		expect(history!.template.rejectionReason).toBe('INVALID_FORMAT')
		expect(history!.events.at(-1)!.details).toMatchObject({
			recommendation: 'Add text after the variable.',
		})
	})
})

describe('sync', () => {
	test('imports templates made outside the app, keeps progress, marks deleted ones', async () => {
		for (const name of ['outside_a', 'outside_b']) {
			const created = await gateway.createTemplate({
				wabaId: WABA,
				name,
				language: 'fil',
				category: 'UTILITY',
				components: [{ type: 'BODY', text: `Made in WhatsApp Manager (${name}).` }],
			})
			expect(created.ok).toBe(true)
		}
		const [runId] = await requestFullSync(db, marketer, WABA)
		const queued = await db.select().from(templateSyncRuns).where(eq(templateSyncRuns.id, runId))
		expect(queued[0].status).toBe('queued')
		// A second request while one is queued reuses it.
		expect(await requestFullSync(db, marketer, WABA)).toEqual([runId])

		const run = await runFullSync(db, runId, { gateway })
		expect(run!.status).toBe('completed')
		expect(run!.seen).toBeGreaterThanOrEqual(2)
		expect(run!.created).toBeGreaterThanOrEqual(2)

		const imported = await listTemplates(db, { language: 'fil' })
		expect(imported.map((t) => [t.name, t.origin, t.reviewState])).toEqual(
			expect.arrayContaining([
				['outside_a', 'external', 'submitted'],
				['outside_b', 'external', 'submitted'],
			]),
		)
		expect(await listTemplates(db, { q: 'WhatsApp Manager (outside_b' })).toHaveLength(1)
		const outsideB = imported.find((t) => t.name === 'outside_b')!
		const events = await db
			.select()
			.from(templateEvents)
			.where(eq(templateEvents.templateId, outsideB.id))
		expect(events.map((e) => e.kind)).toEqual(['imported'])

		// A run left unfinished for long (its worker died) no longer blocks a new one.
		await db
			.update(templateSyncRuns)
			.set({ status: 'running', createdAt: new Date(Date.now() - 3600_000) })
			.where(eq(templateSyncRuns.id, runId))
		const [fresh] = await requestFullSync(db, marketer, WABA)
		expect(fresh).not.toBe(runId)
		expect(
			(await db.select().from(templateSyncRuns).where(eq(templateSyncRuns.id, runId)))[0].status,
		).toBe('failed')
		await runFullSync(db, fresh, { gateway })

		const removed = await gateway.deleteTemplate({
			wabaId: WABA,
			name: 'outside_b',
			templateId: outsideB.remoteId!,
		})
		expect(removed.ok).toBe(true)
		const [again] = await requestFullSync(db, admin, WABA)
		expect(again).not.toBe(runId)
		const second = await runFullSync(db, again, { gateway })
		expect(second!.created).toBe(0)
		expect(second!.updated).toBe(0)
		expect(second!.removed).toBe(1)
		const [gone] = await db.select().from(templates).where(eq(templates.id, outsideB.id))
		expect(gone.metaStatus).toBe('DELETED')
	})
	test('stores the quality score WhatsApp reports, for imported and known templates', async () => {
		const known = await approvedTemplate('quality_known')
		expect(known.qualityScore).toBe('UNKNOWN')
		const outside = await gateway.createTemplate({
			wabaId: WABA,
			name: 'quality_outside',
			language: 'en_US',
			category: 'UTILITY',
			components: [{ type: 'BODY', text: 'Made in WhatsApp Manager, paused since.' }],
		})
		if (!outside.ok) throw new Error(outside.title)
		await remoteDecided(outside.id)
		// The sandbox, like WhatsApp, pauses a template when its quality drops to RED.
		for (const id of [known.remoteId!, outside.id])
			expect(sandbox.setTemplateStatus({ id, status: 'PAUSED' })).not.toBeNull()

		const [run] = await requestFullSync(db, admin, WABA)
		await runFullSync(db, run, { gateway })
		const [knownAfter] = await db.select().from(templates).where(eq(templates.id, known.id))
		expect(knownAfter.qualityScore).toBe('RED')
		const [imported] = await db
			.select()
			.from(templates)
			.where(eq(templates.name, 'quality_outside'))
		expect(imported.origin).toBe('external')
		expect(imported.qualityScore).toBe('RED')
		const events = await db
			.select()
			.from(templateEvents)
			.where(
				and(eq(templateEvents.templateId, known.id), eq(templateEvents.kind, 'quality_changed')),
			)
		expect(events.map((e) => [e.fromState, e.toState, e.details])).toEqual([
			['UNKNOWN', 'RED', { source: 'sync' }],
		])
	})
})

describe('the list', () => {
	const names = (rows: Array<{ name: string }>) => rows.map((t) => t.name)

	test('filters by category and by status (review state or WhatsApp status), leaving the rest out', async () => {
		await createDraft(db, marketer, {
			wabaId: WABA,
			definition: definition('list_utility_draft', { category: 'UTILITY' }),
		})
		const inReview = await createDraft(db, marketer, {
			wabaId: WABA,
			definition: definition('list_marketing_review'),
		})
		await sendForReview(db, marketer, inReview.id)
		await db.insert(templates).values({
			wabaId: WABA,
			name: 'list_utility_paused',
			language: 'en_US',
			category: 'UTILITY',
			components: definition('list_utility_paused').components,
			reviewState: 'submitted',
			metaStatus: 'PAUSED',
			remoteId: '700000000000901',
		})
		const ours = ['list_utility_draft', 'list_marketing_review', 'list_utility_paused']
		const listed = async (filters: Parameters<typeof listTemplates>[1]) => {
			const rows = await listTemplates(db, filters)
			return {
				rows,
				ours: names(rows)
					.filter((n) => ours.includes(n))
					.sort(),
			}
		}

		const utility = await listed({ category: 'UTILITY' })
		expect(utility.ours).toEqual(['list_utility_draft', 'list_utility_paused'])
		expect(new Set(utility.rows.map((t) => t.category))).toEqual(new Set(['UTILITY']))
		const marketing = await listed({ category: 'MARKETING' })
		expect(marketing.ours).toEqual(['list_marketing_review'])
		expect(new Set(marketing.rows.map((t) => t.category))).toEqual(new Set(['MARKETING']))
		expect((await listed({ category: 'AUTHENTICATION' })).ours).toEqual([])

		const paused = await listed({ status: 'PAUSED' })
		expect(paused.ours).toEqual(['list_utility_paused'])
		expect(new Set(paused.rows.map((t) => t.metaStatus))).toEqual(new Set(['PAUSED']))
		const drafts = await listed({ status: 'draft' })
		expect(drafts.ours).toEqual(['list_utility_draft'])
		expect(new Set(drafts.rows.map((t) => t.reviewState))).toEqual(new Set(['draft']))
		expect((await listed({ status: 'in_review' })).ours).toEqual(['list_marketing_review'])

		// Filters combine: both must hold.
		expect((await listed({ category: 'UTILITY', status: 'draft' })).ours).toEqual([
			'list_utility_draft',
		])
		expect((await listed({ category: 'MARKETING', status: 'PAUSED' })).ours).toEqual([])
	})
})

describe('delete and duplicate', () => {
	test('deletes one language only, on WhatsApp and here', async () => {
		const english = await approvedTemplate('two_langs', 'en_US')
		const spanish = await approvedTemplate('two_langs', 'es')
		await expectTemplateError(deleteTemplate(db, marketer, spanish.id, { gateway }), 'forbidden')
		const result = await deleteTemplate(db, admin, spanish.id, { gateway })
		expect(result).toEqual({ removed: true })

		const remote = await gateway.listTemplates({ wabaId: WABA, name: 'two_langs' })
		expect(remote.ok && remote.items.map((t) => t.language)).toEqual(['en_US'])
		const local = await db.select().from(templates).where(eq(templates.name, 'two_langs'))
		expect(local.map((t) => t.id)).toEqual([english.id])
		const audits = await db
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.objectId, spanish.id), eq(auditLog.action, 'template.deleted')))
		expect(audits).toHaveLength(1)
	})

	test('a marketer may delete a local draft', async () => {
		const draft = await createDraft(db, marketer, {
			wabaId: WABA,
			definition: definition('throwaway'),
		})
		expect(await deleteTemplate(db, marketer, draft.id, { gateway })).toEqual({ removed: true })
	})

	test('duplicates into a new draft with a free name', async () => {
		const source = await createDraft(db, marketer, {
			wabaId: WABA,
			definition: definition('dup_source'),
		})
		const first = await duplicateTemplate(db, marketer, source.id)
		const second = await duplicateTemplate(db, marketer, source.id)
		const spanish = await duplicateTemplate(db, marketer, source.id, { language: 'es' })
		expect([first.name, second.name, spanish.name]).toEqual([
			'dup_source_copy',
			'dup_source_copy_2',
			'dup_source_copy',
		])
		expect(first.reviewState).toBe('draft')
		expect(first.components).toEqual(source.components)
		const events = await db
			.select()
			.from(templateEvents)
			.where(eq(templateEvents.templateId, first.id))
		expect(events.map((e) => e.kind)).toEqual(['created', 'duplicated'])
	})
})
