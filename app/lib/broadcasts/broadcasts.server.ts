import { and, eq, sql as q } from 'drizzle-orm'
import { z } from 'zod'
import { recordAudit } from '#app/lib/audit.server'
import { enqueueJob } from '#app/lib/jobs/enqueue.server'
import { getKapsoGateway } from '#app/lib/kapso/gateway.server'
import { pauseReason, sendingBlockers } from '#app/lib/senders/health.server'
import type { TemplateComponent } from '#app/lib/templates/definition'
import { db, type Executor } from '#db/client'
import { broadcasts, contacts, senders, templates, type BroadcastStatus } from '#db/schema/index'
import {
	AudienceSchema,
	sendComponents,
	unmappedVariables,
	variableSlots,
	unsupportedTemplateReason,
	VariableMappingSchema,
	type Audience,
	type VariableMapping,
} from './audience'
import { audienceRows } from './audience.server'

export class BroadcastError extends Error {
	constructor(
		message: string,
		readonly field?: string,
	) {
		super(message)
	}
}

export const BroadcastInputSchema = z.object({
	name: z.string().trim().min(1, 'Give the broadcast a name').max(200),
	senderId: z.uuid('Choose a sender number').nullish(),
	templateId: z.uuid('Choose a template').nullish(),
	audience: z.unknown().optional(),
	variableMapping: VariableMappingSchema.optional(),
	dailyCap: z.coerce.number().int().min(1).nullish(),
})
export type BroadcastInput = z.input<typeof BroadcastInputSchema>

export type Broadcast = typeof broadcasts.$inferSelect

/** Statuses in which the broadcast's content and schedule may still change. */
const EDITABLE: BroadcastStatus[] = ['draft', 'scheduled']

export async function getBroadcast(id: string, executor: Executor = db) {
	const [row] = await executor.select().from(broadcasts).where(eq(broadcasts.id, id))
	return row ?? null
}

async function lockBroadcast(tx: Executor, id: string) {
	// NO KEY UPDATE: the reference check of concurrent ledger inserts (KEY SHARE) must not wait on
	// it, or a cancel and a dispatcher's claim could deadlock.
	const [row] = await tx.select().from(broadcasts).where(eq(broadcasts.id, id)).for('no key update')
	if (!row) throw new BroadcastError('Broadcast not found')
	return row
}

/** The template fields the engine needs, or null. */
export async function getSendTemplate(templateId: string, executor: Executor = db) {
	const [row] = await executor
		.select({
			id: templates.id,
			name: templates.name,
			language: templates.language,
			parameterFormat: templates.parameterFormat,
			components: templates.components,
			remoteComponents: templates.remoteComponents,
			metaStatus: templates.metaStatus,
			wabaId: templates.wabaId,
		})
		.from(templates)
		.where(eq(templates.id, templateId))
	if (!row) return null
	const { remoteComponents, components, ...rest } = row
	// What WhatsApp holds is what a send must match, not a newer local draft.
	return { ...rest, components: (remoteComponents ?? components) as unknown as TemplateComponent[] }
}

export async function createBroadcast(input: BroadcastInput, actorId: string | null) {
	const data = BroadcastInputSchema.parse(input)
	return db.transaction(async (tx) => {
		const [row] = await tx
			.insert(broadcasts)
			.values({
				name: data.name,
				senderId: data.senderId ?? null,
				templateId: data.templateId ?? null,
				audience: (data.audience ?? {}) as Record<string, unknown>,
				variableMapping: data.variableMapping ?? {},
				dailyCap: data.dailyCap ?? null,
				createdBy: actorId,
				approvalRequired: await approvalRequired(tx),
			})
			.returning()
		await recordAudit(tx, {
			actorId,
			action: 'broadcast.create',
			objectType: 'broadcast',
			objectId: row.id,
		})
		return row
	})
}

