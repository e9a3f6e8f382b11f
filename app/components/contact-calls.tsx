import { callStatusTone, formatCallDuration } from '#app/lib/calls/format'
import { formatDateTime } from '#app/utils/format'

export type ContactCall = {
	id: string
	senderNumber: string
	senderName: string
	direction: 'inbound' | 'outbound' | null
	status: string | null
	durationSeconds: number | null
	startedAt: Date | string | null
}

/** The contact page's call log (rows from `listCallsForContact`), newest first. */
export function ContactCalls({ calls, timezone }: { calls: ContactCall[]; timezone: string }) {
	return (
		<section className="card" aria-labelledby="contact-calls-title" data-testid="contact-calls">
			<h2 id="contact-calls-title">Calls</h2>
			{calls.length === 0 ? (
				<p className="muted">No WhatsApp calls with this contact.</p>
			) : (
				<div className="table-wrap">
					<table className="table">
						<thead>
							<tr>
								<th>Time ({timezone})</th>
								<th>Direction</th>
								<th>Status</th>
								<th>Duration</th>
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
									<td>{call.senderName || call.senderNumber}</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
		</section>
	)
}
