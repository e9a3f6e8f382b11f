import { type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { FunnelBars, FunnelStats, TimelineChart } from '#app/components/reports'
import { getBroadcastReportPage } from '#app/lib/reports/broadcast-report.server'
import { RECIPIENT_FILTERS } from '#app/lib/reports/filters'
import reportStyles from '#app/styles/reports.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime, formatNumber } from '#app/utils/format'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: reportStyles }]

export const meta: MetaFunction<typeof loader> = ({ data }) => [
	{ title: `${data?.broadcast.name ?? 'Report'} · Reports · Pregón` },
]

export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const query = Object.fromEntries(new URL(request.url).searchParams)
	const page = await getBroadcastReportPage(params.broadcastId ?? '', query, user)
	if (!page) throw new Response('Not found', { status: 404 })
	return { ...page, timezone: user.timezone, masked: user.role === 'analyst' }
}

const FILTER_LABELS: Record<(typeof RECIPIENT_FILTERS)[number], string> = {
	all: 'All',
	pending: 'Pending',
	unknown: 'Unknown',
	sent: 'Sent (no delivery yet)',
	delivered: 'Delivered (not read)',
	read: 'Read',
	replied: 'Replied',
	failed: 'Failed',
	skipped: 'Skipped',
}

const STATE_BADGE: Record<string, string> = {
	read: 'badge-green',
	delivered: 'badge-green',
	sent: 'badge-blue',
	failed: 'badge-red',
	skipped: 'badge-gray',
	unknown: 'badge-yellow',
	retry_wait: 'badge-yellow',
	queued: 'badge-gray',
	sending: 'badge-blue',
}

export default function BroadcastReportRoute() {
	const { broadcast, funnel, timeline, failures, recipients, timezone, masked } = useLoaderData<typeof loader>()
	const { query } = recipients
	const params = (overrides: Record<string, string | number>) => {
		const search = new URLSearchParams()
		const merged = { state: query.state, q: query.q, page: query.page, ...overrides }
		if (merged.state !== 'all') search.set('state', String(merged.state))
		if (merged.q) search.set('q', String(merged.q))
		if (Number(merged.page) > 1) search.set('page', String(merged.page))
		const text = search.toString()
		return text ? `?${text}` : ''
	}
	const firstRow = (query.page - 1) * recipients.pageSize + 1
	return (
		<div className="page stack">
			<div className="page-header">
				<div>
					<p className="muted">
						<Link to="/reports">Reports</Link> · Broadcast report
					</p>
					<h1>{broadcast.name}</h1>
					<p className="muted">
						{broadcast.templateName ? `${broadcast.templateName} (${broadcast.templateLanguage})` : 'No template'}
						{broadcast.senderNumber ? ` · from ${broadcast.senderNumber}` : ''} · status {broadcast.status}
						{broadcast.launchedAt ? ` · launched ${formatDateTime(broadcast.launchedAt, timezone)}` : ''}
						{broadcast.completedAt ? ` · completed ${formatDateTime(broadcast.completedAt, timezone)}` : ''}
					</p>
				</div>
				<div className="row">
					<Link className="btn" to={`/reports/compare?a=${broadcast.id}`}>
						Compare
					</Link>
					<Link className="btn" to={`/broadcasts/${broadcast.id}`}>
						Broadcast
					</Link>
				</div>
			</div>

			<section className="stack" aria-labelledby="funnel-title">
				<h2 id="funnel-title">Funnel</h2>
				<FunnelStats funnel={funnel} />
				<div className="card">
					<FunnelBars funnel={funnel} />
				</div>
			</section>

			<section className="card stack" aria-labelledby="chart-title">
				<h2 id="chart-title">Over time</h2>
				<TimelineChart timeline={timeline} timezone={timezone} />
			</section>

			<section className="stack" aria-labelledby="failures-title">
				<h2 id="failures-title">Why messages failed</h2>
				{failures.length === 0 ? (
					<p className="muted">No failures.</p>
				) : (
					<div className="table-wrap">
						<table className="table" data-testid="failures-table">
							<thead>
								<tr>
									<th>Code</th>
									<th className="numeric">Recipients</th>
									<th>What happened</th>
									<th>What to do</th>
								</tr>
							</thead>
							<tbody>
								{failures.map((f) => (
									<tr key={f.code ?? 'none'}>
										<td>{f.code ?? '—'}</td>
										<td className="numeric">{formatNumber(f.count)}</td>
										<td>
											<strong>{f.title}</strong>
											<br />
											{f.explanation}
										</td>
										<td>{f.action}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</section>

			<section className="stack" aria-labelledby="recipients-title">
				<h2 id="recipients-title">Recipients</h2>
				<Form method="get" className="toolbar" role="search">
					<div className="field">
						<label htmlFor="state">State</label>
						<select id="state" name="state" defaultValue={query.state}>
							{RECIPIENT_FILTERS.map((f) => (
								<option key={f} value={f}>
									{FILTER_LABELS[f]}
								</option>
							))}
						</select>
					</div>
					<div className="field">
						<label htmlFor="q">Search</label>
						<input id="q" name="q" type="search" defaultValue={query.q} placeholder="Name or phone digits" />
					</div>
					<button type="submit" className="btn">
						Apply
					</button>
					<a className="btn btn-ghost" href={`/reports/broadcasts/${broadcast.id}/export${params({ page: 1 })}`} download>
						Export CSV
					</a>
				</Form>
				<p className="muted" data-testid="recipients-count">
					{formatNumber(recipients.total)}
					{recipients.capped ? '+' : ''} {recipients.total === 1 ? 'recipient' : 'recipients'}
					{masked ? ' · phone numbers are masked for your role' : ''}
				</p>
				{recipients.rows.length === 0 ? (
					<div className="card empty-state">
						<p>No recipients match.</p>
					</div>
				) : (
					<div className="table-wrap">
						<table className="table" data-testid="recipients-table">
							<thead>
								<tr>
									<th>Phone</th>
									<th>Name</th>
									<th>State</th>
									<th>Sent</th>
									<th>Delivered</th>
									<th>Read</th>
									<th>Replied</th>
									<th>Error</th>
								</tr>
							</thead>
							<tbody>
								{recipients.rows.map((r) => (
									<tr key={r.id}>
										<td>{r.phone}</td>
										<td>{r.name ?? '—'}</td>
										<td>
											<span className={`badge ${STATE_BADGE[r.state] ?? 'badge-gray'}`}>{r.state}</span>
										</td>
										<td>{formatDateTime(r.sentAt, timezone)}</td>
										<td>{formatDateTime(r.deliveredAt, timezone)}</td>
										<td>{formatDateTime(r.readAt, timezone)}</td>
										<td>{formatDateTime(r.repliedAt, timezone)}</td>
										<td>
											{r.errorCode !== null ? `${r.errorCode} ${r.errorTitle ?? ''}` : (r.skipReason ?? '')}
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
				<nav className="pager" aria-label="Pages">
					<span className="muted">
						{recipients.rows.length > 0
							? `Showing ${formatNumber(firstRow)}–${formatNumber(firstRow + recipients.rows.length - 1)}`
							: ''}
					</span>
					<span className="row">
						{query.page > 1 ? (
							<Link className="btn" to={params({ page: query.page - 1 })}>
								Previous
							</Link>
						) : null}
						{recipients.hasNext ? (
							<Link className="btn" to={params({ page: query.page + 1 })}>
								Next
							</Link>
						) : null}
					</span>
				</nav>
			</section>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
