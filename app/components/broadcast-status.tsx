import type { BroadcastStatus } from '#db/schema/index'
import { formatDateTime } from '#app/utils/format'

const STATUS: Record<BroadcastStatus, { label: string; tone: string }> = {
	draft: { label: 'Draft', tone: 'gray' },
	scheduled: { label: 'Scheduled', tone: 'blue' },
	sending: { label: 'Sending', tone: 'yellow' },
	paused: { label: 'Paused', tone: 'red' },
	completed: { label: 'Completed', tone: 'green' },
	cancelled: { label: 'Cancelled', tone: 'gray' },
	failed: { label: 'Failed', tone: 'red' },
}

export function broadcastStatusLabel(status: BroadcastStatus) {
	return STATUS[status].label
}

export function BroadcastStatusBadge({ status }: { status: BroadcastStatus }) {
	const info = STATUS[status]
	return (
		<span className={`badge badge-${info.tone}`} data-testid="broadcast-status">
			{info.label}
		</span>
	)
}

export function ProgressBar({ percent, label }: { percent: number; label: string }) {
	return (
		<div
			className="progress"
			role="progressbar"
			aria-label={label}
			aria-valuemin={0}
			aria-valuemax={100}
			aria-valuenow={percent}
		>
			<span style={{ width: `${percent}%` }} />
		</div>
	)
}

/**
 * A scheduled time in the user's zone and, when it was chosen in another zone, as it was chosen
 * there too, so nobody has to convert.
 */
export function ScheduleTime({
	at,
	chosenZone,
	userZone,
}: {
	at: string | Date | null
	chosenZone: string | null
	userZone: string
}) {
	if (!at) return <span className="muted">Not scheduled</span>
	const mine = formatDateTime(at, userZone)
	if (!chosenZone || chosenZone === userZone) return <span>{mine}</span>
	return (
		<span>
			{mine}
			<br />
			<span className="muted">
				{formatDateTime(at, chosenZone)} ({chosenZone})
			</span>
		</span>
	)
}
