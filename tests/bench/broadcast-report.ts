/**
 * Broadcast report benchmark: the report of a broadcast with 1,000,000 recipients (100,000 with
 * --quick), generated with generate_series, plus the counter and timeline deltas a long run
 * leaves behind. Measures the server time of the report (funnel, chart, failures), the first
 * page of the failed-recipient table and the 30-day overview. The baseline is the naive report:
 * counting the ledger by state.
 *
 * Usage: DATABASE_URL=<fresh migrated db> npx tsx tests/bench/broadcast-report.ts [--quick]
 */
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import type { BenchFigure } from './types'


function progress(message: string) {
	process.stderr.write(`[broadcast-report] ${message}\n`)
}

async function seed(sql: postgres.Sql, recipients: number) {
	const [sender] = await sql<Array<{ id: string }>>`
		insert into senders (phone_number_id, waba_id, display_number, name)
		values ('100000000000777', '200000000000777', '+1 555 010 0777', 'Report bench')
		returning id
	`
	const [broadcast] = await sql<Array<{ id: string }>>`
		insert into broadcasts (name, sender_id, status, launched_at, completed_at)
		values ('Report bench', ${sender.id}, 'completed', now() - interval '3 hours', now())
		returning id
	`
	const id = broadcast.id
	await sql`
		insert into contacts (phone_e164, wa_id, name)
		select '+5198' || lpad(i::text, 7, '0'), '5198' || lpad(i::text, 7, '0'), 'Cliente ' || i
		from generate_series(1, ${recipients}) as i
	`
	// States in realistic shares; timestamps spread over three hours of sending.
	await sql`
		insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, state, wamid, sent_at, delivered_at, read_at,
			replied_at, failed_at, error_code, error_title, skip_reason, attempts)
		select ${id}::uuid, c.id, c.phone_e164, s.state::recipient_state,
			case when s.state <> 'skipped' then 'wamid.rb.' || c.id end,
			case when s.state <> 'skipped' then t.sent end,
			case when s.state in ('delivered', 'read') then t.sent + interval '4 seconds' end,
			case when s.state = 'read' then t.sent + interval '9 minutes' end,
			case when s.state = 'read' and c.id % 17 = 0 then t.sent + interval '20 minutes' end,
			case when s.state = 'failed' then t.sent + interval '3 seconds' end,
			case when s.state = 'failed' then (array[131049, 131026, 131050, 131047])[1 + c.id % 4] end,
			case when s.state = 'failed' then 'Failed' end,
			case when s.state = 'skipped' then 'opted_out' end,
			1
		from contacts c
		cross join lateral (select now() - interval '3 hours' + (c.id % 10800) * interval '1 second' as sent) t
		cross join lateral (select case
			when c.id % 100 < 2 then 'skipped'
			when c.id % 100 < 7 then 'failed'
			when c.id % 100 < 12 then 'sent'
			when c.id % 100 < 45 then 'delivered'
			else 'read' end as state) s
		where c.phone_e164 like '+5198%'
	`
	// A broadcast sent in thousands of statements leaves delta rows behind; the compaction crons
	// (every minute) keep them under 500 state rows and 1,000 extra timeline rows. Add that
	// worst case, as zero-sum pairs.
	await sql`
		insert into broadcast_counter_deltas (broadcast_id, state, delta)
		select ${id}::uuid, (array['queued', 'sending', 'sent', 'delivered', 'read']::recipient_state[])[1 + (i / 2) % 5],
			case when i % 2 = 0 then 1 else -1 end
		from generate_series(0, 499) as i
	`
	await sql`
		insert into broadcast_timeline_deltas (broadcast_id, minute, sent, delivered, read)
		select ${id}::uuid, date_trunc('minute', now() - interval '3 hours' + (i / 2 % 180) * interval '1 minute'),
			case when i % 2 = 0 then 1 else -1 end, case when i % 2 = 0 then 1 else -1 end, 0
		from generate_series(0, 999) as i
	`
	await sql`vacuum analyze broadcast_recipients`
	await sql`vacuum analyze broadcast_counter_deltas`
	await sql`vacuum analyze broadcast_timeline_deltas`
	await sql`vacuum analyze contacts`
	return id
}

async function time<T>(runs: number, fn: () => Promise<T>) {
	const samples: number[] = []
	let last: T | undefined
	for (let i = 0; i < runs; i++) {
		const started = performance.now()
		last = await fn()
		samples.push(performance.now() - started)
	}
	samples.sort((a, b) => a - b)
	return {
		p50: samples[Math.floor(samples.length / 2)],
		p95: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.95))],
		last: last as T,
	}
}

export async function benchBroadcastReport({ quick }: { quick: boolean }): Promise<BenchFigure[]> {
	const databaseUrl = process.env.DATABASE_URL
	if (!databaseUrl) throw new Error('DATABASE_URL must point at a fresh migrated database')
	const recipients = quick ? 100_000 : 1_000_000
	const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} })
	try {
		progress(`generating ${recipients} recipients`)
		const broadcastId = await seed(sql, recipients)
		// Imported only now: #db/client connects to DATABASE_URL when first imported.
		const { getBroadcastReport, listReportRecipients } = await import('#app/lib/reports/broadcast-report.server')
		const { getOverview } = await import('#app/lib/reports/overview.server')
		progress('measuring')
		await getBroadcastReport(broadcastId)
		const report = await time(20, () => getBroadcastReport(broadcastId, { timezone: 'America/Lima' }))
		const failedPage = await time(20, () => listReportRecipients(broadcastId, { state: 'failed' }, { mask: true }))
		const overview = await time(10, () => getOverview({}, 'America/Lima'))
		const naive = await time(3, () => sql`
			select state, count(*) from broadcast_recipients where broadcast_id = ${broadcastId} group by state
		`)
		const funnel = report.last?.funnel
		const correct = funnel?.recipients === recipients && funnel.failed === recipients * 0.05 && funnel.skipped === recipients * 0.02
		const label = recipients === 1_000_000 ? '1M' : `${recipients / 1000}k`
		return [
			{
				name: `broadcast report at ${label} recipients (funnel, chart, failures), p95`,
				value: Number(report.p95.toFixed(1)),
				unit: 'ms',
				target: '< 200',
				baseline: Number(naive.p50.toFixed(1)),
				ratio: Number((report.p95 / naive.p50).toFixed(3)),
				ok: correct && report.p95 < 200,
			},
			{
				name: `broadcast report at ${label}: first page of failed recipients, p95`,
				value: Number(failedPage.p95.toFixed(1)),
				unit: 'ms',
				target: '< 200',
				baseline: null,
				ratio: null,
				ok: failedPage.last.rows.length === 50 && failedPage.p95 < 200,
			},
			{
				name: `reports overview (30 days) with a ${label} broadcast, p95`,
				value: Number(overview.p95.toFixed(1)),
				unit: 'ms',
				target: '< 200',
				baseline: null,
				ratio: null,
				ok: overview.last.totals.sent > 0 && overview.p95 < 200,
			},
		]
	} finally {
		await sql.end({ timeout: 5 })
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const results = await benchBroadcastReport({ quick: process.argv.includes('--quick') })
	console.table(results)
	const { closeDatabase } = await import('#db/client')
	await closeDatabase()
	process.exit(results.every((r) => r.ok) ? 0 : 1)
}
