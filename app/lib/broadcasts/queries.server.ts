import { and, asc, desc, eq, ilike, inArray, or, sql as q, type SQL } from 'drizzle-orm'
import type { TemplateComponent } from '#app/lib/templates/definition'
import { db, type Executor } from '#db/client'
import {
	broadcastCounterDeltas,
	broadcasts,
	imports,
	senders,
	templates,
	type BroadcastStatus,
	type RecipientState,
} from '#db/schema/index'
import {
	AudienceSchema,
	unsupportedTemplateReason,
	VariableMappingSchema,
	variableSlots,
	type Audience,
	type VariableMapping,
} from './audience'
import { audienceRows } from './audience.server'
import { BroadcastError } from './broadcasts.server'
import { preflightBroadcast, type Preflight } from './preflight.server'
import { getBroadcastProgress } from './progress.server'

/** The components WhatsApp holds when there are any: a send uses those, not a newer draft. */
function liveComponents(row: { components: unknown; remoteComponents: unknown }) {
	return (row.remoteComponents ?? row.components) as TemplateComponent[]
}

export type StateCounts = Record<RecipientState, number>

const EMPTY_COUNTS: StateCounts = {
	queued: 0,
	sending: 0,
	sent: 0,
	delivered: 0,
	read: 0,
	retry_wait: 0,
	unknown: 0,
	failed: 0,
	skipped: 0,
}

/** Ledger counts per state of each broadcast, folded from the counter deltas. */
export async function stateCounts(ids: string[], executor: Executor = db) {
	const result = new Map<string, StateCounts>()
	if (ids.length === 0) return result
	const rows = await executor
		.select({
			broadcastId: broadcastCounterDeltas.broadcastId,
			state: broadcastCounterDeltas.state,
			total: q<number>`sum(${broadcastCounterDeltas.delta})::int`,
		})
		.from(broadcastCounterDeltas)
		.where(inArray(broadcastCounterDeltas.broadcastId, ids))
		.groupBy(broadcastCounterDeltas.broadcastId, broadcastCounterDeltas.state)
	for (const row of rows) {
		const counts = result.get(row.broadcastId) ?? { ...EMPTY_COUNTS }
		counts[row.state] = row.total
		result.set(row.broadcastId, counts)
	}
	return result
}

/**
 * What users read from the ledger counts. A message that was delivered was also sent, and a read
 * one was delivered, so those figures include the later states.
 */
export function summarizeCounts(counts: StateCounts) {
	const read = counts.read
	const delivered = counts.delivered + read
	const sent = counts.sent + delivered
	const remaining = counts.queued + counts.sending + counts.retry_wait + counts.unknown
	const total = Object.values(counts).reduce((sum, n) => sum + n, 0)
	const done = total - remaining
	return {
		total,
		sent,
		delivered,
		read,
		failed: counts.failed,
		skipped: counts.skipped,
		remaining,
		inFlight: counts.sending + counts.unknown,
		retrying: counts.retry_wait,
		done,
		/** 0–100: share of the ledger whose outcome is decided. */
		percent: total === 0 ? 0 : Math.floor((done / total) * 100),
	}
}
export type ProgressSummary = ReturnType<typeof summarizeCounts>

export type BroadcastListFilters = {
	status?: BroadcastStatus | null
	search?: string | null
	limit?: number
}

/** Broadcasts, newest first, with their sender, template and progress. */
export async function listBroadcasts(filters: BroadcastListFilters = {}, executor: Executor = db) {
	const conditions: SQL[] = []
	if (filters.status) conditions.push(eq(broadcasts.status, filters.status))
	const search = filters.search?.trim()
	if (search) {
		const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
		conditions.push(or(ilike(broadcasts.name, pattern), ilike(templates.name, pattern))!)
	}
	const rows = await executor
		.select({
			id: broadcasts.id,
			name: broadcasts.name,
			status: broadcasts.status,
			statusReason: broadcasts.statusReason,
			scheduledAt: broadcasts.scheduledAt,
			scheduleTimezone: broadcasts.scheduleTimezone,
			launchedAt: broadcasts.launchedAt,
			completedAt: broadcasts.completedAt,
			createdAt: broadcasts.createdAt,
			approvalRequired: broadcasts.approvalRequired,
			approvedAt: broadcasts.approvedAt,
			senderNumber: senders.displayNumber,
			templateName: templates.name,
			templateLanguage: templates.language,
		})
		.from(broadcasts)
		.leftJoin(senders, eq(senders.id, broadcasts.senderId))
		.leftJoin(templates, eq(templates.id, broadcasts.templateId))
		.where(conditions.length > 0 ? and(...conditions) : undefined)
		.orderBy(desc(broadcasts.createdAt), desc(broadcasts.id))
		.limit(filters.limit ?? 100)
	const counts = await stateCounts(
		rows.map((r) => r.id),
		executor,
	)
	return rows.map((row) => ({
		...row,
		progress: summarizeCounts(counts.get(row.id) ?? EMPTY_COUNTS),
	}))
}
export type BroadcastListRow = Awaited<ReturnType<typeof listBroadcasts>>[number]

