import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { auditLog, contacts, conversations, senders, users } from '#db/schema/index'
import { createKapsoPlatform, setKapsoPlatform } from '#app/lib/kapso/platform.server'
import mirrorAssignmentTask from '#jobs/tasks/mirror_assignment'
import { listConversations } from './conversations.server'
import { startSandboxWithExtras } from '#tests/support/sandbox'
import {
	AssignmentError,
	AssignmentFilterSchema,
	assigneesOf,
	assignConversation,
	assignConversations,
	assignmentCondition,
	canAssign,
	listAssignees,
	mirrorAssignment,
	type Actor,
} from './assignments.server'

let sandbox: Awaited<ReturnType<typeof startSandboxWithExtras>>
let senderId: string
const people = {} as Record<'admin' | 'marta' | 'mateo' | 'ana' | 'gone', Actor & { email: string }>

beforeAll(async () => {
	sandbox = await startSandboxWithExtras()
	setKapsoPlatform(sandbox.platform)
	const [sender] = await db
		.insert(senders)
		.values({
			phoneNumberId: '100000000000777',
			wabaId: '200000000000001',
			displayNumber: '+1 555 010 0777',
		})
		.returning()
	senderId = sender.id
	const rows = await db
		.insert(users)
		.values([
			{ email: 'admin@assign.test', name: 'Alba Admin', role: 'admin', passwordHash: 'x' },
			{ email: 'marta@assign.test', name: 'Marta', role: 'marketer', passwordHash: 'x' },
			{ email: 'mateo@assign.test', name: 'Mateo', role: 'marketer', passwordHash: 'x' },
			{ email: 'ana@assign.test', name: 'Ana', role: 'analyst', passwordHash: 'x' },
			{
				email: 'gone@assign.test',
				name: 'Gone',
				role: 'marketer',
				passwordHash: 'x',
				active: false,
			},
		])
		.returning()
	for (const [key, row] of [
		['admin', rows[0]],
		['marta', rows[1]],
		['mateo', rows[2]],
		['ana', rows[3]],
		['gone', rows[4]],
	] as const)
		people[key] = { id: row.id, role: row.role, email: row.email }
})

afterAll(async () => {
	setKapsoPlatform(null)
	await sandbox.close()
})

beforeEach(async () => {
	await db.delete(conversations)
	await db.execute(sql`delete from graphile_worker._private_jobs`)
	await sandbox.control('extras/reset', {})
})

let phoneCounter = 0
async function conversation(kapsoConversationId: string | null = null) {
	phoneCounter++
	const [contact] = await db
		.insert(contacts)
		.values({ phoneE164: `+5491100${String(phoneCounter).padStart(6, '0')}` })
		.returning()
	const [row] = await db
		.insert(conversations)
		.values({ senderId, contactId: contact.id, kapsoConversationId, lastMessageAt: new Date() })
		.returning()
	return row.id
}

async function assigneeOf(id: string) {
	const [row] = await db
		.select({ assigneeId: conversations.assigneeId })
		.from(conversations)
		.where(eq(conversations.id, id))
	return row.assigneeId
}

async function auditsOf(id: string) {
	return db
		.select({ action: auditLog.action, actorId: auditLog.actorId, details: auditLog.details })
		.from(auditLog)
		.where(and(eq(auditLog.objectType, 'conversation'), eq(auditLog.objectId, id)))
		.orderBy(auditLog.id)
}

async function mirrorJobs() {
	const rows = await db.execute(
		sql`select key, payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'mirror_assignment' order by key`,
	)
	return rows as unknown as Array<{ key: string; payload: { conversationId: string } }>
}

async function filtered(filter: string | undefined, viewerId: string) {
	const condition = assignmentCondition(AssignmentFilterSchema.parse(filter), viewerId)
	const rows = await db.execute(
		sql`select c.id from conversations c where ${condition ?? sql`true`} order by c.id`,
	)
	return (rows as unknown as Array<{ id: string }>).map((row) => row.id).sort()
}

