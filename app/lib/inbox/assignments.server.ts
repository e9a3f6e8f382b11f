import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import { db, type Executor } from '#db/client'
import { conversations, users, type Role } from '#db/schema/index'
import { recordAudit } from '#app/lib/audit.server'
import { enqueueJob } from '#app/lib/jobs/enqueue.server'
import { getKapsoPlatform, type KapsoPlatform } from '#app/lib/kapso/platform.server'

/**
 * Who on the team answers a conversation. Kept in `conversations.assignee_id`; every change is
 * audited and mirrored to Kapso's conversation assignments by the `mirror_assignment` job, which
 * always copies the current state, so several quick changes end in the right one.
 */

export type Actor = { id: string; role: Role }

const ASSIGNING_ROLES: ReadonlyArray<Role> = ['admin', 'marketer']

/** Marketers and admins assign, reassign and unassign; analysts only read. */
export function canAssign(actor: { role: Role }) {
	return ASSIGNING_ROLES.includes(actor.role)
}

export class AssignmentError extends Error {
	constructor(
		message: string,
		readonly status: 400 | 403 | 404,
	) {
		super(message)
	}
}

/** `mine`, `unassigned`, or one person's id; absent means everyone's. */
export const AssignmentFilterSchema = z
	.union([z.literal('mine'), z.literal('unassigned'), z.uuid()])
	.optional()
	.catch(undefined)
export type AssignmentFilter = z.infer<typeof AssignmentFilterSchema>

/**
 * The WHERE fragment for a conversation list filtered by assignment. `alias` is the list query's
 * alias of `conversations` (a fixed identifier, never user input).
 */
export function assignmentCondition(
	filter: AssignmentFilter,
	viewerId: string,
	alias = 'c',
): SQL | undefined {
	if (!filter) return undefined
	const column = sql.raw(`${alias}.assignee_id`)
	if (filter === 'unassigned') return sql`${column} is null`
	return sql`${column} = ${filter === 'mine' ? viewerId : filter}::uuid`
}

/** The people a conversation can be given to: active marketers and admins, by name. */
export async function listAssignees(executor: Executor = db) {
	return executor
		.select({ id: users.id, name: users.name, email: users.email, role: users.role })
		.from(users)
		.where(and(eq(users.active, true), inArray(users.role, [...ASSIGNING_ROLES])))
		.orderBy(asc(users.name))
}

const AssignInput = z.object({
	conversationIds: z.array(z.uuid()).min(1, 'Choose at least one conversation').max(500),
	/** null unassigns. */
	assigneeId: z.uuid().nullable(),
	note: z.string().trim().max(500).optional(),
})
export type AssignInput = z.input<typeof AssignInput>

export type AssignOutcome = {
	/** Conversations whose assignee changed (the others already had it). */
	changed: string[]
	unchanged: string[]
}

async function requireAssignee(tx: Executor, assigneeId: string) {
	const [assignee] = await tx
		.select({ id: users.id, role: users.role, active: users.active, name: users.name })
		.from(users)
		.where(eq(users.id, assigneeId))
	if (!assignee || !assignee.active)
		throw new AssignmentError('That person is not an active user', 400)
	if (!canAssign(assignee))
		throw new AssignmentError('Conversations can only be assigned to marketers and admins', 400)
	return assignee
}

/**
 * Assigns, reassigns or unassigns (`assigneeId: null`) one or many conversations, in one
 * transaction: all of them change or none. Each change is audited with the previous assignee and
 * queues the Kapso mirror in the same transaction.
 */