/** One broadcast with everything its pages show: sender, template, people, parsed definitions. */
export async function getBroadcastDetail(id: string, executor: Executor = db) {
	const [row] = await executor
		.select({
			broadcast: broadcasts,
			sender: {
				id: senders.id,
				displayNumber: senders.displayNumber,
				name: senders.name,
				phoneNumberId: senders.phoneNumberId,
				wabaId: senders.wabaId,
				ratePerSecond: senders.ratePerSecond,
				messagingLimitTier: senders.messagingLimitTier,
				qualityRating: senders.qualityRating,
			},
			template: {
				id: templates.id,
				name: templates.name,
				language: templates.language,
				category: templates.category,
				parameterFormat: templates.parameterFormat,
				metaStatus: templates.metaStatus,
				components: templates.components,
				remoteComponents: templates.remoteComponents,
			},
			creatorName: q<
				string | null
			>`(select u.name from users u where u.id = ${broadcasts.createdBy})`,
			approverName: q<
				string | null
			>`(select u.name from users u where u.id = ${broadcasts.approvedBy})`,
			parentName: q<
				string | null
			>`(select p.name from broadcasts p where p.id = ${broadcasts.parentBroadcastId})`,
		})
		.from(broadcasts)
		.leftJoin(senders, eq(senders.id, broadcasts.senderId))
		.leftJoin(templates, eq(templates.id, broadcasts.templateId))
		.where(eq(broadcasts.id, id))
	if (!row) return null
	const audience = AudienceSchema.safeParse(row.broadcast.audience)
	const mapping = VariableMappingSchema.safeParse(row.broadcast.variableMapping)
	const template = row.template
		? {
				id: row.template.id,
				name: row.template.name,
				language: row.template.language,
				category: row.template.category,
				parameterFormat: row.template.parameterFormat,
				metaStatus: row.template.metaStatus,
				components: liveComponents(row.template),
			}
		: null
	return {
		broadcast: row.broadcast,
		sender: row.sender,
		template,
		creatorName: row.creatorName,
		approverName: row.approverName,
		parentName: row.parentName,
		audience: audience.success ? audience.data : null,
		mapping: mapping.success ? mapping.data : {},
		slots: template ? variableSlots(template.components) : [],
	}
}
export type BroadcastDetail = NonNullable<Awaited<ReturnType<typeof getBroadcastDetail>>>

export type SampleRecipient = {
	contactId: number
	name: string | null
	phoneE164: string
	variables: Record<string, string>
}

/**
 * The first recipients the audience would send to, with their variables rendered by the same SQL
 * the launch uses, so the preview shows exactly what they would receive.
 */
export async function sampleRecipients(
	input: { audience: Audience; mapping: VariableMapping; components: readonly TemplateComponent[] },
	limit = 3,
	executor: Executor = db,
): Promise<SampleRecipient[]> {
	const rows = await executor.execute<{
		contact_id: string | number
		name: string | null
		phone_e164: string
		variables: Record<string, string>
	}>(q`
		select a.contact_id, c.name, a.phone_e164, a.variables
		from (${audienceRows(input)}) a
		join contacts c on c.id = a.contact_id
		where a.skip_reason is null
		order by a.contact_id
		limit ${limit}
	`)
	return rows.map((row) => ({
		contactId: Number(row.contact_id),
		name: row.name,
		phoneE164: row.phone_e164,
		variables: row.variables ?? {},
	}))
}

/** Contacts the audience matches (before exclusions), to guide the builder. */
export async function countAudienceMatches(
	input: { audience: Audience; mapping: VariableMapping; components: readonly TemplateComponent[] },
	executor: Executor = db,
) {
	const [row] = await executor.execute<{ matched: number; eligible: number }>(q`
		select count(*)::int as matched, (count(*) filter (where a.skip_reason is null))::int as eligible
		from (${audienceRows(input)}) a
	`)
	return { matched: row?.matched ?? 0, eligible: row?.eligible ?? 0 }
}