/** Edits a draft or a scheduled broadcast; any change needs approval again when approval is on. */
export async function updateBroadcast(
	id: string,
	input: Partial<BroadcastInput>,
	actorId: string | null,
) {
	const data = BroadcastInputSchema.partial().parse(input)
	return db.transaction(async (tx) => {
		const current = await lockBroadcast(tx, id)
		if (!EDITABLE.includes(current.status)) {
			throw new BroadcastError('A broadcast can only be edited before it starts')
		}
		const [row] = await tx
			.update(broadcasts)
			.set({
				...(data.name !== undefined && { name: data.name }),
				...(data.senderId !== undefined && { senderId: data.senderId }),
				...(data.templateId !== undefined && { templateId: data.templateId }),
				...(data.audience !== undefined && { audience: data.audience as Record<string, unknown> }),
				...(data.variableMapping !== undefined && { variableMapping: data.variableMapping }),
				...(data.dailyCap !== undefined && { dailyCap: data.dailyCap }),
				approvedAt: null,
				approvedBy: null,
			})
			.where(eq(broadcasts.id, id))
			.returning()
		if (current.status === 'scheduled' && current.approvalRequired) {
			// Approved content changed: it must be approved again before it may launch.
			await unscheduleInTx(tx, row, actorId, 'edited after approval')
		}
		await recordAudit(tx, {
			actorId,
			action: 'broadcast.update',
			objectType: 'broadcast',
			objectId: id,
			details: { fields: Object.keys(data) },
		})
		return row
	})
}

async function approvalRequired(executor: Executor) {
	const rows = await executor.execute<{ value: unknown }>(
		q`select value from app_settings where key = 'broadcast_approval_required'`,
	)
	return rows[0]?.value === true
}

export type ReadyBroadcast = {
	broadcast: Broadcast
	audience: Audience
	mapping: VariableMapping
	template: NonNullable<Awaited<ReturnType<typeof getSendTemplate>>>
	sender: typeof senders.$inferSelect
}

/** Everything a launch needs, checked; throws a BroadcastError naming the field otherwise. */
export async function loadReadyBroadcast(
	broadcast: Broadcast,
	executor: Executor = db,
): Promise<ReadyBroadcast> {
	if (!broadcast.senderId) throw new BroadcastError('Choose a sender number', 'senderId')
	if (!broadcast.templateId) throw new BroadcastError('Choose an approved template', 'templateId')
	const [sender] = await executor.select().from(senders).where(eq(senders.id, broadcast.senderId))
	if (!sender) throw new BroadcastError('The sender number no longer exists', 'senderId')
	const template = await getSendTemplate(broadcast.templateId, executor)
	if (!template) throw new BroadcastError('The template no longer exists', 'templateId')
	const audience = AudienceSchema.safeParse(broadcast.audience)
	if (!audience.success) {
		throw new BroadcastError(audience.error.issues[0]?.message ?? 'Choose an audience', 'audience')
	}
	const mapping = VariableMappingSchema.safeParse(broadcast.variableMapping)
	if (!mapping.success)
		throw new BroadcastError('The variable mapping is not valid', 'variableMapping')
	const unsupported = unsupportedTemplateReason(template.components)
	if (unsupported) throw new BroadcastError(unsupported, 'templateId')
	const missing = unmappedVariables(template.components, mapping.data)
	if (missing.length > 0) {
		throw new BroadcastError(
			`Map every template variable: ${missing.map((m) => m.key).join(', ')}`,
			'variableMapping',
		)
	}
	return { broadcast, audience: audience.data, mapping: mapping.data, template, sender }
}

export const ScheduleSchema = z.object({
	/** null: now. */
	at: z.coerce.date().nullish(),
	timezone: z.string().trim().min(1).default('UTC'),
})

/**
 * Schedules a draft (or reschedules a scheduled broadcast) for `at` (or now). The launch is a
 * graphile-worker job with `run_at`, keyed per broadcast, so rescheduling replaces it.
 */
