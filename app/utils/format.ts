/** Formats an instant in `timeZone`, naming the zone so nobody has to guess it. */
export function formatDateTime(value: Date | string | null | undefined, timeZone: string) {
	if (!value) return '—'
	const date = typeof value === 'string' ? new Date(value) : value
	return new Intl.DateTimeFormat('en-GB', {
		timeZone,
		year: 'numeric',
		month: 'short',
		day: 'numeric',
		hour: '2-digit',
		minute: '2-digit',
		timeZoneName: 'short',
	}).format(date)
}

export function formatNumber(value: number) {
	return new Intl.NumberFormat('en-US').format(value)
}

export function formatPercent(part: number, whole: number) {
	if (whole <= 0) return '—'
	return `${((part / whole) * 100).toFixed(1)}%`
}
