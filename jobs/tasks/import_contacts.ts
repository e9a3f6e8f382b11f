import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { runImport } from '#app/lib/imports/run-import.server'
import { removeStoredUpload } from '#app/lib/imports/store.server'
import { db } from '#db/client'
import { imports } from '#db/schema/index'
import { eq } from 'drizzle-orm'

const Payload = z.object({ importId: z.uuid() })

/** Runs one contact import (see runImport); the uploaded file is deleted once the import is final. */
const importContacts: Task = async (payload, helpers) => {
	const { importId } = Payload.parse(payload)
	const summary = await runImport(importId, { signal: helpers.abortSignal })
	if (
		summary.status === 'completed' ||
		summary.status === 'failed' ||
		summary.status === 'cancelled'
	) {
		const [row] = await db
			.select({ filePath: imports.filePath })
			.from(imports)
			.where(eq(imports.id, importId))
		if (row?.filePath) {
			await removeStoredUpload(row.filePath)
			await db.update(imports).set({ filePath: null }).where(eq(imports.id, importId))
		}
	}
	helpers.logger.info(`import ${importId}: ${summary.status}`)
}

export default importContacts
