import { type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { percent } from '#app/components/reports'
import { getComparePage } from '#app/lib/reports/broadcast-report.server'
import reportStyles from '#app/styles/reports.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatNumber } from '#app/utils/format'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: reportStyles }]

export const meta: MetaFunction = () => [{ title: 'Compare broadcasts · Reports · Pregón' }]

const QuerySchema = z.object({
	a: z.uuid().optional().catch(undefined),
	b: z.uuid().optional().catch(undefined),
})

export async function loader({ request }: LoaderFunctionArgs) {
	await requireRole(request, ALL_ROLES)
	const query = QuerySchema.parse(Object.fromEntries(new URL(request.url).searchParams))
	return { query, ...(await getComparePage(query.a, query.b)) }
}

type Metric = { label: string; a: number | null; b: number | null; kind: 'count' | 'rate' }

export default function CompareRoute() {
	const { query, broadcasts, comparison } = useLoaderData<typeof loader>()
	const metrics: Metric[] = comparison
		? [
				{ label: 'Recipients', a: comparison.a.funnel.recipients, b: comparison.b.funnel.recipients, kind: 'count' },
				{ label: 'Sent', a: comparison.a.funnel.sent, b: comparison.b.funnel.sent, kind: 'count' },
				{ label: 'Delivered', a: comparison.a.funnel.delivered, b: comparison.b.funnel.delivered, kind: 'count' },
				{ label: 'Read', a: comparison.a.funnel.read, b: comparison.b.funnel.read, kind: 'count' },
				{ label: 'Replied', a: comparison.a.funnel.replied, b: comparison.b.funnel.replied, kind: 'count' },
				{ label: 'Failed', a: comparison.a.funnel.failed, b: comparison.b.funnel.failed, kind: 'count' },
				{ label: 'Skipped', a: comparison.a.funnel.skipped, b: comparison.b.funnel.skipped, kind: 'count' },
				{ label: 'Delivery rate (of sent)', a: comparison.a.funnel.rates.delivery, b: comparison.b.funnel.rates.delivery, kind: 'rate' },
				{ label: 'Read rate (of delivered)', a: comparison.a.funnel.rates.read, b: comparison.b.funnel.rates.read, kind: 'rate' },
				{ label: 'Reply rate (of delivered)', a: comparison.a.funnel.rates.reply, b: comparison.b.funnel.rates.reply, kind: 'rate' },
				{ label: 'Failure rate', a: comparison.a.funnel.rates.failure, b: comparison.b.funnel.rates.failure, kind: 'rate' },
			]
		: []
	const show = (m: Metric, v: number | null) => (m.kind === 'rate' ? percent(v) : v === null ? '—' : formatNumber(v))
	const diff = (m: Metric) => {
		if (m.a === null || m.b === null) return '—'
		const d = m.b - m.a
		if (m.kind === 'rate') return `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} pts`
		return `${d >= 0 ? '+' : ''}${formatNumber(d)}`
	}
	return (
		<div className="page stack">
			<div className="page-header">
				<div>
					<p className="muted">
						<Link to="/reports">Reports</Link> · Compare
					</p>
					<h1>Compare two broadcasts</h1>
				</div>
			</div>
			<Form method="get" className="toolbar card">
				{(['a', 'b'] as const).map((side) => (
					<div className="field" key={side}>
						<label htmlFor={`compare-${side}`}>{side === 'a' ? 'Broadcast A' : 'Broadcast B'}</label>
						<select id={`compare-${side}`} name={side} defaultValue={query[side] ?? ''}>
							<option value="">Choose…</option>
							{broadcasts.map((b) => (
								<option key={b.id} value={b.id}>
									{b.name}
								</option>
							))}
						</select>
					</div>
				))}
				<button type="submit" className="btn btn-primary">
					Compare
				</button>
			</Form>
			{comparison ? (
				<div className="table-wrap">
					<table className="table compare-table" data-testid="compare-table">
						<thead>
							<tr>
								<th>Metric</th>
								<th>
									<Link to={`/reports/broadcasts/${comparison.a.broadcast.id}`}>{comparison.a.broadcast.name}</Link>
								</th>
								<th>
									<Link to={`/reports/broadcasts/${comparison.b.broadcast.id}`}>{comparison.b.broadcast.name}</Link>
								</th>
								<th>B − A</th>
							</tr>
						</thead>
						<tbody>
							{metrics.map((m) => (
								<tr key={m.label}>
									<td>{m.label}</td>
									<td>{show(m, m.a)}</td>
									<td>{show(m, m.b)}</td>
									<td>{diff(m)}</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			) : (
				<div className="card empty-state">
					<p>{query.a && query.b ? 'One of these broadcasts does not exist.' : 'Choose two broadcasts to see them side by side.'}</p>
				</div>
			)}
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
