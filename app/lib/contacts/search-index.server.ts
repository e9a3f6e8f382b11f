import { sql as dsql } from 'drizzle-orm'
import { db } from '#db/client'

const FROM_ACCENTED = 'áàäâãåéèëêíìïîóòöôõúùüûñçý'
const TO_PLAIN = 'aaaaaaeeeeiiiiooooouuuuncy'

/**
 * What the trigram index searches: name, email, the phone's digits and every attribute value,
 * lower-cased with accents folded (so "maria" finds "María"). SQL so one statement fills a batch.
 */
export const SEARCH_TEXT_SQL = `translate(lower(concat_ws(' ', name, email, substr(phone_e164, 2),
	(select string_agg(value, ' ') from jsonb_each_text(attributes)))), '${FROM_ACCENTED}', '${TO_PLAIN}')`

/** The same folding for a search query typed by a user. */
export function foldSearchText(value: string) {
	let folded = value.toLowerCase()
	for (let i = 0; i < FROM_ACCENTED.length; i++)
		folded = folded.replaceAll(FROM_ACCENTED[i], TO_PLAIN[i])
	return folded
}

/**
 * Fills `search_text` for contacts that have none (fresh from an import, or changed), in batches
 * that each commit on their own so a big backlog never holds long locks. Returns how many rows it
 * indexed. Safe to run concurrently: a batch skips rows another run has locked.
 */
export async function indexPendingContacts({
	batchSize = 20_000,
	signal,
}: { batchSize?: number; signal?: AbortSignal } = {}) {
	let total = 0
	for (;;) {
		if (signal?.aborted) return total
		const result = await db.execute(
			dsql.raw(`
				update contacts set search_text = ${SEARCH_TEXT_SQL}
				where id in (
					select id from contacts where search_text is null
					order by id for update skip locked limit ${Number(batchSize)}
				)
			`),
		)
		const count = Number((result as unknown as { count?: number }).count ?? 0)
		total += count
		if (count < batchSize) return total
	}
}
