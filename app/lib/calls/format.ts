/** `3:04` or `1:02:03`; `—` for a call that never connected. */
export function formatCallDuration(seconds: number | null) {
	if (seconds == null || seconds <= 0) return '—'
	const h = Math.floor(seconds / 3600)
	const m = Math.floor((seconds % 3600) / 60)
	const s = String(seconds % 60).padStart(2, '0')
	return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

const STATUS_TONES: Record<string, 'green' | 'yellow' | 'red' | 'gray'> = {
	completed: 'green',
	accepted: 'green',
	missed: 'yellow',
	no_answer: 'yellow',
	rejected: 'red',
	failed: 'red',
}

/** Badge colour for a call status. */
export function callStatusTone(status: string | null) {
	return (status && STATUS_TONES[status]) || 'gray'
}
