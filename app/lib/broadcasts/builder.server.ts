import { z } from 'zod'
import {
	AudienceSchema,
	CONTACT_FIELDS,
	VariableSourceSchema,
	type Audience,
	type VariableMapping,
	type VariableSlot,
} from './audience'
import { AUDIENCE_MODES } from './form'
import { BroadcastError, createBroadcast, updateBroadcast } from './broadcasts.server'
import {
	getBroadcastDetail,
	templateForBuilder,
	templateOptions,
	type BuilderStep,
} from './queries.server'

/**
 * Turns the builder's HTML forms into the audience and variable-mapping JSON the engine stores.
 * Errors are keyed by the form field they belong to, so the page can show them next to it.
 */

export type FieldErrors = Record<string, string>
export type Parsed<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors }

const AudienceFormSchema = z.object({
	audienceMode: z.enum(AUDIENCE_MODES, 'Choose who receives it'),
	importId: z.string().trim().optional(),
})

function strings(form: FormData, name: string) {
	return form.getAll(name).map((value) => (typeof value === 'string' ? value.trim() : ''))
}

/**
 * Audience from the builder form: `audienceMode` (filters | import | everyone); for filters,
 * `tagsAny` / `tagsAll` (repeated) and aligned rows of `attrKey` / `attrOp` / `attrValue`
 * (blank rows ignored); for an import, `importId`.
 */
export function parseAudienceForm(
	form: FormData,
	keep: Pick<Audience, 'retarget'> = {},
): Parsed<Audience> {
	const base = AudienceFormSchema.safeParse(Object.fromEntries(form))
	if (!base.success) return { ok: false, errors: { audienceMode: base.error.issues[0].message } }
	const errors: FieldErrors = {}
	let candidate: Record<string, unknown>
	if (base.data.audienceMode === 'everyone') {
		candidate = { everyone: true }
	} else if (base.data.audienceMode === 'import') {
		const importId = z.uuid().safeParse(base.data.importId)
		if (!importId.success) return { ok: false, errors: { importId: 'Choose an import' } }
		candidate = { importId: importId.data }
	} else {
		const keys = strings(form, 'attrKey')
		const ops = strings(form, 'attrOp')
		const values = strings(form, 'attrValue')
		const attributes: Array<{ key: string; op: string; value: string }> = []
		keys.forEach((key, i) => {
			const value = values[i] ?? ''
			if (!key && !value) return
			if (!key) {
				errors[`attr.${i}`] = 'Choose the attribute this value is compared with'
				return
			}
			attributes.push({ key, op: ops[i] || 'equals', value })
		})
		candidate = {
			tagsAny: unique(strings(form, 'tagsAny').filter(Boolean)),
			tagsAll: unique(strings(form, 'tagsAll').filter(Boolean)),
			attributes,
		}
	}
	// A retargeted broadcast stays addressed to the earlier broadcast's recipients; filters narrow it.
	if (keep.retarget) candidate.retarget = keep.retarget
	const parsed = AudienceSchema.safeParse(candidate)
	if (!parsed.success) {
		for (const issue of parsed.error.issues) {
			const [first, index] = issue.path
			const key = first === 'attributes' && typeof index === 'number' ? `attr.${index}` : 'audience'
			errors[key] ??= issue.message
		}
	}
	if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors }
	return { ok: true, data: parsed.data }
}

function unique(values: string[]) {
	return [...new Set(values)]
}

/**
 * Variable mapping from the builder form: per template variable `slot.key`, `source:<key>`
 * (field | attribute | text) and `field:<key>` / `attribute:<key>` / `text:<key>`, plus
 * `fallback:<key>` for values that may be empty. Every variable must be mapped.
 */
export function parseMappingForm(
	form: FormData,
	slots: readonly VariableSlot[],
): Parsed<VariableMapping> {
	const errors: FieldErrors = {}
	const mapping: VariableMapping = {}
	const value = (name: string) => {
		const raw = form.get(name)
		return typeof raw === 'string' ? raw : undefined
	}
	for (const slot of slots) {
		const source = value(`source:${slot.key}`)
		const candidate =
			source === 'field'
				? { source, field: value(`field:${slot.key}`), fallback: value(`fallback:${slot.key}`) }
				: source === 'attribute'
					? { source, key: value(`attribute:${slot.key}`), fallback: value(`fallback:${slot.key}`) }
					: source === 'text'
						? { source, text: value(`text:${slot.key}`) ?? '' }
						: null
		if (!candidate) {
			errors[slot.key] = 'Choose where this value comes from'
			continue
		}
		const parsed = VariableSourceSchema.safeParse(candidate)
		if (!parsed.success) {
			const issue = parsed.error.issues[0]
			const field = issue.path[0]
			errors[slot.key] =
				field === 'field'
					? `Choose a contact field (${CONTACT_FIELDS.join(', ')})`
					: field === 'key'
						? 'Choose an attribute'
						: issue.message
			continue
		}
		mapping[slot.key] = parsed.data
	}
	return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, data: mapping }
}

