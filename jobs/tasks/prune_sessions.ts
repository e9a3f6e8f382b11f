import type { Task } from 'graphile-worker'
import { z } from 'zod'
import { deleteExpiredSessions } from '#app/lib/auth/sessions.server'

const Payload = z.object({}).passthrough()

/** Removes sessions past their idle or absolute timeout (they are refused anyway). */
const pruneSessions: Task = async (payload) => {
	Payload.parse(payload ?? {})
	await deleteExpiredSessions()
}

export default pruneSessions
