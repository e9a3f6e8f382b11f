import { z } from 'zod'

/** The recipient table's state filter (shared by the page and the server). */
export const RECIPIENT_FILTERS = ['all', 'pending', 'unknown', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped'] as const
export type RecipientFilter = (typeof RECIPIENT_FILTERS)[number]

export const RecipientQuerySchema = z.object({
	state: z.enum(RECIPIENT_FILTERS).catch('all').default('all'),
	q: z.string().trim().max(100).catch('').default(''),
	page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
})
export type RecipientQuery = z.input<typeof RecipientQuerySchema>
