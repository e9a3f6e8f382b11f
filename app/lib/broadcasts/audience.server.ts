import { sql, type SQL } from 'drizzle-orm'
import type { TemplateComponent } from '#app/lib/templates/definition'
import type { Audience, VariableMapping, VariableSource } from './audience'
import { variableSlots } from './audience'
import { ERROR_TABLE } from '#app/lib/kapso/errors'
import { importContactIds } from '#app/lib/imports/import-contacts.server'

/** Failed rows whose last error was not final for the recipient (retries ran out, or a halt). */
function retryableFailure(): SQL {
	const finalCodes = Object.entries(ERROR_TABLE)
		.filter(([key, rule]) => key.startsWith('meta:') && rule.class === 'recipient_final')
		.map(([key]) => Number(key.slice('meta:'.length)))
	return sql`(r.state = 'failed' and (r.error_code is null or r.error_code not in (${sql.join(
		finalCodes.map((code) => sql`${code}::int`),
		sql`, `,
	)})))`
}

/** A text[] literal; drizzle would otherwise expand a JS array into a parameter list. */
function textArray(values: readonly string[]): SQL {
	if (values.length === 0) return sql`'{}'::text[]`
	return sql`array[${sql.join(
		values.map((value) => sql`${value}::text`),
		sql`, `,
	)}]`
}

/**
 * E.164: a plus, a non-zero country digit, 7 to 15 digits in all. Written with string functions
 * rather than the regular expression `^\\+[1-9][0-9]{6,14}$`: PostgreSQL's regex engine costs
 * about 2 µs a row on its bounded repetition, which is seconds on a million-contact freeze.
 */
export const VALID_E164 = sql`(length(c.phone_e164) between 8 and 16
	and left(c.phone_e164, 1) = '+'
	and substr(c.phone_e164, 2, 1) in ('1', '2', '3', '4', '5', '6', '7', '8', '9')
	and ltrim(substr(c.phone_e164, 2), '0123456789') = '')`

function audienceWhere(audience: Audience): SQL {
	const conditions: SQL[] = []
	if (audience.tagsAny.length > 0) conditions.push(sql`c.tags && ${textArray(audience.tagsAny)}`)
	if (audience.tagsAll.length > 0) conditions.push(sql`c.tags @> ${textArray(audience.tagsAll)}`)
	for (const filter of audience.attributes) {
		const value = sql`lower(btrim(c.attributes ->> ${filter.key}::text))`
		conditions.push(
			filter.op === 'equals'
				? sql`${value} = lower(${filter.value}::text)`
				: sql`coalesce(${value}, '') <> lower(${filter.value}::text)`,
		)
	}
	if (audience.importId) {
		conditions.push(
			sql`c.id in ${importContactIds(audience.importId)}`,
		)
	}
	if (audience.retarget) {
		const states =
			audience.retarget.kind === 'unread'
				? sql`r.state in ('sent', 'delivered')`
				: retryableFailure()
		conditions.push(
			sql`c.id in (select r.contact_id from broadcast_recipients r where r.broadcast_id = ${audience.retarget.broadcastId}::uuid and ${states})`,
		)
	}
	if (conditions.length === 0) return audience.everyone ? sql`true` : sql`false`
	return sql.join(conditions, sql` and `)
}

function valueExpression(source: VariableSource): SQL {
	if (source.source === 'text') return sql`${source.text}::text`
	const raw =
		source.source === 'field'
			? sql.raw(`c.${source.field}`)
			: sql`(c.attributes ->> ${source.key}::text)`
	return sql`coalesce(nullif(btrim(${raw}), ''), ${source.fallback ?? null}::text)`
}

export type AudienceQueryInput = {
	audience: Audience
	mapping: VariableMapping
	components: readonly TemplateComponent[]
}

/**
 * One row per matching contact: `contact_id, phone_e164, variables, skip_reason` (null when the
 * contact will be sent to). Variables are rendered here, in SQL, so a million contacts freeze in
 * one statement. Reasons, first that applies: opted out, invalid number, duplicate (same
 * WhatsApp id as an earlier contact), missing variable (empty value and no fallback).
 */
export function audienceRows(input: AudienceQueryInput): SQL {
	const slots = variableSlots(input.components)
	const values = slots.map((slot) => {
		const source = input.mapping[slot.key]
		return { key: slot.key, expression: source ? valueExpression(source) : sql`null::text` }
	})
	const variables =
		values.length === 0
			? sql`'{}'::jsonb`
			: sql`jsonb_strip_nulls(jsonb_build_object(${sql.join(
					values.map((v) => sql`${v.key}::text, ${v.expression}`),
					sql`, `,
				)}))`
	const missing =
		values.length === 0
			? sql`false`
			: sql.join(
					values.map((v) => sql`(${v.expression}) is null`),
					sql` or `,
				)
	const reason = sql`
		case
			when m.opted_out then 'opted_out'
			when m.invalid then 'invalid_number'
			when m.rank > 1 then 'duplicate'
			when m.missing then 'missing_variable'
		end`
	// Each expression is computed once per contact, below the window; the account key is compared
	// byte-wise (collation "C"): the window only needs equality, and a linguistic sort of a
	// million keys costs seconds.
	const matches = sql`
		select a.*,
			-- The first reachable contact of a WhatsApp account is the one sent to.
			row_number() over (partition by a.account order by (a.opted_out or a.invalid), a.id) as rank
		from (
			select c.id, c.phone_e164,
				c.opted_out_at is not null as opted_out,
				not ${VALID_E164} as invalid,
				coalesce(nullif(c.wa_id, ''), ltrim(c.phone_e164, '+')) collate "C" as account,
				${missing} as missing,
				${variables} as variables
			from contacts c
			where ${audienceWhere(input.audience)}
		) a`
	if (!input.audience.limit) {
		return sql`select m.id as contact_id, m.phone_e164, m.variables, ${reason} as skip_reason from (${matches}) m`
	}
	// A cut keeps the first `limit` eligible contacts, in contact order.
	return sql`
		select r.contact_id, r.phone_e164, r.variables,
			case when r.skip_reason is null and r.eligible_rank > ${input.audience.limit} then 'over_limit'
				else r.skip_reason end as skip_reason
		from (
			select e.*, count(*) filter (where e.skip_reason is null) over (order by e.contact_id) as eligible_rank
			from (select m.id as contact_id, m.phone_e164, m.variables, ${reason} as skip_reason from (${matches}) m) e
		) r`
}
