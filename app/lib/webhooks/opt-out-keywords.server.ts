import { eq, sql as q } from 'drizzle-orm'
import { z } from 'zod'
import { recordAudit } from '#app/lib/audit.server'
import { db, type Executor } from '#db/client'
import { appSettings } from '#db/schema/index'
import { DEFAULT_OPT_OUT_KEYWORDS, normaliseKeyword } from './events'

/**
 * The words that opt a contact out when an inbound text is exactly one of them, kept in the
 * `opt_out_keywords` row of `app_settings`. No row means the built-in defaults, so restoring the
 * defaults deletes the row: a later release that adds a default reaches those installs too.
 */
const KEY = 'opt_out_keywords'
export const MAX_KEYWORD_LENGTH = 30

/** The form posts one text (one per line or comma-separated); code passes a list. */
function splitKeywords(value: string | string[]) {
	return (typeof value === 'string' ? value.split(/[\n,]/) : value)
		.map((keyword) => keyword.trim())
		.filter((keyword) => keyword !== '')
}

/** Keeps the first spelling of keywords that match the same messages (case, accents, punctuation). */
function withoutDuplicates(keywords: string[]) {
	const seen = new Set<string>()
	return keywords.filter((keyword) => {
		const normalised = normaliseKeyword(keyword)
		if (seen.has(normalised)) return false
		seen.add(normalised)
		return true
	})
}

export const OptOutKeywordsSchema = z.object({
	keywords: z
		.union([z.string(), z.array(z.string())], 'Enter the opt-out keywords')
		.transform(splitKeywords)
		.superRefine((keywords, ctx) => {
			if (keywords.length === 0) {
				ctx.addIssue({ code: 'custom', message: 'Enter at least one keyword' })
			}
			for (const keyword of keywords) {
				if (keyword.length > MAX_KEYWORD_LENGTH) {
					ctx.addIssue({
						code: 'custom',
						message: `“${keyword}” is longer than ${MAX_KEYWORD_LENGTH} characters`,
					})
				} else if (normaliseKeyword(keyword) === '') {
					// Matching ignores everything but letters and digits, so this could match no message.
					ctx.addIssue({ code: 'custom', message: `“${keyword}” needs a letter or a digit` })
				}
			}
		})
		.transform(withoutDuplicates),
})

export type OptOutKeywords = { keywords: string[]; isDefault: boolean }

export async function getOptOutKeywords(executor: Executor = db): Promise<OptOutKeywords> {
	const [row] = await executor
		.select({ value: appSettings.value })
		.from(appSettings)
		.where(eq(appSettings.key, KEY))
	if (!row || !Array.isArray(row.value)) {
		return { keywords: [...DEFAULT_OPT_OUT_KEYWORDS], isDefault: true }
	}
	return {
		keywords: row.value.filter((k): k is string => typeof k === 'string'),
		isDefault: false,
	}
}

/** The keywords in force, normalised as inbound texts are before they are compared. */
export async function optOutKeywordSet(executor: Executor = db) {
	const { keywords } = await getOptOutKeywords(executor)
	return new Set(keywords.map(normaliseKeyword).filter((k) => k !== ''))
}

export async function saveOptOutKeywords(
	input: z.input<typeof OptOutKeywordsSchema>,
	actorId: string,
) {
	const { keywords } = OptOutKeywordsSchema.parse(input)
	await db.transaction(async (tx) => {
		const before = await getOptOutKeywords(tx)
		await tx
			.insert(appSettings)
			.values({ key: KEY, value: keywords })
			.onConflictDoUpdate({
				target: appSettings.key,
				set: { value: keywords, updatedAt: q`now()` },
			})
		await recordAudit(tx, {
			actorId,
			action: 'settings.opt_out_keywords.update',
			objectType: 'app_settings',
			objectId: KEY,
			details: { before: before.keywords, after: keywords },
		})
	})
	return keywords
}

export async function restoreDefaultOptOutKeywords(actorId: string) {
	await db.transaction(async (tx) => {
		const before = await getOptOutKeywords(tx)
		await tx.delete(appSettings).where(eq(appSettings.key, KEY))
		await recordAudit(tx, {
			actorId,
			action: 'settings.opt_out_keywords.restore',
			objectType: 'app_settings',
			objectId: KEY,
			details: { before: before.keywords, after: DEFAULT_OPT_OUT_KEYWORDS },
		})
	})
	return [...DEFAULT_OPT_OUT_KEYWORDS]
}