export async function scheduleBroadcast(
	id: string,
	input: z.input<typeof ScheduleSchema>,
	actorId: string | null,
) {
	const data = ScheduleSchema.parse(input)
	if (!isValidTimeZone(data.timezone)) throw new BroadcastError('Unknown timezone', 'timezone')
	return db.transaction(async (tx) => {
		const current = await lockBroadcast(tx, id)
		if (!EDITABLE.includes(current.status)) {
			throw new BroadcastError('This broadcast has already started')
		}
		const ready = await loadReadyBroadcast(current, tx)
		if (ready.template.metaStatus !== 'APPROVED') {
			throw new BroadcastError(
				`The template is ${ready.template.metaStatus ?? 'not submitted'}; only approved templates can be sent`,
				'templateId',
			)
		}
		if (current.approvalRequired && !current.approvedAt) {
			throw new BroadcastError('An admin must approve this broadcast before it can be scheduled')
		}
		const at = data.at && data.at.getTime() > Date.now() ? data.at : new Date()
		const [row] = await tx
			.update(broadcasts)
			.set({
				status: 'scheduled',
				scheduledAt: at,
				scheduleTimezone: data.timezone,
				statusReason: null,
			})
			.where(eq(broadcasts.id, id))
			.returning()
		await enqueueJob(
			tx,
			'launch_broadcast',
			{ broadcastId: id },
			{ runAt: at, jobKey: `launch:${id}` },
		)
		await recordAudit(tx, {
			actorId,
			action: 'broadcast.schedule',
			objectType: 'broadcast',
			objectId: id,
			details: { at: at.toISOString(), timezone: data.timezone },
		})
		return row
	})
}

async function unscheduleInTx(
	tx: Executor,
	row: Broadcast,
	actorId: string | null,
	reason: string,
) {
	await tx.execute(q`select graphile_worker.remove_job(${`launch:${row.id}`})`)
	await tx
		.update(broadcasts)
		.set({ status: 'draft', statusReason: null })
		.where(and(eq(broadcasts.id, row.id), eq(broadcasts.status, 'scheduled')))
	await recordAudit(tx, {
		actorId,
		action: 'broadcast.unschedule',
		objectType: 'broadcast',
		objectId: row.id,
		details: { reason },
	})
}

/** Back to draft before it starts. Calling it on a draft does nothing. */
export async function unscheduleBroadcast(id: string, actorId: string | null) {
	return db.transaction(async (tx) => {
		const current = await lockBroadcast(tx, id)
		if (current.status === 'draft') return current
		if (current.status !== 'scheduled')
			throw new BroadcastError('This broadcast has already started')
		await unscheduleInTx(tx, current, actorId, 'by user')
		return (await getBroadcast(id, tx))!
	})
}

export async function approveBroadcast(id: string, actorId: string) {
	return db.transaction(async (tx) => {
		const current = await lockBroadcast(tx, id)
		if (!EDITABLE.includes(current.status))
			throw new BroadcastError('This broadcast has already started')
		await tx
			.update(broadcasts)
			.set({ approvedAt: new Date(), approvedBy: actorId })
			.where(eq(broadcasts.id, id))
		await recordAudit(tx, {
			actorId,
			action: 'broadcast.approve',
			objectType: 'broadcast',
			objectId: id,
		})
	})
}

/** Starts (or continues) the dispatch job of a broadcast; one job per broadcast at a time. */
export async function enqueueDispatch(executor: Executor, broadcastId: string, runAt?: Date) {
	await enqueueJob(
		executor,
		'dispatch_broadcast',
		{ broadcastId },
		{ jobKey: `dispatch:${broadcastId}`, runAt, maxAttempts: 1000 },
	)
}

/**
 * The launch, run by the `launch_broadcast` job at `scheduled_at`: freezes the audience into
 * the ledger and starts dispatch, in one transaction. Only a `scheduled` broadcast launches, so
 * a second run (or a job left over from an unschedule) does nothing. A sender that is unhealthy
 * or RED by now gets the broadcast frozen but paused with the reason, and nothing is dispatched:
 * the health refresh only pauses what is already sending.
 */