export type TemplateOption = {
	id: string
	name: string
	language: string
	category: string
	metaStatus: string | null
	sendable: boolean
	/** Why it cannot be chosen, when it cannot. */
	reason: string | null
}

function templateReason(t: { metaStatus: string | null; components: TemplateComponent[] }) {
	if (t.metaStatus !== 'APPROVED') {
		return t.metaStatus
			? `WhatsApp status is ${t.metaStatus}: only approved templates can be sent`
			: 'Not submitted to WhatsApp yet'
	}
	return unsupportedTemplateReason(t.components)
}

/** Every template, approved and usable ones first; the others say why they cannot be chosen. */
export async function templateOptions(executor: Executor = db): Promise<TemplateOption[]> {
	const rows = await executor
		.select({
			id: templates.id,
			name: templates.name,
			language: templates.language,
			category: templates.category,
			metaStatus: templates.metaStatus,
			components: templates.components,
			remoteComponents: templates.remoteComponents,
		})
		.from(templates)
		.where(q`coalesce(${templates.metaStatus}, '') not in ('DELETED', 'PENDING_DELETION')`)
		.orderBy(asc(templates.name), asc(templates.language))
	const options = rows.map((row) => {
		const reason = templateReason({ metaStatus: row.metaStatus, components: liveComponents(row) })
		return {
			id: row.id,
			name: row.name,
			language: row.language,
			category: row.category,
			metaStatus: row.metaStatus,
			sendable: reason === null,
			reason,
		}
	})
	return [...options.filter((o) => o.sendable), ...options.filter((o) => !o.sendable)]
}

/** The live components of a template, for the variable mapping and the preview. */
export async function templateForBuilder(id: string, executor: Executor = db) {
	const [row] = await executor
		.select({
			id: templates.id,
			name: templates.name,
			language: templates.language,
			category: templates.category,
			metaStatus: templates.metaStatus,
			components: templates.components,
			remoteComponents: templates.remoteComponents,
		})
		.from(templates)
		.where(eq(templates.id, id))
	if (!row) return null
	const components = liveComponents(row)
	return {
		id: row.id,
		name: row.name,
		language: row.language,
		category: row.category,
		metaStatus: row.metaStatus,
		components,
		slots: variableSlots(components),
	}
}

/** Tags in use, most used first. */
export async function contactTags(executor: Executor = db, limit = 200) {
	const rows = await executor.execute<{ tag: string; contacts: number }>(q`
		select t.tag, count(*)::int as contacts
		from contacts c, unnest(c.tags) as t(tag)
		group by t.tag
		order by count(*) desc, t.tag
		limit ${limit}
	`)
	return rows.map((r) => ({ tag: r.tag, contacts: r.contacts }))
}

/** Attribute keys in use (any CSV column kept on contacts). */
export async function contactAttributeKeys(executor: Executor = db, limit = 200) {
	const rows = await executor.execute<{ key: string }>(q`
		select k.key
		from contacts c, jsonb_object_keys(c.attributes) as k(key)
		group by k.key
		order by count(*) desc, k.key
		limit ${limit}
	`)
	return rows.map((r) => r.key)
}

/** Finished imports whose contacts can be an audience. */
export async function importOptions(executor: Executor = db, limit = 50) {
	return executor
		.select({
			id: imports.id,
			fileName: imports.fileName,
			inserted: imports.inserted,
			updated: imports.updated,
			finishedAt: imports.finishedAt,
			createdAt: imports.createdAt,
		})
		.from(imports)
		.where(eq(imports.status, 'completed'))
		.orderBy(desc(imports.createdAt))
		.limit(limit)
}

export async function senderOptions(executor: Executor = db) {
	return executor
		.select({
			id: senders.id,
			displayNumber: senders.displayNumber,
			name: senders.name,
			ratePerSecond: senders.ratePerSecond,
			messagingLimitTier: senders.messagingLimitTier,
			qualityRating: senders.qualityRating,
		})
		.from(senders)
		.orderBy(asc(senders.createdAt))
}

