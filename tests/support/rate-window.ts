/** Largest number of instants (ms) that fall in any sliding window of `windowMs` (one second). */
export function maxInWindow(instants: number[], windowMs = 1000) {
	const sorted = [...instants].sort((a, b) => a - b)
	let max = 0
	let lo = 0
	for (let hi = 0; hi < sorted.length; hi++) {
		while (sorted[hi] - sorted[lo] >= windowMs) lo++
		max = Math.max(max, hi - lo + 1)
	}
	return max
}
