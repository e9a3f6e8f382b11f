import { and, asc, desc, eq, gt, ilike, inArray, isNotNull, lt, ne, or, sql } from 'drizzle-orm'
import { z } from 'zod'
import { recordAudit } from '#app/lib/audit.server'
import { isSandboxMode } from '#app/lib/env.server'
import { enqueueJob } from '#app/lib/jobs/enqueue.server'
import type { KapsoGateway } from '#app/lib/kapso/gateway.server'
import type { GatewayError, TemplateCreated, TemplateInfo } from '#app/lib/kapso/types'
import type { Executor } from '#db/client'
import {
	broadcasts,
	senders,
	templateEvents,
	templates,
	templateSyncRuns,
	users,
	type ReviewState,
	type Role,
} from '#db/schema/index'
import { templateVariables, type TemplateComponent, type TemplateDefinition } from './definition'
import { unsupportedFeatures } from './form'
import { normalizeLanguageCode } from './languages'
import {
	allowedActions,
	EDIT_LIMITS,
	explainRejection,
	PENDING_META_STATUSES,
	UNSENDABLE_META_STATUSES,
	type TemplateAction,
} from './status'
import { validateTemplate, type ValidationError } from './validate'

export type Actor = { id: string; role: Role }
export type Template = typeof templates.$inferSelect

/** The calls this module makes to Kapso. */
export type TemplateGateway = Pick<
	KapsoGateway,
	'createTemplate' | 'editTemplate' | 'listTemplates' | 'getTemplate' | 'deleteTemplate'
>

export type TemplateErrorKind = 'invalid' | 'forbidden' | 'not_found' | 'conflict' | 'provider'

/** A refused template action; routes turn `kind` into 400/403/404/409/502. */
export class TemplateError extends Error {
	constructor(
		readonly kind: TemplateErrorKind,
		message: string,
		readonly errors: ValidationError[] = [],
	) {
		super(message)
		this.name = 'TemplateError'
	}
}

const SYNC_JOB = 'sync_templates'
/** One fast follow-up chain per process tree; the every-minute cron is the safety net. */
const PENDING_JOB_KEY = 'sync_templates:pending'

function assertValid(definition: unknown): TemplateDefinition {
	const result = validateTemplate(definition)
	if (!result.ok) throw new TemplateError('invalid', 'The template has errors.', result.errors)
	return definition as TemplateDefinition
}

function assertAllowed(template: Template, actor: Actor, action: TemplateAction) {
	if (actor.role === 'analyst')
		throw new TemplateError('forbidden', 'Analysts can read templates but not change them.')
	if (!allowedActions(template, actor.role).includes(action)) {
		const forbidden =
			(action === 'approve' || action === 'request_changes') && actor.role !== 'admin'
				? 'Only an admin can approve templates or request changes.'
				: action === 'delete' && actor.role !== 'admin'
					? 'Only an admin can delete a template that exists on WhatsApp.'
					: null
		if (forbidden) throw new TemplateError('forbidden', forbidden)
		throw new TemplateError(
			'conflict',
			`This template cannot be ${ACTION_VERB[action]} while it is ${describe(template)}.`,
		)
	}
}

const ACTION_VERB: Record<TemplateAction, string> = {
	edit: 'edited',
	send_for_review: 'sent for review',
	approve: 'approved',
	request_changes: 'sent back for changes',
	delete: 'deleted',
	duplicate: 'duplicated',
}

function describe(t: Template) {
	return t.reviewState === 'submitted'
		? `${t.metaStatus ?? 'submitted'} on WhatsApp`
		: t.reviewState.replace('_', ' ')
}

async function recordEvent(
	executor: Executor,
	event: {
		templateId: string
		actorId: string | null
		kind: string
		fromState?: string | null
		toState?: string | null
		comment?: string | null
		details?: Record<string, unknown>
	},
) {
	await executor.insert(templateEvents).values({
		templateId: event.templateId,
		actorId: event.actorId,
		kind: event.kind,
		fromState: event.fromState ?? null,
		toState: event.toState ?? null,
		comment: event.comment ?? null,
		details: event.details ?? {},
	})
	await recordAudit(executor, {
		actorId: event.actorId,
		action: `template.${event.kind}`,
		objectType: 'template',
		objectId: event.templateId,
		details: { from: event.fromState ?? null, to: event.toState ?? null, ...event.details },
	})
}

async function lockTemplate(executor: Executor, id: string) {
	if (!z.uuid().safeParse(id).success) throw new TemplateError('not_found', 'Template not found.')
	const [row] = await executor.select().from(templates).where(eq(templates.id, id)).for('update')
	if (!row) throw new TemplateError('not_found', 'Template not found.')
	return row
}

function isUniqueViolation(error: unknown) {
	let current: unknown = error
	for (let i = 0; i < 3 && current && typeof current === 'object'; i++) {
		if ((current as { code?: unknown }).code === '23505') return true
		current = (current as { cause?: unknown }).cause
	}
	return false
}

const duplicateNameError = () =>
	new TemplateError('invalid', 'The template has errors.', [
		{
			path: 'name',
			rule: 'name.unique',
			message:
				'Name: a template with this name and language already exists on this WhatsApp account.',
		},
	])

// ——— Reading ———

export type TemplateListFilters = {
	/** A review state (`draft`, `in_review`, …) or a Meta status (`APPROVED`, `PAUSED`, …). */
	status?: string
	category?: string
	language?: string
	/** Matches the name or any text of the template. */
	q?: string
}

