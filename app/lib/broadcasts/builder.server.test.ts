import { describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { broadcasts, imports, senders, templates, users } from '#db/schema/index'
import {
	chooseBroadcastSize,
	createFromBasics,
	instantToZonedInput,
	parseAudienceForm,
	parseMappingForm,
	parseScheduleForm,
	saveBuilderStep,
	zonedTimeToInstant,
} from './builder.server'
import { getBroadcastDetail } from './queries.server'
import type { VariableSlot } from './audience'

function form(entries: Array<[string, string]>) {
	const data = new FormData()
	for (const [key, value] of entries) data.append(key, value)
	return data
}

describe('parseAudienceForm', () => {
	test('tags and attribute rows become the audience, blank rows ignored', () => {
		const result = parseAudienceForm(
			form([
				['audienceMode', 'filters'],
				['tagsAny', 'vip'],
				['tagsAny', 'vip'],
				['tagsAny', 'lima'],
				['tagsAll', 'customer'],
				['attrKey', 'city'],
				['attrOp', 'equals'],
				['attrValue', ' Lima '],
				['attrKey', ''],
				['attrOp', 'equals'],
				['attrValue', ''],
			]),
		)
		expect(result).toEqual({
			ok: true,
			data: {
				everyone: false,
				tagsAny: ['vip', 'lima'],
				tagsAll: ['customer'],
				attributes: [{ key: 'city', op: 'equals', value: 'Lima' }],
			},
		})
	})

	test('no criterion at all is refused instead of meaning everyone', () => {
		const result = parseAudienceForm(form([['audienceMode', 'filters']]))
		expect(result.ok).toBe(false)
		if (!result.ok) expect(result.errors.audience).toMatch(/Choose who receives it/)
	})

	test('a value without an attribute is an error on that row', () => {
		const result = parseAudienceForm(
			form([
				['audienceMode', 'filters'],
				['tagsAny', 'vip'],
				['attrKey', ''],
				['attrOp', 'equals'],
				['attrValue', 'Lima'],
			]),
		)
		expect(result).toEqual({ ok: false, errors: { 'attr.0': expect.stringMatching(/attribute/) } })
	})

	test('an import needs an import id; everyone is explicit', () => {
		expect(parseAudienceForm(form([['audienceMode', 'import']]))).toEqual({
			ok: false,
			errors: { importId: 'Choose an import' },
		})
		const id = '6a0b2f6e-2d7e-4a43-9d4b-3f1f1c1b2a10'
		const fromImport = parseAudienceForm(
			form([
				['audienceMode', 'import'],
				['importId', id],
			]),
		)
		expect(fromImport.ok && fromImport.data.importId).toBe(id)
		const everyone = parseAudienceForm(form([['audienceMode', 'everyone']]))
		expect(everyone.ok && everyone.data.everyone).toBe(true)
		expect(parseAudienceForm(form([['audienceMode', 'nobody']])).ok).toBe(false)
	})
})

describe('parseMappingForm', () => {
	const slots: VariableSlot[] = [
		{ key: 'body:1', component: 'body', name: '1' },
		{ key: 'body:2', component: 'body', name: '2' },
		{ key: 'body:3', component: 'body', name: '3' },
	]

	test('fields, attributes and fixed texts, with fallbacks (empty fallback dropped)', () => {
		const result = parseMappingForm(
			form([
				['source:body:1', 'field'],
				['field:body:1', 'name'],
				['fallback:body:1', 'amigo'],
				['source:body:2', 'attribute'],
				['attribute:body:2', 'city'],
				['fallback:body:2', ''],
				['source:body:3', 'text'],
				['text:body:3', 'SALE20'],
			]),
			slots,
		)
		expect(result).toEqual({
			ok: true,
			data: {
				'body:1': { source: 'field', field: 'name', fallback: 'amigo' },
				'body:2': { source: 'attribute', key: 'city', fallback: undefined },
				'body:3': { source: 'text', text: 'SALE20' },
			},
		})
	})

	test('every variable must be mapped, each error on its variable', () => {
		const result = parseMappingForm(
			form([
				['source:body:1', 'field'],
				['field:body:1', 'password'],
				['source:body:2', 'attribute'],
				['attribute:body:2', ''],
				['source:body:3', 'text'],
				['text:body:3', '  '],
			]),
			[...slots, { key: 'button:0', component: 'button', name: '1', index: 0 }],
		)
		expect(result.ok).toBe(false)
		if (result.ok) return
		expect(result.errors['body:1']).toMatch(/contact field/)
		expect(result.errors['body:2']).toBe('Choose an attribute')
		expect(result.errors['body:3']).toBe('Enter the text')
		expect(result.errors['button:0']).toBe('Choose where this value comes from')
	})
})

describe('schedule times in a chosen zone', () => {
	test('a wall-clock time in Lima is five hours behind UTC', () => {
		expect(zonedTimeToInstant('2026-12-01T09:30', 'America/Lima')?.toISOString()).toBe(
			'2026-12-01T14:30:00.000Z',
		)
		expect(instantToZonedInput(new Date('2026-12-01T14:30:00Z'), 'America/Lima')).toBe(
			'2026-12-01T09:30',
		)
	})

	test('daylight saving time is honoured on both sides of the change', () => {
		expect(zonedTimeToInstant('2026-03-07T12:00', 'America/New_York')?.toISOString()).toBe(
			'2026-03-07T17:00:00.000Z',
		)
		expect(zonedTimeToInstant('2026-03-09T12:00', 'America/New_York')?.toISOString()).toBe(
			'2026-03-09T16:00:00.000Z',
		)
		// 02:30 does not exist on 8 March 2026 in New York: it resolves to just after the jump.
		expect(zonedTimeToInstant('2026-03-08T02:30', 'America/New_York')?.toISOString()).toBe(
			'2026-03-08T07:30:00.000Z',
		)
	})

	test('bad input is refused', () => {
		expect(zonedTimeToInstant('tomorrow', 'UTC')).toBeNull()
		expect(zonedTimeToInstant('2026-12-01T09:30', 'Mars/Olympus')).toBeNull()
	})

	test('parseScheduleForm: now, later in a zone, and errors by field', () => {
		const now = new Date('2026-11-22T12:00:00Z')
		expect(
			parseScheduleForm(
				form([
					['when', 'now'],
					['timezone', 'America/Lima'],
				]),
				now,
			),
		).toEqual({
			ok: true,
			data: { at: null, timezone: 'America/Lima' },
		})
		const later = parseScheduleForm(
			form([
				['when', 'later'],
				['at', '2026-11-23T08:00'],
				['timezone', 'Europe/Madrid'],
			]),
			now,
		)
		expect(later.ok && later.data.at?.toISOString()).toBe('2026-11-23T07:00:00.000Z')
		expect(
			parseScheduleForm(
				form([
					['when', 'later'],
					['at', '2026-11-20T08:00'],
					['timezone', 'UTC'],
				]),
				now,
			),
		).toEqual({ ok: false, errors: { at: expect.stringMatching(/passed/) } })
		expect(
			parseScheduleForm(
				form([
					['when', 'later'],
					['at', ''],
					['timezone', 'UTC'],
				]),
				now,
			),
		).toEqual({
			ok: false,
			errors: { at: 'Choose a date and time' },
		})
		expect(
			parseScheduleForm(
				form([
					['when', 'later'],
					['at', '2026-11-23T08:00'],
					['timezone', 'Nowhere/City'],
				]),
				now,
			),
		).toEqual({ ok: false, errors: { timezone: 'Unknown timezone' } })
	})
})

describe('saving the builder steps (database)', () => {
	async function arrange() {
		const [user] = await db
			.insert(users)
			.values({
				email: `m${Math.random()}@builder.test`,
				name: 'Marta',
				role: 'marketer',
				passwordHash: 'x',
			})
			.returning()
		const [sender] = await db
			.insert(senders)
			.values({
				phoneNumberId: String(Math.floor(Math.random() * 1e12)),
				wabaId: '777',
				displayNumber: '+51 999 000 111',
			})
			.returning()
		const body = (text: string) => ({
			type: 'BODY',
			text,
			example: { body_text: [['Ana', 'Lima']] },
		})
		const values = (name: string, metaStatus: string, text: string) => ({
			wabaId: '777',
			name: `${name}_${Math.floor(Math.random() * 1e9)}`,
			language: 'es',
			category: 'MARKETING' as const,
			metaStatus,
			components: [body(text)],
		})
		const [twoVars] = await db
			.insert(templates)
			.values(values('dos', 'APPROVED', 'Hola {{1}} de {{2}}'))
			.returning()
		const [oneVar] = await db
			.insert(templates)
			.values(values('uno', 'APPROVED', 'Hola {{1}}'))
			.returning()
		const [rejected] = await db
			.insert(templates)
			.values(values('mal', 'REJECTED', 'Hola {{1}}'))
			.returning()
		return { user, sender, twoVars, oneVar, rejected }
	}

	test('a draft is created from the first step, then each step saves its part', async () => {
		const { user, sender, twoVars, oneVar, rejected } = await arrange()

		expect(
			await createFromBasics(
				form([
					['name', ' '],
					['senderId', 'x'],
				]),
				user.id,
			),
		).toEqual({
			ok: false,
			errors: { name: 'Give the broadcast a name', senderId: 'Choose a sender number' },
		})
		const created = await createFromBasics(
			form([
				['name', 'Promo'],
				['senderId', sender.id],
			]),
			user.id,
		)
		if (!created.ok) throw new Error('not created')
		const id = created.data.id

		const refused = await saveBuilderStep(
			id,
			'template',
			form([['templateId', rejected.id]]),
			user.id,
		)
		expect(refused).toEqual({
			ok: false,
			errors: { templateId: expect.stringMatching(/REJECTED/) },
		})

		expect(
			(await saveBuilderStep(id, 'template', form([['templateId', twoVars.id]]), user.id)).ok,
		).toBe(true)
		const mapped = await saveBuilderStep(
			id,
			'variables',
			form([
				['source:body:1', 'field'],
				['field:body:1', 'name'],
				['source:body:2', 'text'],
				['text:body:2', 'Lima'],
			]),
			user.id,
		)
		expect(mapped.ok).toBe(true)
		// Another template keeps only the mappings it still has.
		expect(
			(await saveBuilderStep(id, 'template', form([['templateId', oneVar.id]]), user.id)).ok,
		).toBe(true)
		expect((await getBroadcastDetail(id))?.mapping).toEqual({
			'body:1': { source: 'field', field: 'name' },
		})

		const audience = await saveBuilderStep(
			id,
			'audience',
			form([
				['audienceMode', 'filters'],
				['tagsAll', 'vip'],
				['attrKey', 'city'],
				['attrOp', 'not_equals'],
				['attrValue', 'Cusco'],
			]),
			user.id,
		)
		expect(audience.ok).toBe(true)

		// Over the limit: cut, or daily waves; one replaces the other.
		expect(
			(
				await chooseBroadcastSize(
					id,
					form([
						['choice', 'cut'],
						['count', '250'],
					]),
					user.id,
				)
			).ok,
		).toBe(true)
		let detail = await getBroadcastDetail(id)
		expect([detail?.audience?.limit, detail?.broadcast.dailyCap]).toEqual([250, null])
		expect(
			(
				await chooseBroadcastSize(
					id,
					form([
						['choice', 'waves'],
						['count', '1000'],
					]),
					user.id,
				)
			).ok,
		).toBe(true)
		detail = await getBroadcastDetail(id)
		expect([detail?.audience?.limit, detail?.broadcast.dailyCap]).toEqual([null, 1000])
		expect(detail?.audience).toMatchObject({
			tagsAll: ['vip'],
			attributes: [{ key: 'city', op: 'not_equals', value: 'Cusco' }],
		})
		expect(
			(
				await chooseBroadcastSize(
					id,
					form([
						['choice', 'cut'],
						['count', '0'],
					]),
					user.id,
				)
			).ok,
		).toBe(false)
		expect((await chooseBroadcastSize(id, form([['choice', 'whole']]), user.id)).ok).toBe(true)
		detail = await getBroadcastDetail(id)
		expect([detail?.audience?.limit, detail?.broadcast.dailyCap]).toEqual([null, null])
	})

	test('editing the audience of a retargeted broadcast keeps it addressed to the earlier recipients', async () => {
		const { user, sender } = await arrange()
		const [parent] = await db
			.insert(broadcasts)
			.values({ name: 'First', senderId: sender.id, status: 'completed' })
			.returning()
		const retarget = { broadcastId: parent.id, kind: 'unread' as const }
		const [child] = await db
			.insert(broadcasts)
			.values({
				name: 'Again',
				senderId: sender.id,
				audience: { retarget },
				parentBroadcastId: parent.id,
			})
			.returning()
		// No filter at all is fine: the retarget alone is an audience.
		expect(
			(await saveBuilderStep(child.id, 'audience', form([['audienceMode', 'filters']]), user.id))
				.ok,
		).toBe(true)
		expect(
			(
				await saveBuilderStep(
					child.id,
					'audience',
					form([
						['audienceMode', 'filters'],
						['tagsAny', 'vip'],
					]),
					user.id,
				)
			).ok,
		).toBe(true)
		expect((await getBroadcastDetail(child.id))?.audience).toMatchObject({
			retarget,
			tagsAny: ['vip'],
		})
	})

	test('an import audience can be chosen', async () => {
		const { user, sender } = await arrange()
		const [draft] = await db
			.insert(broadcasts)
			.values({ name: 'By import', senderId: sender.id })
			.returning()
		const [done] = await db
			.insert(imports)
			.values({ fileName: 'leads.csv', fileSize: 10, status: 'completed' })
			.returning()
		const result = await saveBuilderStep(
			draft.id,
			'audience',
			form([
				['audienceMode', 'import'],
				['importId', done.id],
			]),
			user.id,
		)
		expect(result.ok).toBe(true)
		expect((await getBroadcastDetail(draft.id))?.audience).toMatchObject({ importId: done.id })
	})
})
