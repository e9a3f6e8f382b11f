import { sql as q } from 'drizzle-orm'
import { beforeAll, describe, expect, test } from 'vitest'
import { seedBroadcast } from '#app/lib/webhooks/test-fixtures'
import { db } from '#db/client'
import {
	compareBroadcasts,
	exportRecipientsCsv,
	getBroadcastReport,
	listReportRecipients,
} from './broadcast-report.server'
import { compactTimelineDeltas } from './compact.server'
import { getOverview } from './overview.server'

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