describe('assignment rules', () => {
	test('marketers and admins assign, reassign and unassign; each change is audited with from/to', async () => {
		const id = await conversation()
		expect(await assignConversation(people.marta, id, people.marta.id)).toEqual({ changed: true })
		expect(await assigneeOf(id)).toBe(people.marta.id)
		expect(await assignConversation(people.admin, id, people.mateo.id)).toEqual({ changed: true })
		expect(await assignConversation(people.admin, id, people.mateo.id)).toEqual({ changed: false })
		expect(await assignConversation(people.mateo, id, null)).toEqual({ changed: true })
		expect(await assigneeOf(id)).toBeNull()
		expect(await auditsOf(id)).toEqual([
			{
				action: 'conversation.assign',
				actorId: people.marta.id,
				details: { from: null, to: people.marta.id },
			},
			{
				action: 'conversation.reassign',
				actorId: people.admin.id,
				details: { from: people.marta.id, to: people.mateo.id },
			},
			{
				action: 'conversation.unassign',
				actorId: people.mateo.id,
				details: { from: people.mateo.id, to: null },
			},
		])
	})

	test('analysts cannot assign, and cannot be assignees; nor can deactivated users', async () => {
		const id = await conversation()
		expect(canAssign(people.ana)).toBe(false)
		expect(canAssign(people.marta)).toBe(true)
		await expect(assignConversation(people.ana, id, people.marta.id)).rejects.toMatchObject({
			status: 403,
		})
		await expect(assignConversation(people.marta, id, people.ana.id)).rejects.toMatchObject({
			status: 400,
		})
		await expect(assignConversation(people.marta, id, people.gone.id)).rejects.toBeInstanceOf(
			AssignmentError,
		)
		expect(await assigneeOf(id)).toBeNull()
		expect(await auditsOf(id)).toEqual([])
		const assignees = await listAssignees()
		expect(assignees.map((person) => person.name)).toEqual(
			expect.arrayContaining(['Alba Admin', 'Marta', 'Mateo']),
		)
		expect(assignees.map((person) => person.name)).not.toContain('Ana')
		expect(assignees.map((person) => person.name)).not.toContain('Gone')
	})

	test('bulk assignment changes all or nothing, and queues one mirror job per changed conversation', async () => {
		const a = await conversation()
		const b = await conversation()
		const c = await conversation()
		await assignConversation(people.marta, c, people.mateo.id)
		await db.execute(sql`delete from graphile_worker._private_jobs`)

		const outcome = await assignConversations(people.marta, {
			conversationIds: [a, b, c],
			assigneeId: people.mateo.id,
		})
		expect(outcome.changed.sort()).toEqual([a, b].sort())
		expect(outcome.unchanged).toEqual([c])
		expect((await auditsOf(a))[0].details).toMatchObject({ bulk: 3 })
		expect((await mirrorJobs()).map((job) => job.key).sort()).toEqual(
			[`mirror_assignment:${a}`, `mirror_assignment:${b}`].sort(),
		)

		const missing = '00000000-0000-4000-8000-000000000000'
		await expect(
			assignConversations(people.marta, { conversationIds: [a, missing], assigneeId: null }),
		).rejects.toMatchObject({ status: 404 })
		expect(await assigneeOf(a)).toBe(people.mateo.id)
		await expect(
			assignConversations(people.marta, { conversationIds: [], assigneeId: null }),
		).rejects.toThrow()
	})

	test('filters: mine, unassigned, by person, everyone', async () => {
		const mine = await conversation()
		const mateos = await conversation()
		const nobody = await conversation()
		await assignConversations(people.marta, {
			conversationIds: [mine],
			assigneeId: people.marta.id,
		})
		await assignConversations(people.marta, {
			conversationIds: [mateos],
			assigneeId: people.mateo.id,
		})
		expect(await filtered('mine', people.marta.id)).toEqual([mine])
		expect(await filtered('mine', people.mateo.id)).toEqual([mateos])
		expect(await filtered('unassigned', people.marta.id)).toEqual([nobody])
		expect(await filtered(people.mateo.id, people.marta.id)).toEqual([mateos])
		expect(await filtered(undefined, people.marta.id)).toEqual([mine, mateos, nobody].sort())
		// Anything else is ignored rather than failing the page.
		expect(await filtered('bogus', people.marta.id)).toHaveLength(3)
		const names = await assigneesOf([mine, mateos, nobody])
		expect(names.get(mine)?.name).toBe('Marta')
		expect(names.get(mateos)?.name).toBe('Mateo')
		expect(names.has(nobody)).toBe(false)
	})
})

