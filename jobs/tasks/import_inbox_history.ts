import type { Task } from 'graphile-worker'
import { importInboxHistory, ImportPayloadSchema } from '#app/lib/inbox/import.server'

/**
 * Copies Kapso's conversations and messages into the inbox: everything on demand, the recently
 * active ones on a schedule (catching what webhooks missed). How it ended is recorded for the
 * inbox by importInboxHistory; a Kapso failure also throws, so graphile-worker retries later
 * with backoff.
 */
const importInboxHistoryTask: Task = async (payload, helpers) => {
	const options = ImportPayloadSchema.parse(payload ?? {})
	const result = await importInboxHistory(options)
	helpers.logger.info(
		`inbox history: ${result.conversations} conversations, ${result.inserted} new messages, ${result.skipped} already stored`,
	)
	if (!result.ok) throw new Error(`inbox history import stopped: ${result.message}`)
}

export default importInboxHistoryTask