export async function launchBroadcast(id: string) {
	return db.transaction(async (tx) => {
		const current = await lockBroadcast(tx, id)
		if (current.status !== 'scheduled') return { launched: false as const, status: current.status }
		let ready: ReadyBroadcast
		try {
			ready = await loadReadyBroadcast(current, tx)
		} catch (error) {
			if (!(error instanceof BroadcastError)) throw error
			await setStatus(tx, id, 'failed', `Could not launch: ${error.message}`)
			return { launched: false as const, status: 'failed' as const }
		}
		const frozen = await freezeInTx(tx, ready)
		const templateOk = ready.template.metaStatus === 'APPROVED'
		await tx
			.update(broadcasts)
			.set({
				status: templateOk ? 'sending' : 'paused',
				statusReason: templateOk
					? null
					: `Template is ${ready.template.metaStatus ?? 'not approved'}`,
				launchedAt: new Date(),
			})
			.where(eq(broadcasts.id, id))
		await recordAudit(tx, {
			actorId: null,
			action: 'broadcast.launch',
			objectType: 'broadcast',
			objectId: id,
			details: { frozen },
		})
		const blockers = sendingBlockers(ready.sender)
		if (templateOk && blockers.length > 0) {
			await autoPauseBroadcast(id, pauseReason(ready.sender.displayNumber, blockers), tx)
			return { launched: true as const, status: 'paused' as const, frozen }
		}
		if (templateOk) await enqueueDispatch(tx, id)
		return {
			launched: true as const,
			status: templateOk ? ('sending' as const) : ('paused' as const),
			frozen,
		}
	})
}

async function freezeInTx(tx: Executor, ready: ReadyBroadcast) {
	const rows = audienceRows({
		audience: ready.audience,
		mapping: ready.mapping,
		components: ready.template.components,
	})
	// The shared ledger lock, taken before the statement's snapshot, keeps every contact the
	// INSERT … SELECT reads from being deleted under it, so the reference trigger may skip its
	// million-row contact check (migration 0016).
	await tx.execute(q`
		select pg_advisory_xact_lock_shared('broadcast_recipients'::regclass::oid::int, 0),
			set_config('pregon.ledger_rows_from_locked_contacts', 'on', true),
			-- The account dedupe sorts the whole audience: at the default 4 MB a million contacts
			-- spilled ~100 MB to disk, and the SELECT took 4.8 s instead of 3.5 s.
			set_config('work_mem', '128MB', true)`)
	// A ledger is frozen whole or not at all, so a broadcast that has rows is already frozen.
	// Checking that once is cheaper than `on conflict do nothing`, which probes the unique
	// index before every one of a million inserts.
	const result = await tx.execute(q`
		insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, variables, state, skip_reason)
		select ${ready.broadcast.id}::uuid, a.contact_id, a.phone_e164, a.variables,
			(case when a.skip_reason is null then 'queued' else 'skipped' end)::recipient_state, a.skip_reason
		from (${rows}) a
		where not exists (select 1 from broadcast_recipients r where r.broadcast_id = ${ready.broadcast.id}::uuid)
	`)
	await tx.execute(q`select set_config('pregon.ledger_rows_from_locked_contacts', 'off', true)`)
	return result.count
}

/**
 * Freezes the audience into the ledger with one `INSERT … SELECT`: every matching contact gets a
 * row, queued or skipped with the reason. Safe to repeat: a frozen ledger is left as it is.
 */
export async function freezeAudience(broadcastId: string) {
	return db.transaction(async (tx) => {
		const broadcast = await lockBroadcast(tx, broadcastId)
		const ready = await loadReadyBroadcast(broadcast, tx)
		return freezeInTx(tx, ready)
	})
}

async function setStatus(tx: Executor, id: string, status: BroadcastStatus, reason: string | null) {
	await tx
		.update(broadcasts)
		.set({
			status,
			statusReason: reason,
			...(status === 'completed' && { completedAt: new Date() }),
		})
		.where(eq(broadcasts.id, id))
}

/**
 * Stops new sends at once: the dispatcher checks the status before every wave of sends, so only
 * calls already in flight finish. Pausing a paused broadcast does nothing.
 */
export async function pauseBroadcast(
	id: string,
	actorId: string | null,
	reason = 'Paused by a user',
) {
	return db.transaction(async (tx) => {
		const current = await lockBroadcast(tx, id)
		if (current.status === 'paused') return { changed: false, status: current.status }
		if (current.status !== 'sending' && current.status !== 'scheduled') {
			throw new BroadcastError(`A ${current.status} broadcast cannot be paused`)
		}
		if (current.status === 'scheduled') {
			throw new BroadcastError('A scheduled broadcast is not sending yet: unschedule it instead')
		}
		await setStatus(tx, id, 'paused', reason)
		await recordAudit(tx, {
			actorId,
			action: 'broadcast.pause',
			objectType: 'broadcast',
			objectId: id,
			details: { reason },
		})
		return { changed: true, status: 'paused' as const }
	})
}

