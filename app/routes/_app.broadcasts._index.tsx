import { type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import {
	BroadcastStatusBadge,
	ProgressBar,
	ScheduleTime,
	broadcastStatusLabel,
} from '#app/components/broadcast-status'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { LIST_STATUSES } from '#app/lib/broadcasts/form'
import { listBroadcasts } from '#app/lib/broadcasts/queries.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime, formatNumber } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Broadcasts · Pregón' }]

const FiltersSchema = z.object({
	status: z.enum(LIST_STATUSES).optional().catch(undefined),
	q: z.string().trim().max(200).optional().catch(undefined),
})

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const filters = FiltersSchema.parse(Object.fromEntries(new URL(request.url).searchParams))
	const broadcasts = await listBroadcasts({ status: filters.status, search: filters.q })
	return {
		broadcasts,
		filters,
		timezone: user.timezone,
		canEdit: user.role !== 'analyst',
	}
}

export default function BroadcastsRoute() {
	const { broadcasts, filters, timezone, canEdit } = useLoaderData<typeof loader>()
	const filtered = Boolean(filters.status || filters.q)
	return (
		<div className="page">
			<div className="page-header">
				<h1>Broadcasts</h1>
				{canEdit ? (
					<Link className="btn btn-primary" to="/broadcasts/new">
						New broadcast
					</Link>
				) : null}
			</div>
			<Form method="get" className="toolbar" role="search">
				<label className="field">
					<span>Search</span>
					<input
						name="q"
						type="search"
						defaultValue={filters.q ?? ''}
						placeholder="Name or template"
					/>
				</label>
				<label className="field">
					<span>Status</span>
					<select name="status" defaultValue={filters.status ?? ''}>
						<option value="">Any status</option>
						{LIST_STATUSES.map((status) => (
							<option key={status} value={status}>
								{broadcastStatusLabel(status)}
							</option>
						))}
					</select>
				</label>
				<button className="btn" type="submit">
					Filter
				</button>
				{filtered ? (
					<Link className="btn btn-ghost" to="/broadcasts">
						Clear
					</Link>
				) : null}
			</Form>
			{broadcasts.length === 0 ? (
				<div className="card empty-state">
					{filtered ? (
						<>
							<h2>No broadcasts match</h2>
							<p>Try another status or search.</p>
						</>
					) : (
						<>
							<h2>No broadcasts yet</h2>
							<p>
								A broadcast sends an approved template to a list of contacts, at the sender&apos;s
								rate.
							</p>
							{canEdit ? (
								<Link className="btn btn-primary" to="/broadcasts/new">
									Build your first broadcast
								</Link>
							) : null}
						</>
					)}
				</div>
			) : (
				<div className="card table-wrap">
					<table className="table">
						<thead>
							<tr>
								<th>Name</th>
								<th>Status</th>
								<th>Template</th>
								<th>Sender</th>
								<th>Scheduled</th>
								<th>Progress</th>
								<th>Created</th>
							</tr>
						</thead>
						<tbody>
							{broadcasts.map((b) => (
								<tr key={b.id} data-testid="broadcast-row">
									<td>
										<Link to={`/broadcasts/${b.id}`}>{b.name}</Link>
									</td>
									<td>
										<BroadcastStatusBadge status={b.status} />
										{b.statusReason ? <div className="muted">{b.statusReason}</div> : null}
										{b.approvalRequired &&
										!b.approvedAt &&
										(b.status === 'draft' || b.status === 'scheduled') ? (
											<div className="muted">Needs approval</div>
										) : null}
									</td>
									<td>
										{b.templateName ? (
											`${b.templateName} (${b.templateLanguage})`
										) : (
											<span className="muted">—</span>
										)}
									</td>
									<td>{b.senderNumber ?? <span className="muted">—</span>}</td>
									<td>
										<ScheduleTime
											at={b.scheduledAt}
											chosenZone={b.scheduleTimezone}
											userZone={timezone}
										/>
									</td>
									<td style={{ minWidth: 140 }}>
										{b.progress.total > 0 ? (
											<>
												<ProgressBar percent={b.progress.percent} label={`Progress of ${b.name}`} />
												<span className="muted">
													{formatNumber(b.progress.sent)} sent of {formatNumber(b.progress.total)}
												</span>
											</>
										) : (
											<span className="muted">Not started</span>
										)}
									</td>
									<td>{formatDateTime(b.createdAt, timezone)}</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
