import { z } from 'zod'
import { templateVariables, type TemplateComponent } from '#app/lib/templates/definition'

/**
 * Who a broadcast is for. Criteria combine with AND; opted-out contacts are always excluded
 * (recorded as skipped when the audience is frozen). An empty audience matches nobody unless
 * `everyone` says so, so a forgotten filter never messages the whole list.
 */
export const AudienceSchema = z
	.object({
		everyone: z.boolean().default(false),
		/** Contacts with at least one of these tags. */
		tagsAny: z.array(z.string().trim().min(1)).default([]),
		/** Contacts with every one of these tags. */
		tagsAll: z.array(z.string().trim().min(1)).default([]),
		/** Attribute filters, compared trimmed and case-insensitively (`city = Lima`). */
		attributes: z
			.array(
				z.object({
					key: z.string().trim().min(1),
					op: z.enum(['equals', 'not_equals']).default('equals'),
					value: z.string().trim(),
				}),
			)
			.default([]),
		/** The contacts a CSV import inserted or updated. */
		importId: z.uuid().nullish(),
		/**
		 * Cut: send to at most this many eligible contacts (in contact order); the rest are skipped
		 * as over the messaging limit. Pre-flight offers it when the audience exceeds the headroom.
		 */
		limit: z.number().int().positive().nullish(),
		/** Retargeting (set by `retarget`, not by the builder): recipients of an earlier broadcast. */
		retarget: z
			.object({ broadcastId: z.uuid(), kind: z.enum(['unread', 'retryable_failed']) })
			.nullish(),
	})
	.refine(
		(a) =>
			a.everyone ||
			a.tagsAny.length > 0 ||
			a.tagsAll.length > 0 ||
			a.attributes.length > 0 ||
			a.importId != null ||
			a.retarget != null,
		{ message: 'Choose who receives it: tags, attributes, an import, or every contact' },
	)
export type Audience = z.infer<typeof AudienceSchema>

export const CONTACT_FIELDS = ['name', 'phone_e164', 'email', 'wa_id'] as const
export type ContactField = (typeof CONTACT_FIELDS)[number]

const fallback = z
	.string()
	.trim()
	.optional()
	.transform((value) => (value ? value : undefined))

/** Where one template variable's value comes from, with a fallback for empty values. */
export const VariableSourceSchema = z.discriminatedUnion('source', [
	z.object({ source: z.literal('field'), field: z.enum(CONTACT_FIELDS), fallback }),
	z.object({ source: z.literal('attribute'), key: z.string().trim().min(1), fallback }),
	z.object({ source: z.literal('text'), text: z.string().trim().min(1, 'Enter the text') }),
])
export type VariableSource = z.infer<typeof VariableSourceSchema>

/** Keyed by `variableKeys` (`header:1`, `body:1`, `body:first_name`, `button:0`). */
export const VariableMappingSchema = z.record(z.string(), VariableSourceSchema)
export type VariableMapping = z.infer<typeof VariableMappingSchema>
export type VariableMappingInput = z.input<typeof VariableMappingSchema>

export type VariableSlot = {
	key: string
	component: 'header' | 'body' | 'button'
	name: string
	index?: number
}

/** Every value a send of this template needs, in the order WhatsApp wants them. */
export function variableSlots(components: readonly TemplateComponent[]): VariableSlot[] {
	const vars = templateVariables(components)
	return [
		...vars.header.map((name) => ({ key: `header:${name}`, component: 'header' as const, name })),
		...vars.body.map((name) => ({ key: `body:${name}`, component: 'body' as const, name })),
		...vars.urlButtons.map((button) => ({
			key: `button:${button.index}`,
			component: 'button' as const,
			name: '1',
			index: button.index,
		})),
	]
}

/** Why a template cannot be broadcast with this engine, or null. */
export function unsupportedTemplateReason(components: readonly TemplateComponent[]): string | null {
	const vars = templateVariables(components)
	if (vars.mediaHeader)
		return `Templates with a ${vars.mediaHeader.toLowerCase()} header need media per send, which broadcasts do not supply yet`
	if (vars.locationHeader)
		return 'Templates with a location header are not supported in broadcasts yet'
	if (vars.copyCodeButtonIndex != null)
		return 'Templates with a copy-code button are not supported in broadcasts yet'
	return null
}

/** Template variables the mapping does not cover. */
export function unmappedVariables(
	components: readonly TemplateComponent[],
	mapping: VariableMapping,
) {
	return variableSlots(components).filter((slot) => !mapping[slot.key])
}

/**
 * The `components` of a template send (Meta's wire format) from one recipient's rendered values.
 * Named templates name each parameter; positional ones rely on order.
 */
export function sendComponents(
	components: readonly TemplateComponent[],
	named: boolean,
	values: Record<string, string>,
): Array<Record<string, unknown>> {
	return sendComponentsBuilder(components, named)(values)
}

/**
 * `sendComponents` with the template's variable slots worked out once: the dispatcher builds
 * the components of every send of a broadcast with it.
 */
export function sendComponentsBuilder(
	components: readonly TemplateComponent[],
	named: boolean,
): (values: Record<string, string>) => Array<Record<string, unknown>> {
	const slots = variableSlots(components)
	const header = slots.filter((s) => s.component === 'header')
	const body = slots.filter((s) => s.component === 'body')
	const buttons = slots.filter((s) => s.component === 'button')
	return (values) => {
		const param = (slot: VariableSlot) =>
			named && slot.component !== 'button'
				? { type: 'text', parameter_name: slot.name, text: values[slot.key] ?? '' }
				: { type: 'text', text: values[slot.key] ?? '' }
		const result: Array<Record<string, unknown>> = []
		if (header.length > 0) result.push({ type: 'header', parameters: header.map(param) })
		if (body.length > 0) result.push({ type: 'body', parameters: body.map(param) })
		for (const slot of buttons) {
			result.push({
				type: 'button',
				sub_type: 'url',
				index: String(slot.index),
				parameters: [param(slot)],
			})
		}
		return result
	}
}

/** The message text a recipient would read, for previews. */
export function renderText(
	text: string,
	component: 'header' | 'body',
	values: Record<string, string>,
) {
	return text.replace(
		/\{\{\s*([^{}]*?)\s*\}\}/g,
		(raw, name: string) => values[`${component}:${name}`] ?? raw,
	)
}

export const SKIP_REASONS = [
	'opted_out',
	'invalid_number',
	'duplicate',
	'missing_variable',
	'over_limit',
	'cancelled',
] as const
export type SkipReason = (typeof SKIP_REASONS)[number]

export const SKIP_REASON_LABELS: Record<SkipReason, string> = {
	opted_out: 'Opted out',
	invalid_number: 'Invalid phone number',
	duplicate: 'Duplicate (same WhatsApp account)',
	missing_variable: 'Missing a variable value and no fallback',
	over_limit: 'Over the messaging limit (audience cut)',
	cancelled: 'Broadcast cancelled',
}