/** What the live page polls: the engine's progress, plus the share done and the rows still open. */
export async function broadcastProgress(broadcastId: string, executor: Executor = db) {
	const progress = await getBroadcastProgress(broadcastId)
	if (!progress) return null
	const [row] = await executor
		.select({ launchedAt: broadcasts.launchedAt, completedAt: broadcasts.completedAt })
		.from(broadcasts)
		.where(eq(broadcasts.id, broadcastId))
	return {
		...summarizeCounts(progress.counts),
		status: progress.status as BroadcastStatus,
		statusReason: progress.statusReason,
		launchedAt: row?.launchedAt ?? null,
		completedAt: row?.completedAt ?? null,
		/** Messages accepted per second over the last 10 s. */
		rate: progress.measuredRate,
		estimatedFinish: progress.estimatedFinishAt,
	}
}
export type BroadcastProgress = NonNullable<Awaited<ReturnType<typeof broadcastProgress>>>

/** Whether an admin must approve broadcasts before they can be scheduled. */
export async function broadcastApprovalRequired(executor: Executor = db) {
	const rows = await executor.execute<{ value: unknown }>(
		q`select value from app_settings where key = 'broadcast_approval_required'`,
	)
	return rows[0]?.value === true
}

export const BUILDER_STEPS = ['basics', 'template', 'audience', 'variables', 'preview'] as const
export type BuilderStep = (typeof BUILDER_STEPS)[number]

/** Which builder steps hold a usable answer, to mark them done and to know where to go next. */
export function completedSteps(detail: BroadcastDetail): BuilderStep[] {
	const done: BuilderStep[] = []
	if (detail.broadcast.name && detail.sender) done.push('basics')
	if (detail.template) done.push('template')
	if (detail.audience) done.push('audience')
	if (detail.template && detail.slots.every((slot) => detail.mapping[slot.key]))
		done.push('variables')
	return done
}

/** Everything one step of the builder shows, for a broadcast. */
export async function builderStepData(
	detail: BroadcastDetail,
	step: BuilderStep,
	executor: Executor = db,
) {
	const match =
		detail.audience && detail.template
			? {
					audience: detail.audience,
					mapping: detail.mapping,
					components: detail.template.components,
				}
			: null
	switch (step) {
		case 'basics':
			return { step, senders: await senderOptions(executor) }
		case 'template':
			return { step, templates: await templateOptions(executor) }
		case 'audience':
			return {
				step,
				tags: await contactTags(executor),
				attributeKeys: await contactAttributeKeys(executor),
				imports: await importOptions(executor),
				matches: detail.audience
					? await countAudienceMatches(
							{ audience: detail.audience, mapping: {}, components: [] },
							executor,
						)
					: null,
			}
		case 'variables':
			return { step, attributeKeys: await contactAttributeKeys(executor) }
		case 'preview': {
			const complete = completedSteps(detail).includes('variables')
			return {
				step,
				recipients: match && complete ? await sampleRecipients(match, 3, executor) : null,
				matches: match && complete ? await countAudienceMatches(match, executor) : null,
			}
		}
	}
}
export type BuilderStepData = Awaited<ReturnType<typeof builderStepData>>

const FINISHED: BroadcastStatus[] = ['completed', 'cancelled', 'failed']

/** How many earlier recipients each retarget would address (opted-out ones are left out later). */
export async function retargetCounts(broadcastId: string, executor: Executor = db) {
	const count = async (kind: 'unread' | 'retryable_failed') =>
		(
			await countAudienceMatches(
				{
					audience: AudienceSchema.parse({ retarget: { broadcastId, kind } }),
					mapping: {},
					components: [],
				},
				executor,
			)
		).eligible
	return { unread: await count('unread'), retryableFailed: await count('retryable_failed') }
}

/**
 * Everything the broadcast page shows for its status: the pre-flight before it starts (or why it
 * cannot run yet), the progress once it has, and what a retarget would reach once it is over.
 */
export async function broadcastPage(id: string, executor: Executor = db) {
	const detail = await getBroadcastDetail(id, executor)
	if (!detail) return null
	const status = detail.broadcast.status
	const editable = status === 'draft' || status === 'scheduled'
	let preflight: Preflight | null = null
	let notReady: { message: string; field: string | null } | null = null
	if (editable) {
		try {
			preflight = await preflightBroadcast(id, executor)
		} catch (error) {
			if (!(error instanceof BroadcastError)) throw error
			notReady = { message: error.message, field: error.field ?? null }
		}
	}
	return {
		detail,
		editable,
		preflight,
		notReady,
		progress: status === 'draft' ? null : await broadcastProgress(id, executor),
		retarget: FINISHED.includes(status) ? await retargetCounts(id, executor) : null,
	}
}
