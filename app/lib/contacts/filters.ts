import { z } from 'zod'

export const OPT_OUT_FILTERS = ['any', 'subscribed', 'opted_out'] as const

/** A contacts list filter, from the URL (?q=&tag=&optOut=). Shared by the list, bulk tag and export. */
export const ContactFilterSchema = z.object({
	q: z.string().trim().max(200).default(''),
	tag: z.string().trim().max(50).default(''),
	optOut: z.enum(OPT_OUT_FILTERS).catch('any').default('any'),
})
export type ContactFilter = z.infer<typeof ContactFilterSchema>

export function filterFromSearchParams(params: URLSearchParams): ContactFilter {
	return ContactFilterSchema.parse({
		q: params.get('q') ?? undefined,
		tag: params.get('tag') ?? undefined,
		optOut: params.get('optOut') ?? undefined,
	})
}

export function filterToSearchParams(filter: ContactFilter) {
	const params = new URLSearchParams()
	if (filter.q) params.set('q', filter.q)
	if (filter.tag) params.set('tag', filter.tag)
	if (filter.optOut !== 'any') params.set('optOut', filter.optOut)
	return params
}

export const TagSchema = z
	.string()
	.trim()
	.min(1, 'enter a tag')
	.max(50, 'at most 50 characters')
	.regex(/^[\p{L}\p{N}_\- .]+$/u, 'letters, digits, spaces, - _ and . only')
