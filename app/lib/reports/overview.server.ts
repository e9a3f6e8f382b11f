import { sql } from 'drizzle-orm'
import { z } from 'zod'
import { db, type Executor } from '#db/client'

/**
 * The reports overview: what happened in a date range (days in the user's timezone), counted by
 * the time each event happened, from the per-minute timeline counters (no ledger scan).
 */

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Use YYYY-MM-DD')

export const OverviewQuerySchema = z
	.object({ from: day.optional(), to: day.optional() })
	.refine((v) => !v.from || !v.to || v.from <= v.to, { message: 'The start must be before the end', path: ['to'] })

export type Totals = { sent: number; delivered: number; read: number; replied: number; failed: number; optOuts: number }

export type Rates = { deliveryRate: number | null; readRate: number | null; replyRate: number | null }

export type OverviewRow = Totals & Rates & { id: string; name: string }

export type Overview = {
	range: { from: string; to: string; timezone: string; start: string; end: string }
	previous: { from: string; to: string }
	totals: Totals & Rates
	previousTotals: Totals & Rates
	/** Relative change of each total against the previous period of the same length (null: nothing before). */
	trend: Record<keyof Totals | 'deliveryRate' | 'readRate', number | null>
	optOutsBySource: Record<string, number>
	byBroadcast: OverviewRow[]
	byTemplate: OverviewRow[]
	/** Highest read rate among templates with at least `MIN_DELIVERED_FOR_BEST` deliveries. */
	bestTemplate: OverviewRow | null
}

export const MIN_DELIVERED_FOR_BEST = 20

function rates(t: Omit<Totals, 'optOuts'>): Rates {
	return {
		deliveryRate: t.sent > 0 ? t.delivered / t.sent : null,
		readRate: t.delivered > 0 ? t.read / t.delivered : null,
		replyRate: t.delivered > 0 ? t.replied / t.delivered : null,
	}
}

function change(now: number | null, before: number | null) {
	if (now === null || before === null || before === 0) return null
	return (now - before) / before
}

function localDay(date: Date, timezone: string) {
	return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date)
}

function addDays(isoDay: string, days: number) {
	const d = new Date(`${isoDay}T00:00:00Z`)
	d.setUTCDate(d.getUTCDate() + days)
	return d.toISOString().slice(0, 10)
}

type PeriodRow = { broadcast_id: string; sent: string; delivered: string; read: string; replied: string; failed: string }

async function period(executor: Executor, start: string, end: string) {
	const [rows, optOuts] = await Promise.all([
		executor.execute<PeriodRow>(sql`
			select broadcast_id, sum(sent) as sent, sum(delivered) as delivered, sum(read) as read,
				sum(replied) as replied, sum(failed) as failed
			from broadcast_timeline_deltas
			where minute >= ${start}::timestamptz and minute < ${end}::timestamptz
			group by broadcast_id
		`),
		executor.execute<{ source: string | null; n: string }>(sql`
			select opt_out_source as source, count(*) as n from contacts
			where opted_out_at >= ${start}::timestamptz and opted_out_at < ${end}::timestamptz
			group by 1
		`),
	])
	const perBroadcast = rows.map((r) => ({
		id: r.broadcast_id,
		sent: Number(r.sent),
		delivered: Number(r.delivered),
		read: Number(r.read),
		replied: Number(r.replied),
		failed: Number(r.failed),
	}))
	const bySource = Object.fromEntries(optOuts.map((r) => [r.source ?? 'unknown', Number(r.n)]))
	const sum = (key: 'sent' | 'delivered' | 'read' | 'replied' | 'failed') => perBroadcast.reduce((a, r) => a + r[key], 0)
	const base = { sent: sum('sent'), delivered: sum('delivered'), read: sum('read'), replied: sum('replied'), failed: sum('failed') }
	const optOutTotal = Object.values(bySource).reduce((a, b) => a + b, 0)
	return { perBroadcast, bySource, totals: { ...base, optOuts: optOutTotal, ...rates(base) } }
}

/**
 * The overview for `from`..`to` (inclusive days in `timezone`; default: the last 30 days up to
 * today), with the previous period of the same length for the trend.
 */