export async function listTemplates(executor: Executor, filters: TemplateListFilters = {}) {
	const conditions = []
	if (filters.status) {
		conditions.push(
			or(
				eq(templates.metaStatus, filters.status),
				sql`${templates.reviewState}::text = ${filters.status}`,
			),
		)
	}
	if (filters.category) conditions.push(sql`${templates.category}::text = ${filters.category}`)
	if (filters.language) conditions.push(eq(templates.language, filters.language))
	if (filters.q) {
		const pattern = `%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
		conditions.push(
			or(ilike(templates.name, pattern), sql`${templates.components}::text ilike ${pattern}`),
		)
	}
	return executor
		.select()
		.from(templates)
		.where(conditions.length ? and(...conditions) : undefined)
		.orderBy(desc(templates.updatedAt))
		.limit(500)
}

export async function getTemplate(executor: Executor, id: string) {
	if (!z.uuid().safeParse(id).success) return null
	const [row] = await executor.select().from(templates).where(eq(templates.id, id))
	return row ?? null
}

/** The template and its history (oldest first), each step with who did it. */
export async function getTemplateWithHistory(executor: Executor, id: string) {
	const template = await getTemplate(executor, id)
	if (!template) return null
	const events = await executor
		.select({
			id: templateEvents.id,
			kind: templateEvents.kind,
			fromState: templateEvents.fromState,
			toState: templateEvents.toState,
			comment: templateEvents.comment,
			details: templateEvents.details,
			createdAt: templateEvents.createdAt,
			actorName: users.name,
			actorEmail: users.email,
		})
		.from(templateEvents)
		.leftJoin(users, eq(users.id, templateEvents.actorId))
		.where(eq(templateEvents.templateId, id))
		.orderBy(asc(templateEvents.createdAt), asc(templateEvents.id))
	const usedBy = await executor
		.select({ id: broadcasts.id, name: broadcasts.name, status: broadcasts.status })
		.from(broadcasts)
		.where(eq(broadcasts.templateId, id))
		.orderBy(desc(broadcasts.createdAt))
		.limit(50)
	return { template, events, usedBy }
}

/**
 * Everything the template page shows: the template, its history, the broadcasts using it, what
 * the viewer may do, why WhatsApp rejected it, and how many edits Meta still allows.
 */
export async function templatePage(executor: Executor, id: string, role: Role) {
	const found = await getTemplateWithHistory(executor, id)
	if (!found) return null
	const { template, events, usedBy } = found
	const lastStatus = [...events]
		.reverse()
		.find((e) => e.kind === 'status_changed' && e.toState === template.metaStatus)
	const recommendation =
		typeof lastStatus?.details.recommendation === 'string'
			? lastStatus.details.recommendation
			: null
	const rejection =
		template.metaStatus === 'REJECTED' ? explainRejection(template.rejectionReason ?? 'NONE') : null
	return {
		template,
		events,
		usedBy,
		actions: allowedActions(template, role),
		rejection: rejection ? { code: template.rejectionReason, ...rejection, recommendation } : null,
		editAllowance: template.metaStatus === 'APPROVED' ? await editAllowance(executor, id) : null,
	}
}

/**
 * The WhatsApp accounts templates can be created in: those of the configured sender numbers, or
 * the sandbox's account when it stands in for Kapso and no number is configured yet.
 */
export async function listWabaIds(executor: Executor) {
	const rows = await executor
		.selectDistinct({ wabaId: senders.wabaId })
		.from(senders)
		.orderBy(asc(senders.wabaId))
	if (rows.length === 0 && isSandboxMode()) return [SANDBOX_DEFAULT_WABA_ID]
	return rows.map((r) => r.wabaId)
}

const SANDBOX_DEFAULT_WABA_ID = '200000000000001'

/** The list page: matching templates and the latest full sync of each WABA. */
export async function templateListPage(executor: Executor, filters: TemplateListFilters) {
	const [rows, syncRuns] = await Promise.all([
		listTemplates(executor, filters),
		latestSyncRuns(executor),
	])
	return { templates: rows, syncRuns }
}

/** The most recent full sync of each WABA, for the progress display. */
export async function latestSyncRuns(executor: Executor) {
	return executor
		.selectDistinctOn([templateSyncRuns.wabaId])
		.from(templateSyncRuns)
		.orderBy(templateSyncRuns.wabaId, desc(templateSyncRuns.createdAt))
}

// ——— Drafting and review ———

export async function createDraft(
	executor: Executor,
	actor: Actor,
	input: { wabaId: string; definition: unknown },
) {
	if (actor.role === 'analyst')
		throw new TemplateError('forbidden', 'Analysts can read templates but not change them.')
	const definition = assertValid(input.definition)
	if (!(await listWabaIds(executor)).includes(input.wabaId))
		throw new TemplateError('invalid', 'Choose a WhatsApp account.', [
			{
				path: 'wabaId',
				rule: 'waba.known',
				message: 'Choose the WhatsApp account of one of your sender numbers.',
			},
		])
	try {
		return await executor.transaction(async (tx) => {
			const [row] = await tx
				.insert(templates)
				.values({
					wabaId: input.wabaId,
					name: definition.name,
					language: definition.language,
					category: definition.category,
					parameterFormat: definition.parameter_format ?? 'POSITIONAL',
					components: definition.components,
					createdBy: actor.id,
					updatedBy: actor.id,
				})
				.returning()
			await recordEvent(tx, {
				templateId: row.id,
				actorId: actor.id,
				kind: 'created',
				toState: 'draft',
			})
			return row
		})
	} catch (error) {
		if (isUniqueViolation(error)) throw duplicateNameError()
		throw error
	}
}

/**
 * Saves new content. A template in review goes back to draft; an approved, rejected or paused one
 * starts a new version that must be reviewed and submitted again (the old one stays live).
 */
export async function updateTemplate(
	executor: Executor,
	actor: Actor,
	id: string,
	input: { definition: unknown },
) {
	const definition = assertValid(input.definition)
	try {
		return await executor.transaction(async (tx) => {
			const current = await lockTemplate(tx, id)
			assertAllowed(current, actor, 'edit')
			const unsupported = unsupportedFeatures(current.components)
			if (unsupported.length > 0)
				throw new TemplateError(
					'conflict',
					`This template uses parts Pregón cannot edit (${unsupported.join(', ')}); edit it in WhatsApp Manager.`,
				)
			if (
				current.remoteId &&
				(definition.name !== current.name || definition.language !== current.language)
			)
				throw new TemplateError('invalid', 'The template has errors.', [
					{
						path: definition.name !== current.name ? 'name' : 'language',
						rule: 'edit.identity',
						message:
							'Name and language cannot change once a template is on WhatsApp: duplicate it instead.',
					},
				])
			if (current.remoteId && definition.category !== current.category)
				throw new TemplateError('invalid', 'The template has errors.', [
					{
						path: 'category',
						rule: 'edit.category',
						message:
							'The category cannot change once a template is on WhatsApp: duplicate it instead.',
					},
				])
			const [row] = await tx
				.update(templates)
				.set({
					name: definition.name,
					language: definition.language,
					category: definition.category,
					parameterFormat: definition.parameter_format ?? 'POSITIONAL',
					components: definition.components,
					reviewState: 'draft',
					updatedBy: actor.id,
				})
				.where(eq(templates.id, id))
				.returning()
			await recordEvent(tx, {
				templateId: id,
				actorId: actor.id,
				kind: current.reviewState === 'submitted' ? 'new_version' : 'updated',
				fromState: current.reviewState,
				toState: 'draft',
			})
			return row
		})
	} catch (error) {
		if (isUniqueViolation(error)) throw duplicateNameError()
		throw error
	}
}

export async function sendForReview(
	executor: Executor,
	actor: Actor,
	id: string,
	comment?: string,
) {
	return executor.transaction(async (tx) => {
		const current = await lockTemplate(tx, id)
		assertAllowed(current, actor, 'send_for_review')
		assertValid(definitionOf(current))
		const [row] = await tx
			.update(templates)
			.set({ reviewState: 'in_review', updatedBy: actor.id })
			.where(eq(templates.id, id))
			.returning()
		await recordEvent(tx, {
			templateId: id,
			actorId: actor.id,
			kind: 'sent_for_review',
			fromState: current.reviewState,
			toState: 'in_review',
			comment: comment?.trim() || null,
		})
		return row
	})
}

export async function requestChanges(
	executor: Executor,
	actor: Actor,
	id: string,
	comment: string,
) {
	const text = comment.trim()
	if (!text)
		throw new TemplateError('invalid', 'Say what should change.', [
			{
				path: 'comment',
				rule: 'comment.required',
				message: 'Write what the author should change.',
			},
		])
	return executor.transaction(async (tx) => {
		const current = await lockTemplate(tx, id)
		assertAllowed(current, actor, 'request_changes')
		const [row] = await tx
			.update(templates)
			.set({ reviewState: 'changes_requested', updatedBy: actor.id })
			.where(eq(templates.id, id))
			.returning()
		await recordEvent(tx, {
			templateId: id,
			actorId: actor.id,
			kind: 'changes_requested',
			fromState: current.reviewState,
			toState: 'changes_requested',
			comment: text,
		})
		return row
	})
}

export function definitionOf(t: Template): TemplateDefinition {
	return {
		name: t.name,
		language: t.language,
		category: t.category,
		parameter_format: t.parameterFormat,
		components: t.components as unknown as TemplateComponent[],
	}
}

function providerError(action: string, error: GatewayError) {
	return new TemplateError(
		'provider',
		`WhatsApp did not accept the ${action}: ${error.title}${error.code ? ` (code ${error.code})` : ''}.` +
			(error.class === 'retryable' || error.class === 'ambiguous' ? ' Try again in a moment.' : ''),
	)
}

/**
 * Counts the edits WhatsApp would count against an approved template, and refuses one that would
 * exceed Meta's limits (once per 24 h, 10 per 30 days) before it is sent.
 */
export async function editAllowance(executor: Executor, templateId: string, now = new Date()) {
	const since30 = new Date(now.getTime() - 30 * 24 * 3600_000)
	const rows = await executor
		.select({ createdAt: templateEvents.createdAt })
		.from(templateEvents)
		.where(
			and(
				eq(templateEvents.templateId, templateId),
				eq(templateEvents.kind, 'edit_submitted'),
				gt(templateEvents.createdAt, since30),
			),
		)
		.orderBy(desc(templateEvents.createdAt))
	const last = rows[0]?.createdAt ?? null
	const nextAt = last ? new Date(last.getTime() + 24 * 3600_000) : null
	return {
		usedInThirtyDays: rows.length,
		remaining: Math.max(0, EDIT_LIMITS.perThirtyDays - rows.length),
		nextAllowedAt: nextAt && nextAt > now ? nextAt : null,
	}
}

/**
 * Admin approval: records it, then submits to WhatsApp through Kapso (a new template, or a new
 * version of one already there). The HTTP call happens outside any transaction; if it fails the
 * template stays "approved, not yet submitted" and approving again retries the submission.
 */
export async function approveTemplate(
	executor: Executor,
	actor: Actor,
	id: string,
	options: { gateway: TemplateGateway; now?: Date },
) {
	const now = options.now ?? new Date()
	const approved = await executor.transaction(async (tx) => {
		const current = await lockTemplate(tx, id)
		assertAllowed(current, actor, 'approve')
		const definition = assertValid(definitionOf(current))
		const isEdit = current.remoteId !== null && current.metaStatus !== 'DELETED'
		if (isEdit && current.metaStatus === 'APPROVED') {
			const allowance = await editAllowance(tx, id, now)
			if (allowance.remaining === 0)
				throw new TemplateError(
					'conflict',
					'WhatsApp allows 10 edits of an approved template in 30 days and they are used up. Duplicate it as a new template instead.',
				)
			if (allowance.nextAllowedAt)
				throw new TemplateError(
					'conflict',
					`WhatsApp allows one edit of an approved template per 24 hours; the next is possible after ${allowance.nextAllowedAt.toISOString()}.`,
				)
		}
		if (current.reviewState !== 'approved_internal') {
			await tx
				.update(templates)
				.set({ reviewState: 'approved_internal', updatedBy: actor.id })
				.where(eq(templates.id, id))
			await recordEvent(tx, {
				templateId: id,
				actorId: actor.id,
				kind: 'approved',
				fromState: current.reviewState,
				toState: 'approved_internal',
			})
		}
		return { current, definition, isEdit }
	})

	const { current, definition, isEdit } = approved
	const components = definition.components as unknown as Array<Record<string, unknown>>
	// A retry after a failed or unanswered create: if WhatsApp has it after all, link it.
	if (!isEdit && current.reviewState === 'approved_internal') {
		const existing = await options.gateway.listTemplates({
			wabaId: current.wabaId,
			name: definition.name,
			language: definition.language,
		})
		const match = existing.ok
			? existing.items.find(
					(i) =>
						i.name === definition.name && normalizeLanguageCode(i.language) === definition.language,
				)
			: undefined
		if (match) {
			await applyRemoteTemplate(executor, current.wabaId, match, now)
			await recordEvent(executor, {
				templateId: id,
				actorId: actor.id,
				kind: 'submitted',
				fromState: 'approved_internal',
				toState: 'submitted',
				details: { metaStatus: match.status, remoteId: match.id, linked: true },
			})
			return (await getTemplate(executor, id))!
		}
	}
	const result = isEdit
		? await options.gateway.editTemplate({
				wabaId: current.wabaId,
				templateId: current.remoteId!,
				components,
			})
		: await options.gateway.createTemplate({
				wabaId: current.wabaId,
				name: definition.name,
				language: definition.language,
				category: definition.category,
				parameterFormat: definition.parameter_format,
				components,
			})

	return executor.transaction(async (tx) => {
		await lockTemplate(tx, id)
		if (!result.ok) {
			await recordEvent(tx, {
				templateId: id,
				actorId: actor.id,
				kind: 'submit_failed',
				details: { code: result.code, title: result.title, class: result.class },
			})
			// An ambiguous create may have reached WhatsApp: the poller looks it up by name.
			if (result.class === 'ambiguous') await enqueuePendingPoll(tx, 0)
			throw providerError(isEdit ? 'edit' : 'template', result)
		}
		const created = 'id' in result ? (result as unknown as TemplateCreated) : null
		const status = created?.status ?? 'PENDING'
		const [row] = await tx
			.update(templates)
			.set({
				reviewState: 'submitted',
				metaStatus: status,
				remoteId: created?.id ?? current.remoteId,
				remoteComponents: components,
				rejectionReason: null,
				submittedAt: now,
				lastSyncedAt: now,
				updatedBy: actor.id,
				...(created?.category && isCategory(created.category)
					? { category: created.category }
					: {}),
			})
			.where(eq(templates.id, id))
			.returning()
		await recordEvent(tx, {
			templateId: id,
			actorId: actor.id,
			kind: isEdit ? 'edit_submitted' : 'submitted',
			fromState: 'approved_internal',
			toState: 'submitted',
			details: { metaStatus: status, remoteId: row.remoteId },
		})
		if ((PENDING_META_STATUSES as readonly string[]).includes(status))
			await enqueuePendingPoll(tx, 0)
		return row
	})
}

function isCategory(value: string): value is Template['category'] {
	return value === 'MARKETING' || value === 'UTILITY' || value === 'AUTHENTICATION'
}

/** Copies a template into a new draft (in any language, under a new name if taken). */
export async function duplicateTemplate(
	executor: Executor,
	actor: Actor,
	id: string,
	input: { name?: string; language?: string } = {},
) {
	const source = await getTemplate(executor, id)
	if (!source) throw new TemplateError('not_found', 'Template not found.')
	assertAllowed(source, actor, 'duplicate')
	const language = input.language ?? source.language
	let name = input.name?.trim()
	if (!name) {
		const taken = await executor
			.select({ name: templates.name })
			.from(templates)
			.where(
				and(
					eq(templates.wabaId, source.wabaId),
					eq(templates.language, language),
					ilike(templates.name, `${source.name.slice(0, 500)}_copy%`),
				),
			)
		const names = new Set(taken.map((t) => t.name))
		const base = `${source.name.slice(0, 500)}_copy`
		name = base
		for (let n = 2; names.has(name); n++) name = `${base}_${n}`
	}
	const draft = await createDraft(executor, actor, {
		wabaId: source.wabaId,
		definition: { ...definitionOf(source), name, language },
	})
	await recordEvent(executor, {
		templateId: draft.id,
		actorId: actor.id,
		kind: 'duplicated',
		details: { sourceId: source.id, sourceName: source.name, sourceLanguage: source.language },
	})
	return draft
}

/**
 * Deletes one language of a template. On WhatsApp this uses `hsm_id` so the other languages with
 * the same name stay. The local record goes too unless broadcasts still point at it, in which case
 * it stays as DELETED so their history keeps its template.
 */
export async function deleteTemplate(
	executor: Executor,
	actor: Actor,
	id: string,
	options: { gateway: TemplateGateway },
) {
	const current = await getTemplate(executor, id)
	if (!current) throw new TemplateError('not_found', 'Template not found.')
	assertAllowed(current, actor, 'delete')
	const onWhatsApp = current.remoteId !== null && current.metaStatus !== 'DELETED'
	if (onWhatsApp) {
		const result = await options.gateway.deleteTemplate({
			wabaId: current.wabaId,
			name: current.name,
			templateId: current.remoteId!,
		})
		// Already gone on WhatsApp counts as deleted.
		if (!result.ok && result.httpStatus !== 404) throw providerError('deletion', result)
	}
	return executor.transaction(async (tx) => {
		await lockTemplate(tx, id)
		const [used] = await tx
			.select({ n: sql<number>`count(*)::int` })
			.from(broadcasts)
			.where(eq(broadcasts.templateId, id))
		await recordAudit(tx, {
			actorId: actor.id,
			action: 'template.deleted',
			objectType: 'template',
			objectId: id,
			details: {
				name: current.name,
				language: current.language,
				remoteId: current.remoteId,
				onWhatsApp,
			},
		})
		if (used.n > 0) {
			await tx
				.update(templates)
				.set({ metaStatus: 'DELETED', updatedBy: actor.id, lastSyncedAt: new Date() })
				.where(eq(templates.id, id))
			await recordEvent(tx, {
				templateId: id,
				actorId: actor.id,
				kind: 'deleted',
				details: { kept: 'used by broadcasts' },
			})
			return { removed: false as const }
		}
		await tx.delete(templates).where(eq(templates.id, id))
		return { removed: true as const }
	})
}

// ——— Sending side ———

/**
 * What the broadcast engine needs to send a template: whether WhatsApp will take it now, why not,
 * and the variables a send must supply (from the version WhatsApp holds).
 */
export async function getSendableTemplate(executor: Executor, id: string) {
	const template = await getTemplate(executor, id)
	if (!template) return null
	const components = (template.remoteComponents ??
		template.components) as unknown as TemplateComponent[]
	const sendable = template.metaStatus === 'APPROVED'
	return {
		template,
		sendable,
		reason: sendable ? null : unsendableReason(template),
		name: template.name,
		language: template.language,
		parameterFormat: template.parameterFormat,
		components,
		variables: templateVariables(components),
	}
}

function unsendableReason(t: Template) {
	if (!t.metaStatus) return 'The template has not been submitted to WhatsApp yet.'
	if (t.metaStatus === 'PENDING') return 'WhatsApp is still reviewing the template.'
	if (t.metaStatus === 'REJECTED') return 'WhatsApp rejected the template.'
	if (t.metaStatus === 'PAUSED') return 'WhatsApp paused the template for low quality.'
	if (t.metaStatus === 'DISABLED') return 'WhatsApp disabled the template; make a new one.'
	return `The template is ${t.metaStatus} on WhatsApp; only APPROVED templates can be sent.`
}

/**
 * Pauses every broadcast that is sending or scheduled with this template, since each send would
 * fail with 132015/132016. Returns the ids of the paused broadcasts.
 */
export async function onTemplateBecameUnsendable(
	executor: Executor,
	templateId: string,
	status: string,
) {
	const reason =
		status === 'DISABLED'
			? 'Template disabled by WhatsApp: it can no longer be sent. Choose another template.'
			: `Template ${status.toLowerCase()} by WhatsApp for low quality. Resume once it is approved again.`
	const paused = await executor
		.update(broadcasts)
		.set({ status: 'paused', statusReason: reason })
		.where(
			and(
				eq(broadcasts.templateId, templateId),
				inArray(broadcasts.status, ['sending', 'scheduled']),
			),
		)
		.returning({ id: broadcasts.id })
	for (const { id } of paused)
		await recordAudit(executor, {
			actorId: null,
			action: 'broadcast.paused',
			objectType: 'broadcast',
			objectId: id,
			details: { reason, templateId, templateStatus: status },
		})
	return paused.map((b) => b.id)
}

// ——— Status from WhatsApp ———

type StatusChange = {
	status: string
	reason?: string | null
	recommendation?: string | null
	source: 'sync' | 'webhook'
	details?: Record<string, unknown>
}

async function applyStatus(
	executor: Executor,
	t: Template,
	change: StatusChange,
	now: Date,
	options: { awaitingSubmission?: boolean } = {},
) {
	const rejection =
		change.status === 'REJECTED' ? (change.reason ?? t.rejectionReason ?? 'NONE') : null
	const statusChanged = t.metaStatus !== change.status
	const reasonChanged = (t.rejectionReason ?? null) !== rejection
	await executor
		.update(templates)
		.set({
			metaStatus: change.status,
			rejectionReason: rejection,
			lastSyncedAt: now,
			...(t.reviewState === 'approved_internal' && !options.awaitingSubmission
				? { reviewState: 'submitted' as ReviewState, submittedAt: now }
				: {}),
		})
		.where(eq(templates.id, t.id))
	if (!statusChanged && !reasonChanged) return false
	await recordEvent(executor, {
		templateId: t.id,
		actorId: null,
		kind: 'status_changed',
		fromState: t.metaStatus,
		toState: change.status,
		details: {
			source: change.source,
			...(rejection ? { reason: rejection } : {}),
			...(change.recommendation ? { recommendation: change.recommendation } : {}),
			...change.details,
		},
	})
	if (statusChanged && (UNSENDABLE_META_STATUSES as readonly string[]).includes(change.status))
		await onTemplateBecameUnsendable(executor, t.id, change.status)
	return true
}

const statusUpdateSchema = z
	.object({
		event: z.string().min(1),
		message_template_id: z.union([z.number(), z.string()]).transform(String),
		message_template_name: z.string().optional(),
		message_template_language: z.string().optional(),
		reason: z.string().nullish(),
		rejection_info: z
			.object({ reason: z.string().nullish(), recommendation: z.string().nullish() })
			.loose()
			.nullish(),
		other_info: z
			.object({ title: z.string().nullish(), description: z.string().nullish() })
			.loose()
			.nullish(),
		disable_info: z.object({ disable_date: z.unknown() }).loose().nullish(),
	})
	.loose()

// Webhook-only events that are not statuses of their own.
const EVENT_STATUS: Record<string, string | null> = { REINSTATED: 'APPROVED', FLAGGED: null }

/**
 * Applies a Meta `message_template_status_update` webhook value (the `changes[].value` object).
 * Returns the template it matched, or null when no local template has that id (or name+language).
 */
export async function applyTemplateStatusUpdate(
	executor: Executor,
	value: unknown,
	options: { wabaId?: string } = {},
) {
	const update = statusUpdateSchema.parse(value)
	const now = new Date()
	return executor.transaction(async (tx) => {
		let [t] = await tx
			.select()
			.from(templates)
			.where(eq(templates.remoteId, update.message_template_id))
			.for('update')
		if (!t && update.message_template_name && update.message_template_language) {
			const conditions = [
				eq(templates.name, update.message_template_name),
				eq(templates.language, normalizeLanguageCode(update.message_template_language)),
			]
			if (options.wabaId) conditions.push(eq(templates.wabaId, options.wabaId))
			const candidates = await tx
				.select()
				.from(templates)
				.where(and(...conditions))
				.for('update')
			// Without the WABA a name+language pair is only trusted when it is unambiguous.
			if (candidates.length === 1) t = candidates[0]
			if (t && !t.remoteId)
				await tx
					.update(templates)
					.set({ remoteId: update.message_template_id })
					.where(eq(templates.id, t.id))
		}
		if (!t) return null
		const status = update.event in EVENT_STATUS ? EVENT_STATUS[update.event] : update.event
		const details = {
			event: update.event,
			...(update.other_info?.title
				? { info: update.other_info.title, description: update.other_info.description }
				: {}),
		}
		if (status === null) {
			await recordEvent(tx, {
				templateId: t.id,
				actorId: null,
				kind: 'flagged',
				details: { source: 'webhook', ...details },
			})
			return { templateId: t.id, status: t.metaStatus }
		}
		await applyStatus(
			tx,
			t,
			{
				status,
				reason: update.reason ?? null,
				recommendation: update.rejection_info?.recommendation ?? null,
				source: 'webhook',
				details,
			},
			now,
		)
		return { templateId: t.id, status }
	})
}

/** Applies a Meta `message_template_quality_update` webhook value. */
export async function applyTemplateQualityUpdate(executor: Executor, value: unknown) {
	const update = z
		.object({
			message_template_id: z.union([z.number(), z.string()]).transform(String),
			new_quality_score: z.string(),
			previous_quality_score: z.string().nullish(),
		})
		.loose()
		.parse(value)
	return executor.transaction(async (tx) => {
		const [t] = await tx
			.select()
			.from(templates)
			.where(eq(templates.remoteId, update.message_template_id))
			.for('update')
		if (!t) return null
		if (t.qualityScore !== update.new_quality_score) {
			await tx
				.update(templates)
				.set({ qualityScore: update.new_quality_score })
				.where(eq(templates.id, t.id))
			await recordEvent(tx, {
				templateId: t.id,
				actorId: null,
				kind: 'quality_changed',
				fromState: t.qualityScore,
				toState: update.new_quality_score,
				details: { source: 'webhook' },
			})
		}
		return { templateId: t.id }
	})
}

/** JSON with sorted keys: jsonb reorders keys, so a plain stringify would see changes that are not. */
function canonicalJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
	if (value && typeof value === 'object')
		return `{${Object.keys(value)
			.sort()
			.map(
				(key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
			)
			.join(',')}}`
	return JSON.stringify(value) ?? 'null'
}

function rejectionFromInfo(info: TemplateInfo) {
	return info.rejectedReason && info.rejectedReason !== 'NONE' ? info.rejectedReason : null
}

/**
 * Brings one remote template into the local table: links or creates the record (origin
 * 'external' when it was made outside the app), and applies status, quality and content.
 */
export async function applyRemoteTemplate(
	executor: Executor,
	wabaId: string,
	info: TemplateInfo,
	now = new Date(),
) {
	const language = normalizeLanguageCode(info.language)
	return executor.transaction(async (tx) => {
		let [t] = await tx
			.select()
			.from(templates)
			.where(and(eq(templates.wabaId, wabaId), eq(templates.remoteId, info.id)))
			.for('update')
		if (!t)
			[t] = await tx
				.select()
				.from(templates)
				.where(
					and(
						eq(templates.wabaId, wabaId),
						eq(templates.name, info.name),
						eq(templates.language, language),
					),
				)
				.for('update')
		const category =
			info.category && isCategory(info.category.toUpperCase())
				? (info.category.toUpperCase() as Template['category'])
				: null
		const parameterFormat = info.parameterFormat?.toUpperCase() === 'NAMED' ? 'NAMED' : 'POSITIONAL'
		if (!t) {
			const [row] = await tx
				.insert(templates)
				.values({
					wabaId,
					name: info.name,
					language,
					category: category ?? 'MARKETING',
					parameterFormat,
					components: info.components,
					remoteComponents: info.components,
					reviewState: 'submitted',
					metaStatus: info.status,
					remoteId: info.id,
					rejectionReason: info.status === 'REJECTED' ? (rejectionFromInfo(info) ?? 'NONE') : null,
					qualityScore: info.qualityScore,
					origin: 'external',
					lastSyncedAt: now,
				})
				.returning()
			await recordEvent(tx, {
				templateId: row.id,
				actorId: null,
				kind: 'imported',
				toState: info.status,
				details: { source: 'sync', remoteId: info.id },
			})
			return 'created' as const
		}
		const linked = t.remoteId !== info.id
		const contentChanged = canonicalJson(t.remoteComponents) !== canonicalJson(info.components)
		// An approved edit whose submission failed: WhatsApp still shows the old version, unchanged.
		// It stays approved here so approving again resubmits it.
		const awaitingSubmission =
			t.reviewState === 'approved_internal' &&
			t.remoteId === info.id &&
			t.metaStatus === info.status &&
			canonicalJson(t.components) !== canonicalJson(info.components)
		// While a new version is being drafted locally, `components` is the draft: leave it alone.
		const followRemote =
			!awaitingSubmission &&
			(t.reviewState === 'submitted' || t.reviewState === 'approved_internal')
		await tx
			.update(templates)
			.set({
				remoteId: info.id,
				remoteComponents: info.components,
				...(followRemote && info.components.length > 0 ? { components: info.components } : {}),
				...(category && category !== t.category ? { category } : {}),
				qualityScore: info.qualityScore ?? t.qualityScore,
				lastSyncedAt: now,
			})
			.where(eq(templates.id, t.id))
		// The first score (UNKNOWN for a new template) is not a change worth a history entry.
		if (t.qualityScore !== null && info.qualityScore && t.qualityScore !== info.qualityScore)
			await recordEvent(tx, {
				templateId: t.id,
				actorId: null,
				kind: 'quality_changed',
				fromState: t.qualityScore,
				toState: info.qualityScore,
				details: { source: 'sync' },
			})
		const statusChanged = await applyStatus(
			tx,
			t,
			{ status: info.status, reason: rejectionFromInfo(info), source: 'sync' },
			now,
			{ awaitingSubmission },
		)
		return statusChanged ||
			linked ||
			contentChanged ||
			(category !== null && category !== t.category)
			? ('updated' as const)
			: ('unchanged' as const)
	})
}

/** Schedules a quick look at pending templates (rounds back off from seconds to a minute). */
export async function enqueuePendingPoll(executor: Executor, round: number, now = new Date()) {
	const delays = [2_000, 3_000, 5_000, 10_000, 20_000, 30_000]
	await enqueueJob(
		executor,
		SYNC_JOB,
		{ mode: 'pending', round },
		{
			runAt: new Date(now.getTime() + delays[Math.min(round, delays.length - 1)]),
			jobKey: PENDING_JOB_KEY,
			jobKeyMode: 'replace',
		},
	)
}

/** How many fast rounds follow a submission before the every-minute cron takes over. */
export const PENDING_FAST_ROUNDS = 6

/**
 * Checks every template that is pending, awaiting the outcome of a submission, or submitted in the
 * last ten minutes, and applies what WhatsApp says. Returns how many still wait on WhatsApp.
 */
export async function pollPendingTemplates(
	executor: Executor,
	options: { gateway: TemplateGateway; now?: Date },
) {
	const now = options.now ?? new Date()
	const recent = new Date(now.getTime() - 10 * 60_000)
	const rows = await executor
		.select()
		.from(templates)
		.where(
			or(
				and(
					isNotNull(templates.remoteId),
					inArray(templates.metaStatus, [...PENDING_META_STATUSES]),
				),
				eq(templates.reviewState, 'approved_internal'),
				and(isNotNull(templates.remoteId), gt(templates.submittedAt, recent)),
			),
		)
		.limit(500)
	let checked = 0
	const failures: string[] = []
	for (const t of rows) {
		let info: TemplateInfo | null = null
		if (t.remoteId) {
			const result = await options.gateway.getTemplate({ wabaId: t.wabaId, templateId: t.remoteId })
			if (!result.ok) {
				failures.push(result.title)
				continue
			}
			info = result.template
			if (!info) {
				await applyStatus(executor, t, { status: 'DELETED', source: 'sync' }, now)
				checked++
				continue
			}
		} else {
			// Approved here but the create's outcome is unknown: look it up by name and language.
			const result = await options.gateway.listTemplates({
				wabaId: t.wabaId,
				name: t.name,
				language: t.language,
			})
			if (!result.ok) {
				failures.push(result.title)
				continue
			}
			info =
				result.items.find(
					(i) => i.name === t.name && normalizeLanguageCode(i.language) === t.language,
				) ?? null
			if (!info) continue
		}
		await applyRemoteTemplate(executor, t.wabaId, info, now)
		checked++
	}
	const [waiting] = await executor
		.select({ n: sql<number>`count(*)::int` })
		.from(templates)
		.where(
			or(
				and(
					isNotNull(templates.remoteId),
					inArray(templates.metaStatus, [...PENDING_META_STATUSES]),
				),
				eq(templates.reviewState, 'approved_internal'),
			),
		)
	return { checked, stillPending: waiting.n, failures }
}

// ——— Full sync ———

/** Every WABA the app knows: those of sender numbers and those templates already live in. */
async function knownWabaIds(executor: Executor) {
	const rows = await executor.execute<{ waba_id: string }>(
		sql`select waba_id from ${senders} union select waba_id from ${templates} order by 1`,
	)
	return [...rows].map((r) => r.waba_id)
}

const STALE_SYNC_MS = 30 * 60_000

/**
 * Queues a full sync of each WABA (or just `wabaId`) and returns the run ids. A WABA that already
 * has a queued or running sync keeps that one.
 */
export async function requestFullSync(executor: Executor, actor: Actor | null, wabaId?: string) {
	if (actor?.role === 'analyst')
		throw new TemplateError('forbidden', 'Analysts can read templates but not sync them.')
	const wabas = wabaId ? [wabaId] : await knownWabaIds(executor)
	return executor.transaction(async (tx) => {
		const runIds: string[] = []
		for (const waba of wabas) {
			// A run its worker never finished (crash, retries exhausted) must not block syncing forever.
			await tx
				.update(templateSyncRuns)
				.set({ status: 'failed', error: 'Interrupted before it finished.', finishedAt: new Date() })
				.where(
					and(
						eq(templateSyncRuns.wabaId, waba),
						inArray(templateSyncRuns.status, ['queued', 'running']),
						lt(templateSyncRuns.createdAt, new Date(Date.now() - STALE_SYNC_MS)),
					),
				)
			const [active] = await tx
				.select({ id: templateSyncRuns.id })
				.from(templateSyncRuns)
				.where(
					and(
						eq(templateSyncRuns.wabaId, waba),
						inArray(templateSyncRuns.status, ['queued', 'running']),
					),
				)
			if (active) {
				runIds.push(active.id)
				continue
			}
			const [run] = await tx
				.insert(templateSyncRuns)
				.values({ wabaId: waba, requestedBy: actor?.id ?? null })
				.returning({ id: templateSyncRuns.id })
			await enqueueJob(
				tx,
				SYNC_JOB,
				{ mode: 'full', runId: run.id },
				{ jobKey: `sync_templates:full:${waba}`, maxAttempts: 3 },
			)
			if (actor)
				await recordAudit(tx, {
					actorId: actor.id,
					action: 'template.sync_requested',
					objectType: 'waba',
					objectId: waba,
				})
			runIds.push(run.id)
		}
		return runIds
	})
}

export async function getSyncRun(executor: Executor, runId: string) {
	if (!z.uuid().safeParse(runId).success) return null
	const [run] = await executor.select().from(templateSyncRuns).where(eq(templateSyncRuns.id, runId))
	return run ?? null
}

/**
 * Reads every template of the run's WABA page by page, applying each and recording progress.
 * Templates that disappeared from WhatsApp are marked DELETED once the listing is complete.
 */
export async function runFullSync(
	executor: Executor,
	runId: string,
	options: { gateway: TemplateGateway; now?: Date },
) {
	const run = await getSyncRun(executor, runId)
	if (!run || run.status === 'completed' || run.status === 'failed') return run
	const now = options.now ?? new Date()
	await executor
		.update(templateSyncRuns)
		.set({
			status: 'running',
			startedAt: run.startedAt ?? now,
			seen: 0,
			created: 0,
			updated: 0,
			removed: 0,
			pages: 0,
			error: null,
		})
		.where(eq(templateSyncRuns.id, runId))
	const seen = new Set<string>()
	const counts = { seen: 0, created: 0, updated: 0, removed: 0, pages: 0 }
	let after: string | null = null
	do {
		const page = await options.gateway.listTemplates({ wabaId: run.wabaId, after, limit: 100 })
		if (!page.ok) {
			await executor
				.update(templateSyncRuns)
				.set({
					status: 'failed',
					error: `${page.title}${page.code ? ` (code ${page.code})` : ''}`,
					finishedAt: new Date(),
					...counts,
				})
				.where(eq(templateSyncRuns.id, runId))
			return getSyncRun(executor, runId)
		}
		for (const info of page.items) {
			seen.add(info.id)
			const outcome = await applyRemoteTemplate(executor, run.wabaId, info, now)
			counts.seen++
			if (outcome === 'created') counts.created++
			if (outcome === 'updated') counts.updated++
		}
		counts.pages++
		await executor.update(templateSyncRuns).set(counts).where(eq(templateSyncRuns.id, runId))
		after = page.nextCursor
	} while (after)

	const gone = await executor
		.select()
		.from(templates)
		.where(
			and(
				eq(templates.wabaId, run.wabaId),
				isNotNull(templates.remoteId),
				ne(templates.metaStatus, 'DELETED'),
			),
		)
	for (const t of gone) {
		if (seen.has(t.remoteId!)) continue
		await executor.transaction((tx) =>
			applyStatus(tx, t, { status: 'DELETED', source: 'sync' }, now),
		)
		counts.removed++
	}
	await executor
		.update(templateSyncRuns)
		.set({ status: 'completed', finishedAt: new Date(), ...counts })
		.where(eq(templateSyncRuns.id, runId))
	return getSyncRun(executor, runId)
}
