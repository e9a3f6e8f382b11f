import { sql as q } from 'drizzle-orm'
import { beforeAll, describe, expect, test } from 'vitest'
import { seedBroadcast } from '#app/lib/webhooks/test-fixtures'
import { db } from '#db/client'
import {
	compareBroadcasts,
	exportRecipientsCsv,
	getBroadcastReport,
	getTimeline,
	listReportRecipients,
} from './broadcast-report.server'
import { compactTimelineDeltas } from './compact.server'
import { getOverview, MIN_DELIVERED_FOR_BEST } from './overview.server'

let a: Awaited<ReturnType<typeof seedBroadcast>>
let b: Awaited<ReturnType<typeof seedBroadcast>>
const SENT = new Date('2026-03-10T14:00:00Z')
const minutes = (n: number) => new Date(SENT.getTime() + n * 60_000).toISOString()

beforeAll(async () => {
	// A: 10 recipients: 4 read, 2 delivered, 1 sent, 2 failed (131049, 131026), 1 skipped; 2 replied.
	a = await seedBroadcast({ count: 10, sentAt: SENT, name: 'Spring sale' })
	const ids = a.recipients.map((r) => r.id)
	await db.execute(q`update broadcast_recipients set state = 'read', delivered_at = ${minutes(1)}::timestamptz, read_at = ${minutes(5)}::timestamptz where id = any(${`{${ids.slice(0, 4).join(',')}}`}::bigint[])`)
	await db.execute(q`update broadcast_recipients set state = 'delivered', delivered_at = ${minutes(2)}::timestamptz where id = any(${`{${ids.slice(4, 6).join(',')}}`}::bigint[])`)
	await db.execute(q`update broadcast_recipients set state = 'failed', failed_at = ${minutes(3)}::timestamptz, error_code = 131049, error_title = 'Not delivered' where id = ${ids[7]}`)
	await db.execute(q`update broadcast_recipients set state = 'failed', failed_at = ${minutes(3)}::timestamptz, error_code = 131026, error_title = 'Undeliverable' where id = ${ids[8]}`)
	await db.execute(q`update broadcast_recipients set state = 'skipped', sent_at = null, skip_reason = 'opted_out' where id = ${ids[9]}`)
	await db.execute(q`update broadcast_recipients set replied_at = ${minutes(7)}::timestamptz where id = any(${`{${ids.slice(0, 2).join(',')}}`}::bigint[])`)
	await db.execute(q`update contacts set name = '=HYPERLINK("http://evil.example","click")' where id = ${a.recipients[0].contactId}`)
	// B: 4 recipients, all read.
	b = await seedBroadcast({ count: 4, sentAt: SENT, name: 'Autumn sale' })
	await db.execute(q`update broadcast_recipients set state = 'read', delivered_at = ${minutes(1)}::timestamptz, read_at = ${minutes(2)}::timestamptz where broadcast_id = ${b.broadcastId}::uuid`)
})

