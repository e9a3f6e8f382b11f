import { type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { getDashboardSummary } from '#app/lib/reports/dashboard.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatNumber } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Dashboard · Pregón' }]

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	return { summary: await getDashboardSummary(), role: user.role }
}

export default function DashboardRoute() {
	const { summary, role } = useLoaderData<typeof loader>()
	const stats = [
		{ label: 'Contacts', value: summary.contacts, to: '/contacts' },
		{ label: 'Opted out', value: summary.optedOut, to: '/contacts?optOut=opted_out' },
		{ label: 'Approved templates', value: summary.templatesApproved, to: '/templates' },
		{ label: 'Active broadcasts', value: summary.broadcastsActive, to: '/broadcasts' },
		{ label: 'Sent in the last 24 h', value: summary.sentLast24h, to: '/reports' },
	]
	return (
		<div className="page">
			<div className="page-header">
				<h1>Dashboard</h1>
			</div>
			<div className="grid-stats">
				{stats.map((stat) => (
					<Link key={stat.label} to={stat.to} className="stat" style={{ textDecoration: 'none', color: 'inherit' }}>
						<div className="value">{formatNumber(stat.value)}</div>
						<div className="label">{stat.label}</div>
					</Link>
				))}
			</div>
			{summary.contacts === 0 && role !== 'analyst' ? (
				<div className="card empty-state">
					<h2>Start by importing your contacts</h2>
					<p>Upload a CSV export from your CRM or spreadsheet, then draft a template and schedule a broadcast.</p>
					<Link className="btn btn-primary" to="/contacts/import">
						Import contacts
					</Link>
				</div>
			) : null}
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
