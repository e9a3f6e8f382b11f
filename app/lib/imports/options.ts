import { getCountries, type CountryCode } from 'libphonenumber-js/min'
import { z } from 'zod'
import { COLUMN_TARGETS } from './columns'
import { DELIMITERS } from './delimiter'
import { ENCODINGS } from './encoding'

const countries = new Set<string>(getCountries())

export { COLUMN_TARGETS, type ColumnTarget } from './columns'

export const ColumnMappingSchema = z.object({
	index: z.number().int().min(0).max(999),
	header: z.string().max(500),
	target: z.enum(COLUMN_TARGETS),
	/** Attribute key (template variable name) when target is "attribute". */
	key: z
		.string()
		.trim()
		.regex(/^[a-z0-9_]{1,60}$/, 'lowercase letters, digits and _ only')
		.optional(),
})
export type ColumnMapping = z.infer<typeof ColumnMappingSchema>

export const CountrySchema = z
	.string()
	.trim()
	.toUpperCase()
	.refine((value) => countries.has(value), 'unknown country code')
	.transform((value) => value as CountryCode)

/** What the user chose in the mapping step, kept in imports.options. */
export const ImportOptionsSchema = z
	.object({
		defaultCountry: CountrySchema,
		/** Detected when absent. */
		encoding: z.enum(ENCODINGS).optional(),
		delimiter: z.enum(DELIMITERS).optional(),
		/** By column position; absent means "decide from the header" (the CLI's behaviour). */
		columns: z.array(ColumnMappingSchema).optional(),
		tags: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
		/** On contacts that already exist: overwrite name/email and merge attributes, or leave them. */
		updateExisting: z.boolean().default(false),
	})
	.refine(
		(options) =>
			!options.columns || options.columns.filter((c) => c.target === 'phone').length === 1,
		{
			message: 'map exactly one column to phone',
			path: ['columns'],
		},
	)
export type ImportOptions = z.infer<typeof ImportOptionsSchema>
export type ImportOptionsInput = z.input<typeof ImportOptionsSchema>

/** Splits "vip, lima ,vip" into ["vip", "lima"]. */
export function parseTags(value: string) {
	return [
		...new Set(
			value
				.split(',')
				.map((tag) => tag.trim())
				.filter(Boolean),
		),
	]
}