describe('broadcast report', () => {
	test('the funnel counts every state, from the counters', async () => {
		const report = await getBroadcastReport(a.broadcastId)
		expect(report?.funnel).toMatchObject({
			recipients: 10,
			sent: 9,
			delivered: 6,
			read: 4,
			replied: 2,
			failed: 2,
			skipped: 1,
			pending: 0,
			unknown: 0,
		})
		expect(report?.funnel.rates.delivery).toBeCloseTo(6 / 9)
		expect(report?.funnel.rates.read).toBeCloseTo(4 / 6)
		expect(report?.funnel.rates.failure).toBeCloseTo(2 / 9)
	})

	test('failures are grouped by code with an explanation and an action', async () => {
		const report = await getBroadcastReport(a.broadcastId)
		expect(report?.failures.map((f) => [f.code, f.count])).toEqual([
			[131026, 1],
			[131049, 1],
		])
		for (const f of report!.failures) {
			expect(f.explanation.length).toBeGreaterThan(10)
			expect(f.action.length).toBeGreaterThan(5)
		}
	})

	test('the timeline counts sent, delivered and read per minute', async () => {
		const report = await getBroadcastReport(a.broadcastId)
		expect(report?.timeline.bucket).toBe('minute')
		const byMinute = Object.fromEntries(report!.timeline.points.map((p) => [p.at, [p.sent, p.delivered, p.read]]))
		expect(byMinute[SENT.toISOString()]).toEqual([9, 0, 0])
		expect(byMinute[minutes(1)]).toEqual([0, 4, 0])
		expect(byMinute[minutes(5)]).toEqual([0, 0, 4])
	})

	test('compacting the timeline changes no number', async () => {
		const before = await getBroadcastReport(a.broadcastId)
		await db.execute(q`insert into broadcast_timeline_deltas (broadcast_id, minute, sent) values
			(${a.broadcastId}::uuid, ${SENT.toISOString()}::timestamptz, 1), (${a.broadcastId}::uuid, ${SENT.toISOString()}::timestamptz, -1)`)
		await compactTimelineDeltas(a.broadcastId)
		const rows = await db.execute<{ n: number; minutes: number }>(q`
			select count(*)::int as n, count(distinct minute)::int as minutes from broadcast_timeline_deltas where broadcast_id = ${a.broadcastId}::uuid`)
		expect(rows[0].n).toBe(rows[0].minutes)
		expect(await getBroadcastReport(a.broadcastId)).toEqual(before)
	})

	test('an unknown or malformed id is null', async () => {
		expect(await getBroadcastReport('00000000-0000-4000-8000-000000000000')).toBeNull()
		expect(await getBroadcastReport('not-a-uuid')).toBeNull()
	})

	test('the recipient table filters by state, searches, pages, and masks phones for analysts', async () => {
		const failed = await listReportRecipients(a.broadcastId, { state: 'failed' }, { mask: false })
		expect(failed.total).toBe(2)
		expect(failed.rows.map((r) => r.errorCode).sort()).toEqual([131026, 131049])
		const replied = await listReportRecipients(a.broadcastId, { state: 'replied' }, { mask: false })
		expect(replied.rows).toHaveLength(2)
		const phone = a.recipients[3].phone
		const found = await listReportRecipients(a.broadcastId, { q: phone.slice(-6) }, { mask: false })
		expect(found.rows.map((r) => r.phone)).toEqual([phone])
		expect(found.total).toBe(1)
		const byName = await listReportRecipients(a.broadcastId, { q: 'contact 3' }, { mask: true })
		const [unmasked] = (await listReportRecipients(a.broadcastId, { q: 'contact 3' }, { mask: false })).rows
		const third = unmasked.phone
		expect(byName.rows).toHaveLength(1)
		expect(byName.rows[0].id).toBe(unmasked.id)
		expect(byName.rows[0].phone).not.toContain(third.slice(1, -4))
		expect(byName.rows[0].phone.endsWith(third.slice(-3))).toBe(true)
		const all = await listReportRecipients(a.broadcastId, { page: 1 }, { mask: false })
		expect(all.rows).toHaveLength(10)
		expect(all.hasNext).toBe(false)
	})

	test('the CSV export streams the filtered table with formulas neutralised and phones masked for analysts', async () => {
		const csv = await exportRecipientsCsv(a.broadcastId, { state: 'all' }, { role: 'analyst', timezone: 'UTC' })
		const text = await new Response(csv!.stream).text()
		const lines = text.trimEnd().split('\r\n')
		expect(lines[0]).toBe('phone,name,state,skip_reason,error_code,error_title,sent_at,delivered_at,read_at,replied_at,failed_at')
		expect(lines).toHaveLength(11)
		expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`)
		for (const r of a.recipients) expect(text).not.toContain(r.phone)
		const failedOnly = await exportRecipientsCsv(a.broadcastId, { state: 'failed' }, { role: 'admin', timezone: 'UTC' })
		const failedText = await new Response(failedOnly!.stream).text()
		expect(failedText.trimEnd().split('\r\n')).toHaveLength(3)
		expect(failedText).toContain(a.recipients[7].phone)
		expect(csv!.filename).toBe('spring-sale-all-recipients.csv')
	})

	test('two broadcasts compare side by side', async () => {
		const comparison = await compareBroadcasts(a.broadcastId, b.broadcastId)
		expect(comparison?.a.funnel.read).toBe(4)
		expect(comparison?.b.funnel.read).toBe(4)
		expect(comparison?.b.funnel.rates.read).toBe(1)
		expect(await compareBroadcasts(a.broadcastId, '00000000-0000-4000-8000-000000000000')).toBeNull()
	})
})

describe('overview', () => {
	test('totals, rates, by broadcast, best template and trend, for days in the user’s timezone', async () => {
		const overview = await getOverview({ from: '2026-03-10', to: '2026-03-10' }, 'America/Lima')
		expect(overview.range.start).toBe('2026-03-10T05:00:00.000Z')
		expect(overview.totals).toMatchObject({ sent: 13, delivered: 10, read: 8, replied: 2, failed: 2 })
		expect(overview.byBroadcast.map((r) => [r.name, r.sent])).toEqual([
			['Spring sale', 9],
			['Autumn sale', 4],
		])
		expect(overview.trend.sent).toBeNull()
		expect(overview.previous).toEqual({ from: '2026-03-09', to: '2026-03-09' })
		// The day before in Lima holds none of it.
		const before = await getOverview({ from: '2026-03-09', to: '2026-03-09' }, 'America/Lima')
		expect(before.totals.sent).toBe(0)
		// Tokyo's 10 March ends at 15:00 UTC: the sends at 14:00 UTC are in, reads at 14:05 UTC too.
		const tokyo = await getOverview({ from: '2026-03-10', to: '2026-03-10' }, 'Asia/Tokyo')
		expect(tokyo.totals.sent).toBe(13)
	})

	test('a range ending before it starts is refused', async () => {
		await expect(getOverview({ from: '2026-03-10', to: '2026-03-01' }, 'UTC')).rejects.toThrow()
	})
})

/** Sends every recipient at `sentAt`, then moves the first ones on in order: read, delivered, failed; the first `replied` also reply. */
async function settle(
	broadcast: Awaited<ReturnType<typeof seedBroadcast>>,
	sentAt: Date,
	counts: { read: number; delivered: number; failed?: number; replied?: number },
) {
	const at = (n: number) => new Date(sentAt.getTime() + n * 60_000).toISOString()
	const ids = broadcast.recipients.map((r) => r.id)
	const list = (from: number, to: number) => `{${ids.slice(from, to).join(',')}}`
	const { read, delivered, failed = 0, replied = 0 } = counts
	await db.execute(
		q`update broadcast_recipients set sent_at = ${sentAt.toISOString()}::timestamptz where broadcast_id = ${broadcast.broadcastId}::uuid`,
	)
	await db.execute(q`update broadcast_recipients set state = 'read', delivered_at = ${at(1)}::timestamptz, read_at = ${at(5)}::timestamptz
		where id = any(${list(0, read)}::bigint[])`)
	await db.execute(q`update broadcast_recipients set state = 'delivered', delivered_at = ${at(1)}::timestamptz
		where id = any(${list(read, read + delivered)}::bigint[])`)
	await db.execute(q`update broadcast_recipients set state = 'failed', failed_at = ${at(3)}::timestamptz, error_code = 131049
		where id = any(${list(read + delivered, read + delivered + failed)}::bigint[])`)
	await db.execute(
		q`update broadcast_recipients set replied_at = ${at(7)}::timestamptz where id = any(${list(0, replied)}::bigint[])`,
	)
}

async function template(name: string, language: string) {
	const [row] = await db.execute<{ id: string }>(q`
		insert into templates (waba_id, name, language, category, components)
		values ('200000000000001', ${name}, ${language}, 'MARKETING', '[]'::jsonb) returning id`)
	return row.id
}

async function useTemplate(broadcastId: string, templateId: string) {
	await db.execute(
		q`update broadcasts set template_id = ${templateId}::uuid where id = ${broadcastId}::uuid`,
	)
}

async function optOut(contactId: number, at: string, source: string) {
	await db.execute(
		q`update contacts set opted_out_at = ${at}::timestamptz, opt_out_source = ${source}::opt_out_source where id = ${contactId}`,
	)
}

describe('overview by template, opt-outs and trend (April 2026, Lima = UTC−5)', () => {
	// 10:00 on 15 April in Lima; every event below is on Lima's 15 April unless its comment says otherwise.
	const APRIL_15 = new Date('2026-04-15T15:00:00Z')
	// 14 April 22:00 in Lima, already 15 April in UTC.
	const LIMA_14_EVENING = new Date('2026-04-15T03:00:00Z')

	beforeAll(async () => {
		const promo = await template('spring_promo', 'es')
		const update = await template('order_update', 'es')
		const welcome = await template('welcome', 'en')
		// spring_promo · es over two broadcasts: 40 sent, 35 delivered, 24 read (69 %), 3 replies.
		const promo1 = await seedBroadcast({ count: 30, name: 'Promo Lima' })
		await settle(promo1, APRIL_15, { read: 20, delivered: 5, replied: 3 })
		await useTemplate(promo1.broadcastId, promo)
		const promo2 = await seedBroadcast({ count: 10, name: 'Promo Cusco' })
		await settle(promo2, APRIL_15, { read: 4, delivered: 6 })
		await useTemplate(promo2.broadcastId, promo)
		// order_update · es: 25 sent, 22 delivered, 20 read (91 %), 3 failed.
		const orders = await seedBroadcast({ count: 25, name: 'Orders' })
		await settle(orders, APRIL_15, { read: 20, delivered: 2, failed: 3 })
		await useTemplate(orders.broadcastId, update)
		// welcome · en reads 100 %, but on too few deliveries to be called the best.
		const small = await seedBroadcast({ count: MIN_DELIVERED_FOR_BEST - 1, name: 'Welcome' })
		await settle(small, APRIL_15, { read: MIN_DELIVERED_FOR_BEST - 1, delivered: 0 })
		await useTemplate(small.broadcastId, welcome)
		// Lima's 14 April (the previous day there), no template: 10 sent, 10 delivered, 5 read.
		const evening = await seedBroadcast({ count: 10, name: 'Evening' })
		await settle(evening, LIMA_14_EVENING, { read: 5, delivered: 5 })

		await optOut(promo1.recipients[0].contactId, '2026-04-15T12:00:00Z', 'keyword')
		await optOut(promo1.recipients[1].contactId, '2026-04-15T20:00:00Z', 'keyword')
		// 23:30 on 15 April in Lima, 16 April in UTC.
		await optOut(orders.recipients[0].contactId, '2026-04-16T04:30:00Z', 'meta_preference')
		// 23:00 on 14 April in Lima, 15 April in UTC.
		await optOut(evening.recipients[0].contactId, '2026-04-15T04:00:00Z', 'button')
		// 21:00 on 13 April in Lima: before the previous day there, though on 14 April in UTC.
		await optOut(evening.recipients[1].contactId, '2026-04-14T02:00:00Z', 'manual')
	})

	test('totals, by template, the best read rate and opt-outs count the days of the user’s timezone', async () => {
		const overview = await getOverview({ from: '2026-04-15', to: '2026-04-15' }, 'America/Lima')
		expect(overview.range).toMatchObject({
			start: '2026-04-15T05:00:00.000Z',
			end: '2026-04-16T05:00:00.000Z',
		})
		expect(overview.totals).toMatchObject({
			sent: 84,
			delivered: 76,
			read: 63,
			replied: 3,
			failed: 3,
			optOuts: 3,
		})
		expect(overview.totals.readRate).toBeCloseTo(63 / 76)
		expect(
			overview.byTemplate.map((t) => [t.name, t.sent, t.delivered, t.read, t.failed, t.replied]),
		).toEqual([
			['spring_promo · es', 40, 35, 24, 0, 3],
			['order_update · es', 25, 22, 20, 3, 0],
			['welcome · en', 19, 19, 19, 0, 0],
		])
		expect(overview.byTemplate[0].readRate).toBeCloseTo(24 / 35)
		expect(overview.byTemplate[1].deliveryRate).toBeCloseTo(22 / 25)
		expect(overview.bestTemplate).toMatchObject({
			name: 'order_update · es',
			delivered: 22,
			read: 20,
		})
		expect(overview.bestTemplate?.readRate).toBeCloseTo(20 / 22)
		expect(overview.optOutsBySource).toEqual({ keyword: 2, meta_preference: 1 })

		// The same calendar day in UTC takes the evening broadcast and the button opt-out instead.
		const utc = await getOverview({ from: '2026-04-15', to: '2026-04-15' }, 'UTC')
		expect(utc.totals).toMatchObject({ sent: 94, delivered: 86, read: 68, optOuts: 3 })
		expect(utc.byTemplate.map((t) => t.name)).toContain('No template')
		expect(utc.optOutsBySource).toEqual({ keyword: 2, button: 1 })
	})

	test('the trend compares with the previous day in the user’s timezone', async () => {
		const overview = await getOverview({ from: '2026-04-15', to: '2026-04-15' }, 'America/Lima')
		expect(overview.previous).toEqual({ from: '2026-04-14', to: '2026-04-14' })
		expect(overview.previousTotals).toMatchObject({ sent: 10, delivered: 10, read: 5, optOuts: 1 })
		expect(overview.trend.sent).toBeCloseTo((84 - 10) / 10)
		expect(overview.trend.delivered).toBeCloseTo((76 - 10) / 10)
		expect(overview.trend.optOuts).toBeCloseTo((3 - 1) / 1)
		expect(overview.trend.readRate).toBeCloseTo((63 / 76 - 0.5) / 0.5)
		expect(overview.trend.replied).toBeNull()
		// In UTC the evening broadcast is on the 15th: nothing the day before, so no trend.
		const utc = await getOverview({ from: '2026-04-15', to: '2026-04-15' }, 'UTC')
		expect(utc.previousTotals.sent).toBe(0)
		expect(utc.trend.sent).toBeNull()
	})

	test('without dates it covers the last 30 days up to today in the user’s timezone', async () => {
		// 22:00 on 19 April in Lima, already 20 April in UTC.
		const now = new Date('2026-04-20T03:00:00Z')
		const overview = await getOverview({}, 'America/Lima', db, now)
		expect(overview.range).toMatchObject({
			from: '2026-03-21',
			to: '2026-04-19',
			start: '2026-03-21T05:00:00.000Z',
			end: '2026-04-20T05:00:00.000Z',
		})
		expect(overview.previous).toEqual({ from: '2026-02-19', to: '2026-03-20' })
		expect(overview.totals.sent).toBe(94)
		// The March broadcasts seeded for the whole file (10 March) are in the previous 30 days.
		expect(overview.previousTotals.sent).toBe(13)
		expect(overview.trend.sent).toBeCloseTo((94 - 13) / 13)
		expect((await getOverview({}, 'UTC', db, now)).range.to).toBe('2026-04-20')
	})
})

describe('broadcast timeline per hour', () => {
	test('a broadcast over more than six hours is bucketed on the hours of the user’s timezone', async () => {
		const broadcast = await seedBroadcast({ count: 5, name: 'All day' })
		const ids = broadcast.recipients.map((r) => r.id)
		const sent = async (from: number, to: number, at: string) =>
			db.execute(
				q`update broadcast_recipients set sent_at = ${at}::timestamptz where id = any(${`{${ids.slice(from, to).join(',')}}`}::bigint[])`,
			)
		await sent(0, 3, '2026-05-04T14:20:00Z')
		await sent(3, 5, '2026-05-04T14:40:00Z')
		await db.execute(q`update broadcast_recipients set state = 'read', delivered_at = '2026-05-04T14:50:00Z', read_at = '2026-05-04T21:10:00Z'
			where id = any(${`{${ids.slice(0, 2).join(',')}}`}::bigint[])`)
		const hours = async (timezone: string) => {
			const timeline = await getTimeline(db, broadcast.broadcastId, timezone)
			expect(timeline.bucket).toBe('hour')
			const local = new Intl.DateTimeFormat('en-GB', {
				timeZone: timezone,
				hour: '2-digit',
				minute: '2-digit',
			})
			return timeline.points.map((p) => [local.format(new Date(p.at)), p.sent, p.delivered, p.read])
		}
		// Lima is five whole hours behind UTC: 09:20 and 09:40 are both in its 09:00 hour.
		expect(await hours('America/Lima')).toEqual([
			['09:00', 5, 2, 0],
			['16:00', 0, 0, 2],
		])
		expect(await hours('UTC')).toEqual([
			['14:00', 5, 2, 0],
			['21:00', 0, 0, 2],
		])
		// Kolkata is UTC+5:30: 19:50 and 20:10 are different hours there, and 20:20 shares the second.
		expect(await hours('Asia/Kolkata')).toEqual([
			['19:00', 3, 0, 0],
			['20:00', 2, 2, 0],
			['02:00', 0, 0, 2],
		])
		// Kathmandu is UTC+5:45.
		expect(await hours('Asia/Kathmandu')).toEqual([
			['20:00', 5, 2, 0],
			['02:00', 0, 0, 2],
		])
	})
})