export async function assignConversations(
	actor: Actor,
	input: AssignInput,
): Promise<AssignOutcome> {
	if (!canAssign(actor)) throw new AssignmentError('Analysts cannot assign conversations', 403)
	const data = AssignInput.parse(input)
	const ids = [...new Set(data.conversationIds)]
	return db.transaction(async (tx) => {
		if (data.assigneeId) await requireAssignee(tx, data.assigneeId)
		const current = await tx
			.select({ id: conversations.id, assigneeId: conversations.assigneeId })
			.from(conversations)
			.where(inArray(conversations.id, ids))
			.orderBy(asc(conversations.id))
			.for('update')
		if (current.length !== ids.length) throw new AssignmentError('Conversation not found', 404)
		const changed = current.filter((row) => row.assigneeId !== data.assigneeId)
		if (changed.length > 0) {
			await tx
				.update(conversations)
				.set({ assigneeId: data.assigneeId })
				.where(
					inArray(
						conversations.id,
						changed.map((row) => row.id),
					),
				)
		}
		for (const row of changed) {
			const action =
				data.assigneeId === null
					? 'conversation.unassign'
					: row.assigneeId === null
						? 'conversation.assign'
						: 'conversation.reassign'
			await recordAudit(tx, {
				actorId: actor.id,
				action,
				objectType: 'conversation',
				objectId: row.id,
				details: {
					from: row.assigneeId,
					to: data.assigneeId,
					...(ids.length > 1 ? { bulk: ids.length } : {}),
					...(data.note ? { note: data.note } : {}),
				},
			})
			await enqueueJob(
				tx,
				'mirror_assignment',
				{ conversationId: row.id },
				// Replace: only the latest state matters, and a burst of changes mirrors once.
				{ jobKey: `mirror_assignment:${row.id}`, jobKeyMode: 'replace', maxAttempts: 10 },
			)
		}
		return {
			changed: changed.map((row) => row.id),
			unchanged: current.filter((row) => row.assigneeId === data.assigneeId).map((row) => row.id),
		}
	})
}

/** One conversation: assign to someone, or unassign with `null`. */
export async function assignConversation(
	actor: Actor,
	conversationId: string,
	assigneeId: string | null,
) {
	const outcome = await assignConversations(actor, {
		conversationIds: [conversationId],
		assigneeId,
	})
	return { changed: outcome.changed.length > 0 }
}

/** The assignee of each conversation, for lists that show it. */
export async function assigneesOf(conversationIds: string[], executor: Executor = db) {
	if (conversationIds.length === 0) return new Map<string, { id: string; name: string }>()
	const rows = await executor
		.select({ conversationId: conversations.id, id: users.id, name: users.name })
		.from(conversations)
		.innerJoin(users, eq(users.id, conversations.assigneeId))
		.where(inArray(conversations.id, conversationIds))
	return new Map(rows.map((row) => [row.conversationId, { id: row.id, name: row.name }]))
}

export type MirrorOutcome =
	| { mirrored: true; kapsoUserId: string | null; changed: boolean }
	| { mirrored: false; reason: string; retry: boolean }

/**
 * Copies a conversation's current assignee to Kapso. Kapso assigns to its own project members,
 * matched here by email; an assignee who is not one leaves the conversation unassigned in Kapso.
 */
export async function mirrorAssignment(
	conversationId: string,
	options: { platform?: KapsoPlatform } = {},
): Promise<MirrorOutcome> {
	const platform = options.platform ?? getKapsoPlatform()
	const [row] = await db
		.select({ kapsoConversationId: conversations.kapsoConversationId, email: users.email })
		.from(conversations)
		.leftJoin(users, eq(users.id, conversations.assigneeId))
		.where(eq(conversations.id, conversationId))
	if (!row) return { mirrored: false, reason: 'conversation not found', retry: false }
	if (!row.kapsoConversationId)
		return { mirrored: false, reason: 'the conversation is not known to Kapso yet', retry: false }
	let kapsoUserId: string | null = null
	if (row.email) {
		const found = await platform.findProjectUser({ email: row.email })
		if (!found.ok)
			return { mirrored: false, reason: found.title, retry: found.class === 'retryable' }
		kapsoUserId = found.user?.id ?? null
	}
	const synced = await platform.syncConversationAssignment({
		conversationId: row.kapsoConversationId,
		userId: kapsoUserId,
	})
	if (!synced.ok)
		return {
			mirrored: false,
			reason: synced.title,
			retry: synced.class === 'retryable' || synced.class === 'ambiguous',
		}
	return { mirrored: true, kapsoUserId, changed: synced.changed }
}