/**
 * Continues a paused broadcast with exactly the rows not yet sent (queued, waiting to retry, or
 * whose outcome is being reconciled). Resuming a sending broadcast does nothing. Refused while
 * the sender is unhealthy or RED, so the user learns why at once instead of seeing the
 * dispatcher pause it again.
 */
export async function resumeBroadcast(id: string, actorId: string | null) {
	return db.transaction(async (tx) => {
		const current = await lockBroadcast(tx, id)
		if (current.status === 'sending') return { changed: false, status: current.status }
		if (current.status !== 'paused')
			throw new BroadcastError(`A ${current.status} broadcast cannot be resumed`)
		if (current.templateId) {
			const template = await getSendTemplate(current.templateId, tx)
			if (template && template.metaStatus !== 'APPROVED') {
				throw new BroadcastError(
					`The template is ${template.metaStatus ?? 'not approved'}; it cannot be sent now`,
				)
			}
		}
		if (current.senderId) {
			const [sender] = await tx.select().from(senders).where(eq(senders.id, current.senderId))
			const blockers = sender ? sendingBlockers(sender) : []
			if (blockers.length > 0) {
				throw new BroadcastError(
					`Sender ${sender.displayNumber} ${blockers.join('; ')}: it cannot send until Settings → Senders shows it healthy and not RED`,
				)
			}
		}
		await setStatus(tx, id, 'sending', null)
		await enqueueDispatch(tx, id)
		await recordAudit(tx, {
			actorId,
			action: 'broadcast.resume',
			objectType: 'broadcast',
			objectId: id,
		})
		return { changed: true, status: 'sending' as const }
	})
}

/**
 * Cancels the broadcast: every row not yet sent becomes skipped (cancelled). Rows in flight keep
 * their outcome (a call may already have been accepted); unknown ones are still reconciled.
 */
export async function cancelBroadcast(id: string, actorId: string | null) {
	return db.transaction(async (tx) => {
		const current = await lockBroadcast(tx, id)
		if (current.status === 'cancelled') return { changed: false, skipped: 0 }
		if (current.status === 'completed' || current.status === 'failed') {
			throw new BroadcastError(`A ${current.status} broadcast cannot be cancelled`)
		}
		if (current.status === 'scheduled')
			await tx.execute(q`select graphile_worker.remove_job(${`launch:${id}`})`)
		const result = await tx.execute(q`
			update broadcast_recipients
			set state = 'skipped', skip_reason = 'cancelled', next_attempt_at = null, updated_at = now()
			where broadcast_id = ${id}::uuid and state in ('queued', 'retry_wait')
		`)
		await tx
			.update(broadcasts)
			.set({ status: 'cancelled', statusReason: 'Cancelled by a user', completedAt: new Date() })
			.where(eq(broadcasts.id, id))
		await recordAudit(tx, {
			actorId,
			action: 'broadcast.cancel',
			objectType: 'broadcast',
			objectId: id,
			details: { skipped: result.count },
		})
		return { changed: true, skipped: result.count }
	})
}

/**
 * Pauses a sending broadcast for the engine (halting error, failure rate, template paused, sender
 * unhealthy or RED). Pass the caller's transaction when it holds the broadcast's row lock.
 */
export async function autoPauseBroadcast(id: string, reason: string, executor: Executor = db) {
	return executor.transaction(async (tx) => {
		const [row] = await tx
			.update(broadcasts)
			.set({ status: 'paused', statusReason: reason })
			.where(and(eq(broadcasts.id, id), eq(broadcasts.status, 'sending')))
			.returning({ id: broadcasts.id })
		if (row) {
			await recordAudit(tx, {
				actorId: null,
				action: 'broadcast.auto_pause',
				objectType: 'broadcast',
				objectId: id,
				details: { reason },
			})
		}
		return Boolean(row)
	})
}

function isValidTimeZone(zone: string) {
	try {
		new Intl.DateTimeFormat('en', { timeZone: zone })
		return true
	} catch {
		return false
	}
}

const E164 = /^\+[1-9]\d{6,14}$/

