import { sql as q } from 'drizzle-orm'
import { beforeEach, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { broadcasts, contacts, imports, senders, templates, users } from '#db/schema/index'
import { AudienceSchema } from './audience'
import {
	broadcastPage,
	broadcastProgress,
	contactAttributeKeys,
	contactTags,
	countAudienceMatches,
	getBroadcastDetail,
	importOptions,
	listBroadcasts,
	sampleRecipients,
	summarizeCounts,
	templateForBuilder,
	templateOptions,
} from './queries.server'
import { getBroadcastSettings, updateBroadcastSettings } from './settings.server'

const body = (text: string, examples: string[]) => ({
	type: 'BODY',
	text,
	example: { body_text: [examples] },
})

// This file has its own database copy; each test starts from empty tables.
beforeEach(async () => {
	await db.execute(
		q`truncate broadcast_counter_deltas, broadcast_recipients, broadcasts, contacts, templates, senders, imports, app_settings, audit_log, users cascade`,
	)
})

async function arrange() {
	const [user] = await db
		.insert(users)
		.values({ email: 'marta@queries.test', name: 'Marta', role: 'marketer', passwordHash: 'x' })
		.returning()
	const [sender] = await db
		.insert(senders)
		.values({
			phoneNumberId: '555000111',
			wabaId: '777',
			displayNumber: '+51 999 000 111',
			ratePerSecond: 50,
		})
		.returning()
	const [approved] = await db
		.insert(templates)
		.values({
			wabaId: '777',
			name: 'promo_lima',
			language: 'es',
			category: 'MARKETING',
			metaStatus: 'APPROVED',
			components: [body('Hola {{1}}, oferta en {{2}} (nuevo borrador)', ['Ana', 'Lima'])],
			remoteComponents: [body('Hola {{1}}, oferta en {{2}}', ['Ana', 'Lima'])],
		})
		.returning()
	const [pending] = await db
		.insert(templates)
		.values({
			wabaId: '777',
			name: 'aviso',
			language: 'es',
			category: 'UTILITY',
			metaStatus: 'PENDING',
			components: [body('Aviso', [])],
		})
		.returning()
	const [media] = await db
		.insert(templates)
		.values({
			wabaId: '777',
			name: 'con_imagen',
			language: 'es',
			category: 'MARKETING',
			metaStatus: 'APPROVED',
			components: [{ type: 'HEADER', format: 'IMAGE' }, body('Mira', [])],
		})
		.returning()
	await db.insert(contacts).values([
		{ phoneE164: '+51911111111', name: 'Ana', tags: ['vip', 'lima'], attributes: { city: 'Lima' } },
		{
			phoneE164: '+51922222222',
			name: '',
			tags: ['vip'],
			attributes: { city: ' lima ', plan: 'gold' },
		},
		{ phoneE164: '+51933333333', name: 'Oscar', tags: ['vip'], attributes: { city: 'Cusco' } },
		{
			phoneE164: '+51944444444',
			name: 'Olga',
			tags: ['vip'],
			attributes: { city: 'Lima' },
			optedOutAt: new Date(),
			optOutSource: 'keyword',
		},
		{ phoneE164: '+51955555555', name: 'Luis', tags: ['vip'], attributes: { city: 'Lima' } },
		{ phoneE164: '+51966666666', name: 'Rosa', tags: ['vip'], attributes: { city: 'Lima' } },
	])
	return { user, sender, approved, pending, media }
}

describe('broadcast read-side queries', () => {
	test('builder options: templates with sendability and the reason, tags, attributes, imports, preview rows', async () => {
		const { user, sender, approved, pending, media } = await arrange()

		const options = await templateOptions()
		expect(options.map((o) => [o.name, o.sendable])).toEqual([
			['promo_lima', true],
			['aviso', false],
			['con_imagen', false],
		])
		expect(options.find((o) => o.id === pending.id)?.reason).toMatch(/PENDING/)
		expect(options.find((o) => o.id === media.id)?.reason).toMatch(/image header/)

		expect(await contactTags()).toEqual([
			{ tag: 'vip', contacts: 6 },
			{ tag: 'lima', contacts: 1 },
		])
		expect(await contactAttributeKeys()).toEqual(['city', 'plan'])

		await db.insert(imports).values([
			{ fileName: 'done.csv', fileSize: 10, status: 'completed', inserted: 5, createdBy: user.id },
			{ fileName: 'running.csv', fileSize: 10, status: 'parsing' },
		])
		expect((await importOptions()).map((i) => i.fileName)).toEqual(['done.csv'])

		// The preview uses what WhatsApp holds (remote components), not a newer local draft.
		const template = await templateForBuilder(approved.id)
		expect(template?.slots.map((s) => s.key)).toEqual(['body:1', 'body:2'])
		expect(JSON.stringify(template?.components)).not.toContain('nuevo borrador')

		const audience = AudienceSchema.parse({ attributes: [{ key: 'city', value: 'LIMA' }] })
		const mapping = {
			'body:1': { source: 'field' as const, field: 'name' as const, fallback: 'cliente' },
			'body:2': { source: 'attribute' as const, key: 'city', fallback: undefined },
		}
		const input = { audience, mapping, components: template!.components }
		const sample = await sampleRecipients(input)
		expect(sample.map((r) => [r.phoneE164, r.variables])).toEqual([
			['+51911111111', { 'body:1': 'Ana', 'body:2': 'Lima' }],
			['+51922222222', { 'body:1': 'cliente', 'body:2': 'lima' }],
			['+51955555555', { 'body:1': 'Luis', 'body:2': 'Lima' }],
		])
		// Five in Lima match; the opted-out one is not eligible.
		expect(await countAudienceMatches(input)).toEqual({ matched: 5, eligible: 4 })
		expect(sender.id).toBeTruthy()
	})

	test('list with status and search filters; detail with sender, template and people; progress from the ledger', async () => {
		const { user, sender, approved } = await arrange()
		const [draft] = await db
			.insert(broadcasts)
			.values({
				name: 'Black Friday Lima',
				senderId: sender.id,
				templateId: approved.id,
				createdBy: user.id,
			})
			.returning()
		const [sending] = await db
			.insert(broadcasts)
			.values({
				name: 'Cyber Monday',
				senderId: sender.id,
				templateId: approved.id,
				status: 'sending',
				audience: { everyone: true },
				variableMapping: { 'body:1': { source: 'text', text: 'hola' } },
				createdBy: user.id,
				approvedBy: user.id,
				parentBroadcastId: draft.id,
			})
			.returning()

		expect((await listBroadcasts()).map((b) => b.name)).toEqual([
			'Cyber Monday',
			'Black Friday Lima',
		])
		expect((await listBroadcasts({ status: 'draft' })).map((b) => b.name)).toEqual([
			'Black Friday Lima',
		])
		expect((await listBroadcasts({ search: 'cyber' })).map((b) => b.name)).toEqual(['Cyber Monday'])
		expect((await listBroadcasts({ search: 'promo_' })).length).toBe(2)
		expect(await listBroadcasts({ search: '100%' })).toEqual([])

		const detail = await getBroadcastDetail(sending.id)
		expect(detail).toMatchObject({
			sender: { displayNumber: '+51 999 000 111', ratePerSecond: 50 },
			template: { name: 'promo_lima', metaStatus: 'APPROVED' },
			creatorName: 'Marta',
			approverName: 'Marta',
			parentName: 'Black Friday Lima',
			audience: { everyone: true },
			mapping: { 'body:1': { source: 'text', text: 'hola' } },
		})
		expect(detail?.slots.map((s) => s.key)).toEqual(['body:1', 'body:2'])
		expect(await getBroadcastDetail('00000000-0000-4000-8000-000000000000')).toBeNull()

		// Ledger rows (counted by the trigger): 2 read, 1 delivered, 1 sent, 1 failed, 1 skipped, 3 queued.
		const states = [
			'read',
			'read',
			'delivered',
			'sent',
			'failed',
			'skipped',
			'queued',
			'queued',
			'queued',
		]
		const rows = await db.execute<{ id: number }>(q`select id from contacts order by id`)
		for (const [i, state] of states.entries()) {
			const contactId = rows[i % rows.length].id
			const broadcastId = i < rows.length ? sending.id : draft.id
			await db.execute(q`
				insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, state, sent_at)
				values (${broadcastId}::uuid, ${contactId}, '+51900000000', ${state}::recipient_state,
					${['read', 'delivered', 'sent'].includes(state) ? q`now()` : q`null`})
			`)
		}
		// Move one row forward as the webhooks would: the counters follow.
		await db.execute(
			q`update broadcast_recipients set state = 'read' where broadcast_id = ${sending.id}::uuid and state = 'sent'`,
		)

		const progress = await broadcastProgress(sending.id)
		expect(progress).toMatchObject({
			status: 'sending',
			total: 6,
			sent: 4,
			delivered: 4,
			read: 3,
			failed: 1,
			skipped: 1,
			remaining: 0,
		})
		const list = await listBroadcasts()
		expect(list.find((b) => b.id === draft.id)?.progress).toMatchObject({
			total: 3,
			remaining: 3,
			percent: 0,
		})
	})

	test('summarizeCounts counts later states as earlier ones and open rows as remaining', () => {
		expect(
			summarizeCounts({
				queued: 5,
				sending: 2,
				retry_wait: 1,
				unknown: 1,
				sent: 3,
				delivered: 2,
				read: 1,
				failed: 4,
				skipped: 1,
			}),
		).toMatchObject({
			total: 20,
			sent: 6,
			delivered: 3,
			read: 1,
			remaining: 9,
			done: 11,
			percent: 55,
		})
	})

	test('broadcast settings: approval toggle and failure threshold, defaults when unset', async () => {
		const [admin] = await db
			.insert(users)
			.values({ email: 'admin@settings.test', name: 'Admin', role: 'admin', passwordHash: 'x' })
			.returning()
		expect(await getBroadcastSettings()).toEqual({
			approvalRequired: false,
			failurePausePercent: 20,
		})
		await updateBroadcastSettings({ approvalRequired: 'on', failurePausePercent: '35' }, admin.id)
		expect(await getBroadcastSettings()).toEqual({
			approvalRequired: true,
			failurePausePercent: 35,
		})
		const [row] = await db.execute<{ value: unknown }>(
			q`select value from app_settings where key = 'failure_pause_threshold'`,
		)
		// The dispatcher reads a fraction.
		expect(row.value).toBe(0.35)
		await updateBroadcastSettings({ failurePausePercent: 20 }, admin.id)
		expect((await getBroadcastSettings()).approvalRequired).toBe(false)
	})
})

describe('retarget counts on the broadcast page', () => {
	test('a finished broadcast offers the unread recipients and the retryable failures', async () => {
		const { sender, approved } = await arrange()
		const [done] = await db
			.insert(broadcasts)
			.values({ name: 'Done', senderId: sender.id, templateId: approved.id, status: 'completed' })
			.returning()
		const ids = await db.execute<{ id: number }>(
			q`select id from contacts where opted_out_at is null order by id`,
		)
		const rows: Array<[string, number | null]> = [
			['sent', null],
			['delivered', null],
			['read', null],
			['failed', 131026],
			['failed', 131000],
		]
		for (const [i, [state, code]] of rows.entries()) {
			await db.execute(q`
				insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, state, error_code)
				values (${done.id}::uuid, ${ids[i].id}, '+51900000000', ${state}::recipient_state, ${code})
			`)
		}
		const page = await broadcastPage(done.id)
		expect(page).toMatchObject({
			editable: false,
			preflight: null,
			retarget: { unread: 2, retryableFailed: 1 },
			progress: { status: 'completed', total: 5, sent: 3, failed: 2, remaining: 0 },
		})
	})

	test('a draft that is not finished says why the pre-flight cannot run', async () => {
		const { sender } = await arrange()
		const [draft] = await db
			.insert(broadcasts)
			.values({ name: 'Half', senderId: sender.id })
			.returning()
		const page = await broadcastPage(draft.id)
		expect(page).toMatchObject({
			editable: true,
			preflight: null,
			progress: null,
			retarget: null,
			notReady: { field: 'templateId' },
		})
	})
})
