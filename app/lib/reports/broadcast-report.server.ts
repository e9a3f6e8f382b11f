import { sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { z } from 'zod'
import { maskPhone } from '#app/lib/contacts/mask'
import { csvLine } from '#app/lib/csv/neutralise'
import { describeError } from '#app/lib/kapso/errors'
import { db, sql as pg, type Executor } from '#db/client'
import type { RecipientState } from '#db/schema/index'
import { RecipientQuerySchema, type RecipientFilter, type RecipientQuery } from './filters'

/**
 * The broadcast report. Every number on it comes from counters kept by triggers on the ledger
 * (`broadcast_counter_deltas` per state, `broadcast_timeline_deltas` per minute), so it costs
 * the same at ten recipients and at a million, and it moves as webhooks stream in. Only the
 * failure breakdown and the recipient table read the ledger, through partial indexes.
 */

export type Funnel = {
	recipients: number
	/** Not sent yet: queued, being sent, or waiting for a retry. */
	pending: number
	/** The outcome of a send is not known yet (reconciliation will tell). */
	unknown: number
	sent: number
	delivered: number
	read: number
	replied: number
	failed: number
	skipped: number
	byState: Partial<Record<RecipientState, number>>
	rates: {
		/** delivered / sent */
		delivery: number | null
		/** read / delivered */
		read: number | null
		/** replied / delivered */
		reply: number | null
		/** failed / (recipients − skipped) */
		failure: number | null
	}
}

function ratio(part: number, whole: number) {
	return whole > 0 ? part / whole : null
}

/** Per-state counts and per-timestamp totals of a set of broadcasts, from the counter tables. */
async function funnels(executor: Executor, broadcastIds: string[]): Promise<Map<string, Funnel>> {
	const ids = JSON.stringify(broadcastIds)
	const [states, totals] = await Promise.all([
		executor.execute<{ broadcast_id: string; state: RecipientState; n: string }>(sql`
			select broadcast_id, state, sum(delta) as n from broadcast_counter_deltas
			where broadcast_id in (select jsonb_array_elements_text(${ids}::jsonb)::uuid)
			group by 1, 2
		`),
		executor.execute<{ broadcast_id: string; sent: string; delivered: string; read: string; replied: string }>(sql`
			select broadcast_id, sum(sent) as sent, sum(delivered) as delivered, sum(read) as read, sum(replied) as replied
			from broadcast_timeline_deltas
			where broadcast_id in (select jsonb_array_elements_text(${ids}::jsonb)::uuid)
			group by 1
		`),
	])
	const result = new Map<string, Funnel>()
	for (const id of broadcastIds) {
		const byState: Partial<Record<RecipientState, number>> = {}
		for (const row of states) if (row.broadcast_id === id && Number(row.n) !== 0) byState[row.state] = Number(row.n)
		const t = totals.find((row) => row.broadcast_id === id)
		const n = (state: RecipientState) => byState[state] ?? 0
		const recipients = Object.values(byState).reduce((a, b) => a + (b ?? 0), 0)
		const sent = Number(t?.sent ?? 0)
		const delivered = Number(t?.delivered ?? 0)
		const read = Number(t?.read ?? 0)
		const replied = Number(t?.replied ?? 0)
		const failed = n('failed')
		const skipped = n('skipped')
		result.set(id, {
			recipients,
			pending: n('queued') + n('sending') + n('retry_wait'),
			unknown: n('unknown'),
			sent,
			delivered,
			read,
			replied,
			failed,
			skipped,
			byState,
			rates: {
				delivery: ratio(delivered, sent),
				read: ratio(read, delivered),
				reply: ratio(replied, delivered),
				failure: ratio(failed, recipients - skipped),
			},
		})
	}
	return result
}

export type ReportBroadcast = {
	id: string
	name: string
	status: string
	statusReason: string | null
	templateName: string | null
	templateLanguage: string | null
	senderName: string | null
	senderNumber: string | null
	launchedAt: string | null
	completedAt: string | null
	createdAt: string
}

async function broadcastInfo(executor: Executor, id: string): Promise<ReportBroadcast | null> {
	if (!z.uuid().safeParse(id).success) return null
	const [row] = await executor.execute<{
		id: string
		name: string
		status: string
		status_reason: string | null
		template_name: string | null
		template_language: string | null
		sender_name: string | null
		sender_number: string | null
		launched_at: string | null
		completed_at: string | null
		created_at: string
	}>(sql`
		select b.id, b.name, b.status, b.status_reason, t.name as template_name, t.language as template_language,
			s.name as sender_name, s.display_number as sender_number, b.launched_at, b.completed_at, b.created_at
		from broadcasts b
		left join templates t on t.id = b.template_id
		left join senders s on s.id = b.sender_id
		where b.id = ${id}::uuid
	`)
	if (!row) return null
	return {
		id: row.id,
		name: row.name,
		status: row.status,
		statusReason: row.status_reason,
		templateName: row.template_name,
		templateLanguage: row.template_language,
		senderName: row.sender_name,
		senderNumber: row.sender_number,
		launchedAt: row.launched_at && new Date(row.launched_at).toISOString(),
		completedAt: row.completed_at && new Date(row.completed_at).toISOString(),
		createdAt: new Date(row.created_at).toISOString(),
	}
}

export type TimelinePoint = { at: string; sent: number; delivered: number; read: number }
export type Timeline = { bucket: 'minute' | 'hour'; points: TimelinePoint[] }

/** Sent / delivered / read per minute, or per hour (in `timezone`) when the broadcast spans more than six hours. */
export async function getTimeline(executor: Executor, broadcastId: string, timezone = 'UTC'): Promise<Timeline> {
	const rows = await executor.execute<{ minute: string; sent: string; delivered: string; read: string }>(sql`
		select minute, sum(sent) as sent, sum(delivered) as delivered, sum(read) as read
		from broadcast_timeline_deltas where broadcast_id = ${broadcastId}::uuid
		group by minute
		having sum(sent) <> 0 or sum(delivered) <> 0 or sum(read) <> 0
		order by minute
	`)
	const points = rows.map((r) => ({
		at: new Date(r.minute).toISOString(),
		sent: Number(r.sent),
		delivered: Number(r.delivered),
		read: Number(r.read),
	}))
	if (points.length < 2) return { bucket: 'minute', points }
	const span = new Date(points[points.length - 1].at).getTime() - new Date(points[0].at).getTime()
	if (span <= 6 * 3600_000) return { bucket: 'minute', points }
	const hours = new Map<string, TimelinePoint>()
	for (const point of points) {
		const key = hourStart(new Date(point.at), timezone).toISOString()
		const bucket = hours.get(key) ?? { at: key, sent: 0, delivered: 0, read: 0 }
		bucket.sent += point.sent
		bucket.delivered += point.delivered
		bucket.read += point.read
		hours.set(key, bucket)
	}
	return { bucket: 'hour', points: [...hours.values()] }
}

/** The start of the hour containing `date` in `timezone` (zones with :30 or :45 offsets included). */
function hourStart(date: Date, timezone: string) {
	const minute = Number(
		new Intl.DateTimeFormat('en-GB', { timeZone: timezone, minute: '2-digit' }).format(date),
	)
	return new Date(date.getTime() - minute * 60_000 - date.getUTCSeconds() * 1000 - date.getUTCMilliseconds())
}

export type FailureGroup = {
	code: number | null
	count: number
	title: string
	explanation: string
	action: string
}

/** Failed recipients grouped by Meta code, most frequent first, with what it means and what to do. */
export async function getFailureGroups(executor: Executor, broadcastId: string): Promise<FailureGroup[]> {
	const rows = await executor.execute<{ code: number | null; n: string }>(sql`
		select error_code as code, count(*) as n from broadcast_recipients
		where broadcast_id = ${broadcastId}::uuid and state = 'failed'
		group by error_code
		order by count(*) desc, error_code
	`)
	return rows.map((row) => {
		const rule = describeError(row.code)
		return { code: row.code, count: Number(row.n), title: rule.title, explanation: rule.explanation, action: rule.action }
	})
}

export type BroadcastReport = {
	broadcast: ReportBroadcast
	funnel: Funnel
	timeline: Timeline
	failures: FailureGroup[]
}

/** Everything the report page shows above the recipient table; null for an unknown broadcast. */
export async function getBroadcastReport(
	broadcastId: string,
	options: { timezone?: string } = {},
	executor: Executor = db,
): Promise<BroadcastReport | null> {
	const broadcast = await broadcastInfo(executor, broadcastId)
	if (!broadcast) return null
	const [funnel, timeline, failures] = await Promise.all([
		funnels(executor, [broadcastId]).then((map) => map.get(broadcastId)!),
		getTimeline(executor, broadcastId, options.timezone),
		getFailureGroups(executor, broadcastId),
	])
	return { broadcast, funnel, timeline, failures }
}

export type Comparison = { a: { broadcast: ReportBroadcast; funnel: Funnel }; b: { broadcast: ReportBroadcast; funnel: Funnel } }

/** Two broadcasts side by side; null when either does not exist. */
export async function compareBroadcasts(a: string, b: string, executor: Executor = db): Promise<Comparison | null> {
	const [infoA, infoB] = await Promise.all([broadcastInfo(executor, a), broadcastInfo(executor, b)])
	if (!infoA || !infoB) return null
	const map = await funnels(executor, [a, b])
	return { a: { broadcast: infoA, funnel: map.get(a)! }, b: { broadcast: infoB, funnel: map.get(b)! } }
}

/** Broadcasts that were launched, newest first, for the compare pickers. */
export async function listReportableBroadcasts(executor: Executor = db, limit = 200) {
	const rows = await executor.execute<{ id: string; name: string; launched_at: string | null }>(sql`
		select id, name, launched_at from broadcasts
		where launched_at is not null
		order by launched_at desc
		limit ${limit}
	`)
	return rows.map((r) => ({ id: r.id, name: r.name, launchedAt: r.launched_at && new Date(r.launched_at).toISOString() }))
}

export const PAGE_SIZE = 50

function recipientConditions(broadcastId: string, query: z.output<typeof RecipientQuerySchema>): SQL {
	const parts: SQL[] = [sql`r.broadcast_id = ${broadcastId}::uuid`]
	switch (query.state) {
		case 'all':
			break
		case 'pending':
			parts.push(sql`r.state in ('queued', 'sending', 'retry_wait')`)
			break
		case 'replied':
			parts.push(sql`r.replied_at is not null`)
			break
		default:
			parts.push(sql`r.state = ${query.state}::recipient_state`)
	}
	if (query.q) {
		const digits = query.q.replace(/\D/g, '')
		// Mostly digits: a phone number (or part of one); otherwise a name.
		if (digits.length >= 3 && digits.length >= query.q.replace(/[\s+()-]/g, '').length) {
			parts.push(sql`r.phone_e164 like ${`%${digits}%`}`)
		} else {
			parts.push(sql`c.name ilike ${`%${query.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`}`)
		}
	}
	return sql.join(parts, sql` and `)
}

export type RecipientRow = {
	id: number
	phone: string
	name: string | null
	state: RecipientState
	skipReason: string | null
	errorCode: number | null
	errorTitle: string | null
	sentAt: string | null
	deliveredAt: string | null
	readAt: string | null
	repliedAt: string | null
	failedAt: string | null
}

type RawRecipient = {
	id: string
	phone_e164: string
	name: string | null
	state: RecipientState
	skip_reason: string | null
	error_code: number | null
	error_title: string | null
	sent_at: string | Date | null
	delivered_at: string | Date | null
	read_at: string | Date | null
	replied_at: string | Date | null
	failed_at: string | Date | null
}

const iso = (value: string | Date | null) => (value ? new Date(value).toISOString() : null)

function toRecipient(row: RawRecipient, mask: boolean): RecipientRow {
	return {
		id: Number(row.id),
		phone: mask ? maskPhone(row.phone_e164) : row.phone_e164,
		name: row.name,
		state: row.state,
		skipReason: row.skip_reason,
		errorCode: row.error_code,
		errorTitle: row.error_title,
		sentAt: iso(row.sent_at),
		deliveredAt: iso(row.delivered_at),
		readAt: iso(row.read_at),
		repliedAt: iso(row.replied_at),
		failedAt: iso(row.failed_at),
	}
}

const RECIPIENT_COLUMNS = sql.raw(`r.id, r.phone_e164, c.name, r.state, r.skip_reason, r.error_code, r.error_title,
	r.sent_at, r.delivered_at, r.read_at, r.replied_at, r.failed_at`)

/** Counts above this are shown as "more than"; counting every match of a search would scan the ledger. */
const COUNT_CAP = 10_000

/**
 * One page of the recipient table. Phone numbers are masked when `mask` (analysts). The total
 * comes from the counters when there is no search, else from a capped count.
 */
export async function listReportRecipients(
	broadcastId: string,
	input: RecipientQuery,
	options: { mask: boolean },
	executor: Executor = db,
) {
	const query = RecipientQuerySchema.parse(input)
	const where = recipientConditions(broadcastId, query)
	const rows = await executor.execute<RawRecipient>(sql`
		select ${RECIPIENT_COLUMNS}
		from broadcast_recipients r join contacts c on c.id = r.contact_id
		where ${where}
		order by r.id
		limit ${PAGE_SIZE + 1} offset ${(query.page - 1) * PAGE_SIZE}
	`)
	let total: number
	let capped = false
	if (!query.q) {
		const funnel = (await funnels(executor, [broadcastId])).get(broadcastId)!
		const byFilter: Record<RecipientFilter, number> = {
			all: funnel.recipients,
			pending: funnel.pending,
			unknown: funnel.unknown,
			sent: funnel.byState.sent ?? 0,
			delivered: funnel.byState.delivered ?? 0,
			read: funnel.byState.read ?? 0,
			replied: funnel.replied,
			failed: funnel.failed,
			skipped: funnel.skipped,
		}
		total = byFilter[query.state]
	} else {
		const [count] = await executor.execute<{ n: string }>(sql`
			select count(*) as n from (
				select 1 from broadcast_recipients r join contacts c on c.id = r.contact_id
				where ${where} limit ${COUNT_CAP + 1}
			) as matches
		`)
		total = Math.min(Number(count.n), COUNT_CAP)
		capped = Number(count.n) > COUNT_CAP
	}
	return {
		query,
		rows: rows.slice(0, PAGE_SIZE).map((row) => toRecipient(row, options.mask)),
		hasNext: rows.length > PAGE_SIZE,
		total,
		capped,
		pageSize: PAGE_SIZE,
	}
}

const CSV_HEADER = [
	'phone',
	'name',
	'state',
	'skip_reason',
	'error_code',
	'error_title',
	'sent_at',
	'delivered_at',
	'read_at',
	'replied_at',
	'failed_at',
]

/**
 * The recipient table (same filter and search) as CSV, streamed from a cursor so that a million
 * rows never sit in memory. Cells are neutralised against formula injection; phone numbers are
 * masked when `mask`.
 */
export function streamRecipientsCsv(broadcastId: string, input: RecipientQuery, options: { mask: boolean }) {
	const query = RecipientQuerySchema.parse(input)
	const encoder = new TextEncoder()
	// Compiled by drizzle (the same conditions as the table) and run through postgres.js, which streams.
	const compiled = new PgDialect().sqlToQuery(sql`
		select ${RECIPIENT_COLUMNS}
		from broadcast_recipients r join contacts c on c.id = r.contact_id
		where ${recipientConditions(broadcastId, query)}
		order by r.id
	`)
	const cursor = pg.unsafe<RawRecipient[]>(compiled.sql, compiled.params as never[]).cursor(2000)
	const iterator = cursor[Symbol.asyncIterator]()
	let headerSent = false
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			if (!headerSent) {
				headerSent = true
				controller.enqueue(encoder.encode(csvLine(CSV_HEADER)))
				return
			}
			const next = await iterator.next()
			if (next.done) {
				controller.close()
				return
			}
			let chunk = ''
			for (const raw of next.value) {
				const r = toRecipient(raw, options.mask)
				chunk += csvLine([
					r.phone,
					r.name,
					r.state,
					r.skipReason,
					r.errorCode,
					r.errorTitle,
					r.sentAt,
					r.deliveredAt,
					r.readAt,
					r.repliedAt,
					r.failedAt,
				])
			}
			controller.enqueue(encoder.encode(chunk))
		},
		async cancel() {
			await iterator.return?.()
		},
	})
}

