import { data, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { percent } from '#app/components/reports'
import { getOverviewPage, type OverviewRow } from '#app/lib/reports/overview.server'
import reportStyles from '#app/styles/reports.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatNumber } from '#app/utils/format'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: reportStyles }]

export const meta: MetaFunction = () => [{ title: 'Reports · Pregón' }]

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const result = await getOverviewPage(Object.fromEntries(new URL(request.url).searchParams), user.timezone)
	if (!result.ok) return data({ overview: null, error: result.error, input: result.input }, { status: 400 })
	return { overview: result.overview, error: null, input: result.input }
}

function Trend({ value }: { value: number | null }) {
	if (value === null) return <span className="muted">no earlier data</span>
	const up = value >= 0
	return (
		<span className={up ? 'trend-up' : 'trend-down'}>
			{up ? '▲' : '▼'} {Math.abs(value * 100).toFixed(1)}% vs previous period
		</span>
	)
}

export default function ReportsRoute() {
	const { overview, error, input } = useLoaderData<typeof loader>()
	return (
		<div className="page stack">
			<div className="page-header">
				<h1>Reports</h1>
				<Link className="btn" to="/reports/compare">
					Compare broadcasts
				</Link>
			</div>
			<Form method="get" className="toolbar card">
				<div className="field">
					<label htmlFor="from">From</label>
					<input id="from" name="from" type="date" defaultValue={overview?.range.from ?? input.from} />
				</div>
				<div className="field">
					<label htmlFor="to">To</label>
					<input
						id="to"
						name="to"
						type="date"
						defaultValue={overview?.range.to ?? input.to}
						aria-invalid={error?.field === 'to' ? true : undefined}
						aria-describedby={error ? 'range-error' : undefined}
					/>
				</div>
				<button type="submit" className="btn btn-primary">
					Show
				</button>
				{error ? (
					<p className="field-error" id="range-error">
						{error.message}
					</p>
				) : null}
			</Form>
			{overview ? (
				<>
					<p className="muted">
						{overview.range.from} to {overview.range.to} ({overview.range.timezone}), compared with {overview.previous.from} to{' '}
						{overview.previous.to}. Each event counts on the day it happened.
					</p>
					<div className="grid-stats">
						<div className="stat" data-testid="overview-sent">
							<div className="label">Messages sent</div>
							<div className="value">{formatNumber(overview.totals.sent)}</div>
							<Trend value={overview.trend.sent} />
						</div>
						<div className="stat">
							<div className="label">Delivery rate</div>
							<div className="value">{percent(overview.totals.deliveryRate)}</div>
							<Trend value={overview.trend.deliveryRate} />
						</div>
						<div className="stat">
							<div className="label">Read rate</div>
							<div className="value">{percent(overview.totals.readRate)}</div>
							<Trend value={overview.trend.readRate} />
						</div>
						<div className="stat">
							<div className="label">Replies</div>
							<div className="value">{formatNumber(overview.totals.replied)}</div>
							<Trend value={overview.trend.replied} />
						</div>
						<div className="stat">
							<div className="label">Opt-outs</div>
							<div className="value">{formatNumber(overview.totals.optOuts)}</div>
							<Trend value={overview.trend.optOuts} />
						</div>
					</div>
					{Object.keys(overview.optOutsBySource).length > 0 ? (
						<p className="muted">
							Opt-outs by source:{' '}
							{Object.entries(overview.optOutsBySource)
								.map(([source, n]) => `${source.replace('_', ' ')} ${formatNumber(n)}`)
								.join(' · ')}
						</p>
					) : null}
					{overview.bestTemplate ? (
						<div className="card">
							<strong>Best template by read rate:</strong> {overview.bestTemplate.name}, {percent(overview.bestTemplate.readRate)} of{' '}
							{formatNumber(overview.bestTemplate.delivered)} delivered messages read.
						</div>
					) : null}
					<section className="stack">
						<h2>By broadcast</h2>
						{overview.byBroadcast.length === 0 ? (
							<div className="card empty-state">
								<p>Nothing was sent in this period.</p>
							</div>
						) : (
							<OverviewTable rows={overview.byBroadcast} link />
						)}
					</section>
					{overview.byTemplate.length > 0 ? (
						<section className="stack">
							<h2>By template</h2>
							<OverviewTable rows={overview.byTemplate} />
						</section>
					) : null}
				</>
			) : null}
		</div>
	)
}

function OverviewTable({ rows, link = false }: { rows: OverviewRow[]; link?: boolean }) {
	return (
		<div className="table-wrap">
			<table className="table">
				<thead>
					<tr>
						<th>{link ? 'Broadcast' : 'Template'}</th>
						<th className="numeric">Sent</th>
						<th className="numeric">Delivered</th>
						<th className="numeric">Read</th>
						<th className="numeric">Replied</th>
						<th className="numeric">Failed</th>
					</tr>
				</thead>
				<tbody>
					{rows.map((r) => (
						<tr key={r.id}>
							<td>{link ? <Link to={`/reports/broadcasts/${r.id}`}>{r.name}</Link> : r.name}</td>
							<td className="numeric">{formatNumber(r.sent)}</td>
							<td className="numeric">
								{formatNumber(r.delivered)} <span className="muted">{percent(r.deliveryRate)}</span>
							</td>
							<td className="numeric">
								{formatNumber(r.read)} <span className="muted">{percent(r.readRate)}</span>
							</td>
							<td className="numeric">{formatNumber(r.replied)}</td>
							<td className="numeric">{formatNumber(r.failed)}</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