// ——— Schedule ———

function zoneOffsetMs(instant: number, timeZone: string) {
	const parts = new Intl.DateTimeFormat('en-US', {
		timeZone,
		hourCycle: 'h23',
		year: 'numeric',
		month: '2-digit',
		day: '2-digit',
		hour: '2-digit',
		minute: '2-digit',
		second: '2-digit',
	}).formatToParts(new Date(instant))
	const get = (type: string) => Number(parts.find((p) => p.type === type)?.value)
	const asUtc = Date.UTC(
		get('year'),
		get('month') - 1,
		get('day'),
		get('hour'),
		get('minute'),
		get('second'),
	)
	return asUtc - Math.floor(instant / 1000) * 1000
}

export function isTimeZone(zone: string) {
	try {
		new Intl.DateTimeFormat('en', { timeZone: zone })
		return true
	} catch {
		return false
	}
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/

/**
 * The instant a wall-clock time (`YYYY-MM-DDTHH:mm`, as a datetime-local input sends it) names in
 * `timeZone`. A time skipped by a daylight-saving jump resolves to the instant just after it.
 */
export function zonedTimeToInstant(local: string, timeZone: string): Date | null {
	const match = LOCAL.exec(local)
	if (!match || !isTimeZone(timeZone)) return null
	const [, y, mo, d, h, mi, s] = match
	const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0))
	const first = wall - zoneOffsetMs(wall, timeZone)
	const second = wall - zoneOffsetMs(first, timeZone)
	return new Date(Math.max(first, second))
}

/** `YYYY-MM-DDTHH:mm` of an instant in `timeZone`, to prefill a datetime-local input. */
export function instantToZonedInput(instant: Date, timeZone: string) {
	const local = new Date(instant.getTime() + zoneOffsetMs(instant.getTime(), timeZone))
	return local.toISOString().slice(0, 16)
}

const ScheduleFormSchema = z.discriminatedUnion('when', [
	z.object({ when: z.literal('now'), timezone: z.string().trim().default('UTC') }),
	z.object({
		when: z.literal('later'),
		at: z.string().trim().min(1, 'Choose a date and time'),
		timezone: z.string().trim().min(1, 'Choose a timezone'),
	}),
])

/** `when` (now | later), `at` (datetime-local) and `timezone` (IANA) into what `scheduleBroadcast` takes. */
export function parseScheduleForm(
	form: FormData,
	now = new Date(),
): Parsed<{ at: Date | null; timezone: string }> {
	const parsed = ScheduleFormSchema.safeParse(Object.fromEntries(form))
	if (!parsed.success) {
		const issue = parsed.error.issues[0]
		const field = issue.path[0] === 'timezone' ? 'timezone' : issue.path[0] === 'at' ? 'at' : 'when'
		return {
			ok: false,
			errors: { [field]: field === 'when' ? 'Choose now or a date and time' : issue.message },
		}
	}
	if (!isTimeZone(parsed.data.timezone))
		return { ok: false, errors: { timezone: 'Unknown timezone' } }
	if (parsed.data.when === 'now')
		return { ok: true, data: { at: null, timezone: parsed.data.timezone } }
	const at = zonedTimeToInstant(parsed.data.at, parsed.data.timezone)
	if (!at) return { ok: false, errors: { at: 'Enter a date and time' } }
	if (at.getTime() < now.getTime() - 60_000) {
		return { ok: false, errors: { at: 'That time has passed: choose a later one, or send now' } }
	}
	return { ok: true, data: { at, timezone: parsed.data.timezone } }
}

/** Every IANA zone the runtime knows, for the schedule's timezone picker. */
export function timeZones() {
	return Intl.supportedValuesOf('timeZone')
}

// ——— Saving the builder's steps ———

const BasicsSchema = z.object({
	name: z.string().trim().min(1, 'Give the broadcast a name').max(200, 'At most 200 characters'),
	senderId: z.uuid('Choose a sender number'),
})

const TemplateChoiceSchema = z.object({ templateId: z.uuid('Choose an approved template') })