export type ReportViewer = { role: string; timezone: string }

/** The report page: the report and one page of its recipient table, masked for analysts. */
export async function getBroadcastReportPage(broadcastId: string, input: RecipientQuery, viewer: ReportViewer) {
	const report = await getBroadcastReport(broadcastId, { timezone: viewer.timezone })
	if (!report) return null
	const recipients = await listReportRecipients(broadcastId, input, { mask: viewer.role === 'analyst' })
	return { ...report, recipients }
}

/** The CSV export of a broadcast's recipient table; null for an unknown broadcast. */
export async function exportRecipientsCsv(broadcastId: string, input: RecipientQuery, viewer: ReportViewer) {
	const broadcast = await broadcastInfo(db, broadcastId)
	if (!broadcast) return null
	const query = RecipientQuerySchema.parse(input)
	const slug = broadcast.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'broadcast'
	return {
		filename: `${slug}-${query.state}-recipients.csv`,
		stream: streamRecipientsCsv(broadcastId, query, { mask: viewer.role === 'analyst' }),
	}
}

/** The compare page: the broadcasts to pick from and, when both are chosen, their funnels. */
export async function getComparePage(a: string | undefined, b: string | undefined) {
	const [broadcasts, comparison] = await Promise.all([
		listReportableBroadcasts(),
		a && b ? compareBroadcasts(a, b) : Promise.resolve(null),
	])
	return { broadcasts, comparison }
}
