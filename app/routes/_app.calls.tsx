import { type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData, useSearchParams } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { CallFiltersSchema, listCalls } from '#app/lib/calls/calls.server'
import { callStatusTone, formatCallDuration } from '#app/lib/calls/format'
import { maskPhone } from '#app/lib/contacts/mask'
import { listSenders } from '#app/lib/senders/senders.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Calls · Pregón' }]

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const url = new URL(request.url)
	const filters = CallFiltersSchema.parse(Object.fromEntries(url.searchParams))
	const [page, senders] = await Promise.all([listCalls(filters), listSenders()])
	// Analysts see numbers masked, as everywhere else.
	const show = (phone: string | null) =>
		phone && user.role === 'analyst' ? maskPhone(phone) : phone
	return {
		timezone: user.timezone,
		senders: senders.map((sender) => ({
			id: sender.id,
			label: sender.name || sender.displayNumber,
		})),
		nextBefore: page.nextBefore,
		calls: page.calls.map((call) => ({
			...call,
			contactPhone: show(call.contactPhone),
			waId: show(call.waId ? `+${call.waId}` : null),
		})),
	}
}

export default function CallsRoute() {
	const { calls, senders, timezone, nextBefore } = useLoaderData<typeof loader>()
	const [params] = useSearchParams()
	const nextParams = new URLSearchParams(params)
	if (nextBefore) nextParams.set('before', nextBefore)
	return (
		<div className="page">
			<div className="page-header">
				<h1>Calls</h1>
			</div>
			<p className="muted">
				WhatsApp calls to and from your numbers, as Kapso records them. Imported every 15 minutes;
				read only.
			</p>
			<Form method="get" className="toolbar">
				<label>
					Number{' '}
					<select
						className="input"
						style={{ width: 'auto' }}
						name="senderId"
						defaultValue={params.get('senderId') ?? ''}
					>
						<option value="">All numbers</option>
						{senders.map((sender) => (
							<option key={sender.id} value={sender.id}>
								{sender.label}
							</option>
						))}
					</select>
				</label>
				<label>
					Direction{' '}
					<select
						className="input"
						style={{ width: 'auto' }}
						name="direction"
						defaultValue={params.get('direction') ?? ''}
					>
						<option value="">Both</option>
						<option value="inbound">Incoming</option>
						<option value="outbound">Outgoing</option>
					</select>
				</label>
				<button className="btn" type="submit">
					Filter
				</button>
			</Form>
			<div className="card table-wrap">
				{calls.length === 0 ? (
					<div className="empty-state">
						<h2>No calls yet</h2>
						<p>Calls appear here once Kapso reports them for your numbers.</p>
					</div>
				) : (
					<table className="table" data-testid="calls-table">
						<thead>
							<tr>
								<th>Time ({timezone})</th>
								<th>Direction</th>
								<th>Status</th>
								<th>Duration</th>
								<th>Contact</th>
								<th>Number</th>
							</tr>
						</thead>
						<tbody>
							{calls.map((call) => (
								<tr key={call.id}>
									<td>{formatDateTime(call.startedAt, timezone)}</td>
									<td>
										{call.direction === 'inbound'
											? '↙ Incoming'
											: call.direction === 'outbound'
												? '↗ Outgoing'
												: '—'}
									</td>
									<td>
										<span className={`badge badge-${callStatusTone(call.status)}`}>
											{call.status ?? 'unknown'}
										</span>
									</td>
									<td>{formatCallDuration(call.durationSeconds)}</td>
									<td>
										{call.contactId ? (
											<Link to={`/contacts/${call.contactId}`}>
												{call.contactName ?? call.contactPhone}
											</Link>
										) : (
											(call.waId ?? '—')
										)}
									</td>
									<td>{call.senderName || call.senderNumber}</td>
								</tr>
							))}
						</tbody>
					</table>
				)}
			</div>
			{nextBefore ? (
				<Link className="btn" to={`?${nextParams.toString()}`}>
					Older calls
				</Link>
			) : null}
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