function fieldErrors(error: z.ZodError): FieldErrors {
	const errors: FieldErrors = {}
	for (const issue of error.issues) errors[String(issue.path[0] ?? 'form')] ??= issue.message
	return errors
}

async function refusals<T>(work: () => Promise<T>): Promise<Parsed<T>> {
	try {
		return { ok: true, data: await work() }
	} catch (error) {
		if (error instanceof BroadcastError)
			return { ok: false, errors: { [error.field ?? 'form']: error.message } }
		throw error
	}
}

/** The builder's first step for a new broadcast: a draft with a name and a sender. */
export async function createFromBasics(form: FormData, actorId: string) {
	const parsed = BasicsSchema.safeParse(Object.fromEntries(form))
	if (!parsed.success) return { ok: false as const, errors: fieldErrors(parsed.error) }
	return refusals(() => createBroadcast(parsed.data, actorId))
}

/**
 * Saves one step of the builder from its form. A new template keeps only the variable mappings
 * it still has; a template that cannot be sent is refused with its reason.
 */
export async function saveBuilderStep(
	broadcastId: string,
	step: Exclude<BuilderStep, 'preview'>,
	form: FormData,
	actorId: string,
): Promise<Parsed<unknown>> {
	const entries = Object.fromEntries(form)
	switch (step) {
		case 'basics': {
			const parsed = BasicsSchema.safeParse(entries)
			if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) }
			return refusals(() => updateBroadcast(broadcastId, parsed.data, actorId))
		}
		case 'template': {
			const parsed = TemplateChoiceSchema.safeParse(entries)
			if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) }
			const option = (await templateOptions()).find((t) => t.id === parsed.data.templateId)
			if (!option) return { ok: false, errors: { templateId: 'That template no longer exists' } }
			if (!option.sendable)
				return { ok: false, errors: { templateId: option.reason ?? 'It cannot be sent' } }
			const [detail, template] = await Promise.all([
				getBroadcastDetail(broadcastId),
				templateForBuilder(parsed.data.templateId),
			])
			const keys = new Set(template?.slots.map((slot) => slot.key))
			const variableMapping = Object.fromEntries(
				Object.entries(detail?.mapping ?? {}).filter(([key]) => keys.has(key)),
			)
			return refusals(() =>
				updateBroadcast(
					broadcastId,
					{ templateId: parsed.data.templateId, variableMapping },
					actorId,
				),
			)
		}
		case 'audience': {
			const detail = await getBroadcastDetail(broadcastId)
			// A cut chosen at pre-flight was for the old audience: it is chosen again there.
			const parsed = parseAudienceForm(form, { retarget: detail?.audience?.retarget })
			if (!parsed.ok) return parsed
			return refusals(() => updateBroadcast(broadcastId, { audience: parsed.data }, actorId))
		}
		case 'variables': {
			const detail = await getBroadcastDetail(broadcastId)
			if (!detail?.template) return { ok: false, errors: { form: 'Choose a template first' } }
			const parsed = parseMappingForm(form, detail.slots)
			if (!parsed.ok) return parsed
			return refusals(() => updateBroadcast(broadcastId, { variableMapping: parsed.data }, actorId))
		}
	}
}

const SizeChoiceSchema = z.discriminatedUnion('choice', [
	z.object({
		choice: z.literal('cut'),
		count: z.coerce.number().int().min(1, 'At least one recipient'),
	}),
	z.object({
		choice: z.literal('waves'),
		count: z.coerce.number().int().min(1, 'At least one recipient a day'),
	}),
	z.object({ choice: z.literal('whole') }),
])

/**
 * The pre-flight's answer to an audience larger than the messaging limit allows: cut it to the
 * first `count` eligible contacts, spread it over daily waves of `count`, or go back to sending
 * it whole. One replaces the other.
 */
export async function chooseBroadcastSize(
	broadcastId: string,
	form: FormData,
	actorId: string,
): Promise<Parsed<unknown>> {
	const parsed = SizeChoiceSchema.safeParse(Object.fromEntries(form))
	if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) }
	const detail = await getBroadcastDetail(broadcastId)
	if (!detail?.audience) return { ok: false, errors: { form: 'Choose an audience first' } }
	const choice = parsed.data
	const audience = { ...detail.audience, limit: choice.choice === 'cut' ? choice.count : null }
	const dailyCap = choice.choice === 'waves' ? choice.count : null
	return refusals(() => updateBroadcast(broadcastId, { audience, dailyCap }, actorId))
}
