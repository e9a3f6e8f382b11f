import type { Funnel, Timeline } from '#app/lib/reports/broadcast-report.server'
import { formatNumber } from '#app/utils/format'

export function percent(value: number | null | undefined) {
	return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`
}

export function FunnelStats({ funnel }: { funnel: Funnel }) {
	const stats: Array<{ label: string; value: number; rate?: string; testId: string }> = [
		{ label: 'Recipients', value: funnel.recipients, testId: 'funnel-recipients' },
		{ label: 'Sent', value: funnel.sent, testId: 'funnel-sent' },
		{ label: 'Delivered', value: funnel.delivered, rate: `${percent(funnel.rates.delivery)} of sent`, testId: 'funnel-delivered' },
		{ label: 'Read', value: funnel.read, rate: `${percent(funnel.rates.read)} of delivered`, testId: 'funnel-read' },
		{ label: 'Replied', value: funnel.replied, rate: `${percent(funnel.rates.reply)} of delivered`, testId: 'funnel-replied' },
		{ label: 'Failed', value: funnel.failed, rate: `${percent(funnel.rates.failure)} of recipients`, testId: 'funnel-failed' },
		{ label: 'Skipped', value: funnel.skipped, testId: 'funnel-skipped' },
		{ label: 'Pending', value: funnel.pending, rate: funnel.unknown > 0 ? `${formatNumber(funnel.unknown)} unknown` : undefined, testId: 'funnel-pending' },
	]
	return (
		<div className="report-funnel">
			{stats.map((s) => (
				<div className="stat" key={s.label} data-testid={s.testId}>
					<div className="label">{s.label}</div>
					<div className="value">{formatNumber(s.value)}</div>
					{s.rate ? <div className="rate">{s.rate}</div> : null}
				</div>
			))}
		</div>
	)
}

export function FunnelBars({ funnel }: { funnel: Funnel }) {
	const whole = Math.max(funnel.recipients - funnel.skipped, 1)
	const bars = [
		{ label: 'Sent', value: funnel.sent },
		{ label: 'Delivered', value: funnel.delivered },
		{ label: 'Read', value: funnel.read },
		{ label: 'Replied', value: funnel.replied },
		{ label: 'Failed', value: funnel.failed, failed: true },
	]
	return (
		<div className="report-bars" aria-label="Funnel">
			{bars.map((b) => (
				<div className="report-bar" key={b.label}>
					<span>{b.label}</span>
					<span className="track">
						<span className={`fill${b.failed ? ' failed' : ''}`} style={{ width: `${Math.min(100, (b.value / whole) * 100)}%` }} />
					</span>
					<span className="count">{percent(b.value / whole)}</span>
				</div>
			))}
		</div>
	)
}

const WIDTH = 640
const HEIGHT = 200
const PAD = { left: 44, right: 10, top: 10, bottom: 24 }

/** Sent / delivered / read per bucket as three lines, drawn server-side as plain SVG. */
export function TimelineChart({ timeline, timezone }: { timeline: Timeline; timezone: string }) {
	const points = timeline.points
	if (points.length === 0) return <p className="muted">Nothing sent yet.</p>
	const max = Math.max(1, ...points.map((p) => Math.max(p.sent, p.delivered, p.read)))
	const first = new Date(points[0].at).getTime()
	const last = new Date(points[points.length - 1].at).getTime()
	const span = Math.max(last - first, 1)
	const x = (at: string) =>
		points.length === 1 ? PAD.left + (WIDTH - PAD.left - PAD.right) / 2 : PAD.left + ((new Date(at).getTime() - first) / span) * (WIDTH - PAD.left - PAD.right)
	const y = (value: number) => HEIGHT - PAD.bottom - (value / max) * (HEIGHT - PAD.top - PAD.bottom)
	const line = (key: 'sent' | 'delivered' | 'read') => points.map((p) => `${x(p.at).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ')
	const label = (at: string) =>
		new Intl.DateTimeFormat('en-GB', {
			timeZone: timezone,
			month: 'short',
			day: 'numeric',
			hour: '2-digit',
			minute: '2-digit',
		}).format(new Date(at))
	return (
		<figure className="stack" style={{ margin: 0 }}>
			<svg className="report-chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Messages per ${timeline.bucket}`}>
				<line className="axis" x1={PAD.left} y1={HEIGHT - PAD.bottom} x2={WIDTH - PAD.right} y2={HEIGHT - PAD.bottom} />
				<line className="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={HEIGHT - PAD.bottom} />
				<text x={PAD.left - 6} y={PAD.top + 8} textAnchor="end">
					{formatNumber(max)}
				</text>
				<text x={PAD.left - 6} y={HEIGHT - PAD.bottom} textAnchor="end">
					0
				</text>
				<text x={PAD.left} y={HEIGHT - 6}>
					{label(points[0].at)}
				</text>
				<text x={WIDTH - PAD.right} y={HEIGHT - 6} textAnchor="end">
					{label(points[points.length - 1].at)}
				</text>
				{(['sent', 'delivered', 'read'] as const).map((key) => (
					<polyline key={key} className={`line ${key}`} points={line(key)} />
				))}
			</svg>
			<figcaption className="report-legend">
				<span className="sent">Sent</span>
				<span className="delivered">Delivered</span>
				<span className="read">Read</span>
				<span className="muted">per {timeline.bucket}, {timezone}</span>
			</figcaption>
		</figure>
	)
}
