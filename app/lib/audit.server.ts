import type { Executor } from '#db/client'
import { auditLog } from '#db/schema/index'

export type AuditEntry = {
	actorId: string | null
	action: string
	objectType: string
	objectId?: string | number | null
	details?: Record<string, unknown>
}

/** Records who did what to which object. Call it inside the transaction that made the change. */
export async function recordAudit(executor: Executor, entry: AuditEntry) {
	await executor.insert(auditLog).values({
		actorId: entry.actorId,
		action: entry.action,
		objectType: entry.objectType,
		objectId: entry.objectId == null ? null : String(entry.objectId),
		details: entry.details ?? {},
	})
}