test('the inbox list filters by assignment and shows the assignee', async () => {
	const mine = await conversation()
	const other = await conversation()
	await assignConversation(people.marta, mine, people.marta.id)
	const list = await listConversations(people.marta, { assigned: 'mine' })
	expect(list.items.map((item) => item.id)).toEqual([mine])
	expect(list.items[0].assignee).toEqual({ id: people.marta.id, name: 'Marta' })
	const unassigned = await listConversations(people.ana, { assigned: 'unassigned' })
	expect(unassigned.items.map((item) => item.id)).toEqual([other])
	expect(unassigned.items[0].assignee).toBeNull()
	const byPerson = await listConversations(people.ana, { assigned: people.marta.id })
	expect(byPerson.items.map((item) => item.id)).toEqual([mine])
})

describe('mirroring to Kapso', () => {
	async function kapsoAssignments() {
		const response = await fetch(`${sandbox.url}/_sandbox/extras/assignments`)
		return ((await response.json()) as { data: Array<{ user_id: string; active: boolean }> }).data
	}

	test('assign, reassign and unassign keep exactly one matching active assignment in Kapso', async () => {
		const martaKapso = (await sandbox.control('extras/users', { email: 'MARTA@assign.test' }))
			.id as string
		const mateoKapso = (await sandbox.control('extras/users', { email: 'mateo@assign.test' }))
			.id as string
		const id = await conversation('kapso-conv-1')

		await assignConversation(people.admin, id, people.marta.id)
		expect(await mirrorAssignment(id)).toEqual({
			mirrored: true,
			kapsoUserId: martaKapso,
			changed: true,
		})
		expect(await kapsoAssignments()).toMatchObject([{ user_id: martaKapso, active: true }])
		expect(await mirrorAssignment(id)).toMatchObject({ mirrored: true, changed: false })

		await assignConversation(people.admin, id, people.mateo.id)
		await mirrorAssignmentTask({ conversationId: id }, { logger: { info: () => {} } } as never)
		expect(await kapsoAssignments()).toMatchObject([{ user_id: mateoKapso, active: true }])

		await assignConversation(people.admin, id, null)
		await mirrorAssignment(id)
		expect(await kapsoAssignments()).toMatchObject([{ user_id: mateoKapso, active: false }])
	})

	test('an assignee who is not a Kapso member leaves Kapso unassigned; unknown conversations are skipped', async () => {
		const id = await conversation('kapso-conv-2')
		await assignConversation(people.admin, id, people.marta.id)
		expect(await mirrorAssignment(id)).toEqual({
			mirrored: true,
			kapsoUserId: null,
			changed: false,
		})
		expect(await kapsoAssignments()).toEqual([])

		const local = await conversation(null)
		await assignConversation(people.admin, local, people.marta.id)
		expect(await mirrorAssignment(local)).toMatchObject({ mirrored: false, retry: false })
	})

	test('when Kapso is unreachable the job fails so graphile-worker retries it', async () => {
		const id = await conversation('kapso-conv-3')
		await assignConversation(people.admin, id, people.marta.id)
		setKapsoPlatform(
			createKapsoPlatform({ baseUrl: 'http://127.0.0.1:9', apiKey: 'x', timeoutMs: 1000 }),
		)
		try {
			await expect(
				mirrorAssignmentTask({ conversationId: id }, { logger: { info: () => {} } } as never),
			).rejects.toThrow(/not mirrored/)
		} finally {
			setKapsoPlatform(sandbox.platform)
		}
	})
})
