import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { indexPendingContacts } from '#app/lib/contacts/search-index.server'

const Payload = z.object({}).passthrough()

/** Fills the search text of contacts added or changed since the last run (imports enqueue it). */
const indexContactSearch: Task = async (payload, helpers) => {
	Payload.parse(payload ?? {})
	const indexed = await indexPendingContacts({ signal: helpers.abortSignal })
	if (indexed > 0) helpers.logger.info(`indexed ${indexed} contacts for search`)
}

export default indexContactSearch