export async function getOverview(
	input: z.input<typeof OverviewQuerySchema>,
	timezone: string,
	executor: Executor = db,
	now = new Date(),
): Promise<Overview> {
	const query = OverviewQuerySchema.parse(input)
	const to = query.to ?? localDay(now, timezone)
	const from = query.from ?? addDays(to, -29)
	const days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1
	const previousTo = addDays(from, -1)
	const previousFrom = addDays(from, -days)
	const [bounds] = await executor.execute<{ start: string; end: string; prev_start: string }>(sql`
		select (${from}::date::timestamp at time zone ${timezone}) as start,
			((${to}::date + 1)::timestamp at time zone ${timezone}) as end,
			(${previousFrom}::date::timestamp at time zone ${timezone}) as prev_start
	`)
	const start = new Date(bounds.start).toISOString()
	const end = new Date(bounds.end).toISOString()
	const [current, previous] = await Promise.all([
		period(executor, start, end),
		period(executor, new Date(bounds.prev_start).toISOString(), start),
	])

	const ids = current.perBroadcast.map((r) => r.id)
	const names = await executor.execute<{ id: string; name: string; template_key: string | null; template_name: string | null }>(sql`
		select b.id, b.name, t.name || ' · ' || t.language as template_key, t.name as template_name
		from broadcasts b left join templates t on t.id = b.template_id
		where b.id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid)
	`)
	const info = new Map(names.map((n) => [n.id, n]))
	const row = (id: string, name: string, t: Omit<Totals, 'optOuts'>): OverviewRow => ({ id, name, ...t, optOuts: 0, ...rates(t) })
	const byBroadcast = current.perBroadcast
		.map((r) => row(r.id, info.get(r.id)?.name ?? 'Deleted broadcast', r))
		.sort((a, b) => b.sent - a.sent || a.name.localeCompare(b.name))
	const templates = new Map<string, Omit<Totals, 'optOuts'>>()
	for (const r of current.perBroadcast) {
		const key = info.get(r.id)?.template_key ?? 'No template'
		const t = templates.get(key) ?? { sent: 0, delivered: 0, read: 0, replied: 0, failed: 0 }
		t.sent += r.sent
		t.delivered += r.delivered
		t.read += r.read
		t.replied += r.replied
		t.failed += r.failed
		templates.set(key, t)
	}
	const byTemplate = [...templates].map(([key, t]) => row(key, key, t)).sort((a, b) => b.sent - a.sent || a.name.localeCompare(b.name))
	const bestTemplate =
		byTemplate
			.filter((t) => t.delivered >= MIN_DELIVERED_FOR_BEST && t.readRate !== null)
			.sort((a, b) => (b.readRate ?? 0) - (a.readRate ?? 0) || b.delivered - a.delivered)[0] ?? null

	const c = current.totals
	const p = previous.totals
	return {
		range: { from, to, timezone, start, end },
		previous: { from: previousFrom, to: previousTo },
		totals: c,
		previousTotals: p,
		trend: {
			sent: change(c.sent, p.sent),
			delivered: change(c.delivered, p.delivered),
			read: change(c.read, p.read),
			replied: change(c.replied, p.replied),
			failed: change(c.failed, p.failed),
			optOuts: change(c.optOuts, p.optOuts),
			deliveryRate: change(c.deliveryRate, p.deliveryRate),
			readRate: change(c.readRate, p.readRate),
		},
		optOutsBySource: current.bySource,
		byBroadcast,
		byTemplate,
		bestTemplate,
	}
}

export type OverviewPage =
	| { ok: true; overview: Overview; input: { from?: string; to?: string } }
	| { ok: false; error: { field: string; message: string }; input: { from?: string; to?: string } }

/** The overview page for raw query parameters: the overview, or the range error to show. */
export async function getOverviewPage(params: Record<string, string>, timezone: string): Promise<OverviewPage> {
	const input = {
		from: params.from?.trim() || undefined,
		to: params.to?.trim() || undefined,
	}
	const parsed = OverviewQuerySchema.safeParse(input)
	if (!parsed.success) {
		const issue = parsed.error.issues[0]
		return { ok: false, error: { field: String(issue?.path[0] ?? 'from'), message: issue?.message ?? 'Invalid range' }, input }
	}
	return { ok: true, overview: await getOverview(parsed.data, timezone), input }
}