/** One value per template variable for a test send: the contact's own values when the number is a contact. */
function testValues(
	ready: ReadyBroadcast,
	contact: {
		name: string | null
		email: string | null
		phoneE164: string
		waId: string | null
		attributes: Record<string, string>
	} | null,
) {
	const values: Record<string, string> = {}
	const missing: string[] = []
	for (const slot of variableSlots(ready.template.components)) {
		const source = ready.mapping[slot.key]
		let value: string | null | undefined
		if (source?.source === 'text') value = source.text
		else if (source?.source === 'field' && contact) {
			value = {
				name: contact.name,
				email: contact.email,
				phone_e164: contact.phoneE164,
				wa_id: contact.waId,
			}[source.field]
		} else if (source?.source === 'attribute' && contact) value = contact.attributes[source.key]
		value = value?.trim() || (source && 'fallback' in source ? source.fallback : undefined)
		if (!value) missing.push(slot.key)
		else values[slot.key] = value
	}
	return { values, missing }
}

/**
 * Sends the broadcast's message to one phone number before launch, with that contact's values
 * when the number is a contact (else fixed texts and fallbacks). Not recorded in the ledger.
 */
export async function testSend(broadcastId: string, phone: string, actorId: string | null) {
	const to = phone.replace(/[\s()-]/g, '')
	if (!E164.test(to))
		throw new BroadcastError('Enter the number in international format, e.g. +51987654321', 'phone')
	const broadcast = await getBroadcast(broadcastId)
	if (!broadcast) throw new BroadcastError('Broadcast not found')
	const ready = await loadReadyBroadcast(broadcast)
	const [contact] = await db
		.select({
			name: contacts.name,
			email: contacts.email,
			phoneE164: contacts.phoneE164,
			waId: contacts.waId,
			attributes: contacts.attributes,
		})
		.from(contacts)
		.where(eq(contacts.phoneE164, to))
	const { values, missing } = testValues(ready, contact ?? null)
	if (missing.length > 0) {
		throw new BroadcastError(
			`No value for ${missing.join(', ')}: add a fallback, or test with a contact's number`,
			'phone',
		)
	}
	const result = await getKapsoGateway().sendTemplate({
		phoneNumberId: ready.sender.phoneNumberId,
		to,
		template: {
			name: ready.template.name,
			language: ready.template.language,
			components: sendComponents(
				ready.template.components,
				ready.template.parameterFormat === 'NAMED',
				values,
			),
		},
	})
	await recordAudit(db, {
		actorId,
		action: 'broadcast.test_send',
		objectType: 'broadcast',
		objectId: broadcastId,
		details: {
			ok: result.ok,
			...(result.ok ? { wamid: result.wamid } : { code: result.code, title: result.title }),
		},
	})
	return result.ok
		? { ok: true as const, wamid: result.wamid }
		: { ok: false as const, code: result.code, title: result.title, class: result.class }
}

export type RetargetKind = 'unread' | 'retryable_failed'

/**
 * A new draft addressed to the recipients of a finished broadcast who did not read it, or whose
 * send failed for a reason worth another try. Same sender, template and mapping.
 */
export async function retarget(broadcastId: string, kind: RetargetKind, actorId: string | null) {
	return db.transaction(async (tx) => {
		const source = await getBroadcast(broadcastId, tx)
		if (!source) throw new BroadcastError('Broadcast not found')
		if (!['completed', 'cancelled', 'failed'].includes(source.status)) {
			throw new BroadcastError('Retarget a broadcast once it has finished')
		}
		const [row] = await tx
			.insert(broadcasts)
			.values({
				name: `${source.name} — ${kind === 'unread' ? 'did not read' : 'failed, retry'}`,
				senderId: source.senderId,
				templateId: source.templateId,
				audience: { retarget: { broadcastId, kind } },
				variableMapping: source.variableMapping,
				parentBroadcastId: broadcastId,
				createdBy: actorId,
				approvalRequired: await approvalRequired(tx),
			})
			.returning()
		await recordAudit(tx, {
			actorId,
			action: 'broadcast.retarget',
			objectType: 'broadcast',
			objectId: row.id,
			details: { from: broadcastId, kind },
		})
		return row
	})
}
