import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { reconcileUnknown } from '#app/lib/sending/reconcile.server'

const Payload = z.object({}).passthrough()

/** Every minute: settle ledger rows whose send outcome was lost, by looking them up at Kapso. */
const reconcileUnknownTask: Task = async (payload, helpers) => {
	Payload.parse(payload ?? {})
	const summary = await reconcileUnknown()
	if (summary.checked > 0) helpers.logger.info(`reconcile: ${JSON.stringify(summary)}`)
}

export default reconcileUnknownTask
