import type { FirstLineIndex } from './first-line-index'
import type { ColumnMapping } from './options'
import type { RejectCode } from './phone'

/** Longest cell accepted; a longer one is nearly always an unterminated quote swallowing lines. */
export const MAX_FIELD_LENGTH = 10_000
const MAX_RAW_VALUE = 200

/** The columns of the staging table, in COPY order. */
export const STAGING_COLUMNS = [
	'line',
	'phone',
	'raw',
	'name',
	'email',
	'attributes',
	'opt_out',
	'code',
	'reason',
] as const

export type RowPlan = {
	headerCount: number
	phoneIndex: number
	nameIndex: number
	emailIndex: number
	optOutIndex: number
	attributes: Array<{ index: number; key: string }>
}

export function planRows(columns: ReadonlyArray<ColumnMapping>, headerCount: number): RowPlan {
	const find = (target: ColumnMapping['target']) =>
		columns.find((c) => c.target === target)?.index ?? -1
	return {
		headerCount,
		phoneIndex: find('phone'),
		nameIndex: find('name'),
		emailIndex: find('email'),
		optOutIndex: find('opt_out'),
		attributes: columns
			.filter((c) => c.target === 'attribute')
			.map((c) => ({ index: c.index, key: c.key ?? c.header })),
	}
}

const OPT_OUT_VALUES = new Set([
	'1',
	'true',
	't',
	'yes',
	'y',
	'si',
	'sí',
	's',
	'x',
	'optout',
	'opted out',
	'opt-out',
	'unsubscribed',
	'baja',
	'stop',
])

/** Whether an opt-out cell says "this person opted out". Anything else (blank, no, 0) does not. */
export function isOptOutValue(value: string | undefined) {
	return value !== undefined && OPT_OUT_VALUES.has(value.trim().toLowerCase())
}

export type FormattedBatch = { text: string; accepted: number; rejected: number }

/**
 * Turns a batch of rows plus their phone results into COPY text for the staging table. Rejected
 * rows keep their line, raw value and reason; accepted rows carry the mapped fields (their raw
 * phone is not needed once it is E.164). Batches must come in file order, so that `seen` names
 * the first line of a duplicated number. A row with more non-empty cells than the header has is
 * refused, since its columns have most likely shifted.
 */
export function formatBatch(
	rows: ReadonlyArray<{ line: number; fields: string[]; malformed?: string }>,
	phoneResults: ReadonlyArray<string>,
	plan: RowPlan,
	seen: FirstLineIndex,
): FormattedBatch {
	let text = ''
	let accepted = 0
	let rejected = 0
	for (let i = 0; i < rows.length; i++) {
		const { line, fields, malformed } = rows[i]
		const raw = fields[plan.phoneIndex] ?? ''
		const problem: [RejectCode, string] | undefined = malformed
			? ['malformed_row', malformed]
			: rowProblem(fields, plan.headerCount)
		const result = phoneResults[i]
		let rejection = problem
		if (!rejection && result[0] !== '+') rejection = result.split('\t') as [RejectCode, string]
		if (!rejection) {
			const first = seen.firstLine(result, line)
			if (first) rejection = ['duplicate', `Duplicate of line ${first} in this file`]
		}
		if (rejection) {
			rejected++
			text += `${line}\t\\N\t${copyText(raw.trim().slice(0, MAX_RAW_VALUE))}\t\\N\t\\N\t\\N\tf\t${rejection[0]}\t${copyText(rejection[1])}\n`
			continue
		}
		accepted++
		const attributes: Record<string, string> = {}
		for (const { index, key } of plan.attributes) {
			const value = fields[index]?.trim()
			if (value) attributes[key] = value.indexOf('\0') === -1 ? value : value.replaceAll('\0', '')
		}
		text += `${line}\t${result}\t\\N\t${copyNullable(cell(fields, plan.nameIndex))}\t${copyNullable(cell(fields, plan.emailIndex))}\t${copyText(JSON.stringify(attributes))}\t${isOptOutValue(fields[plan.optOutIndex]) ? 't' : 'f'}\t\\N\t\\N\n`
	}
	return { text, accepted, rejected }
}

function rowProblem(fields: string[], headerCount: number): [RejectCode, string] | undefined {
	for (const field of fields) {
		if (field.length > MAX_FIELD_LENGTH) {
			return [
				'malformed_row',
				`Cell longer than ${MAX_FIELD_LENGTH.toLocaleString('en')} characters (unclosed quote?)`,
			]
		}
	}
	if (fields.length > headerCount) {
		for (let i = headerCount; i < fields.length; i++) {
			if (fields[i].trim() !== '') {
				return [
					'too_many_fields',
					`More cells than the header (${fields.length} > ${headerCount}): check delimiters and quotes`,
				]
			}
		}
	}
	return undefined
}

function cell(fields: string[], index: number) {
	if (index < 0) return undefined
	const value = fields[index]?.trim()
	return value ? value : undefined
}

const COPY_SPECIAL = /[\\\t\n\r\0]/
const COPY_ESCAPES: Record<string, string> = {
	'\\': '\\\\',
	'\t': '\\t',
	'\n': '\\n',
	'\r': '\\r',
	'\0': '',
}

/** Escapes a value for COPY's text format; NUL, which PostgreSQL text cannot hold, is dropped. */
export function copyText(value: string) {
	if (!COPY_SPECIAL.test(value)) return value
	return value.replace(/[\\\t\n\r\0]/g, (char) => COPY_ESCAPES[char])
}

function copyNullable(value: string | undefined) {
	return value === undefined ? '\\N' : copyText(value)
}
