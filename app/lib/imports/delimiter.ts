/** Delimiters an import file may use. */
export const DELIMITERS = [',', ';', '\t'] as const
export type Delimiter = (typeof DELIMITERS)[number]

/**
 * Picks the delimiter that splits the first lines into the same number of fields (more than one)
 * most consistently, counting only characters outside quotes. Ties go to the one giving more
 * fields; a file with one column gets ",".
 */
export function detectDelimiter(sample: string): Delimiter {
	const lines = splitSampleLines(sample, 50)
	let best: { delimiter: Delimiter; score: number; fields: number } = {
		delimiter: ',',
		score: 0,
		fields: 1,
	}
	for (const delimiter of DELIMITERS) {
		const counts = lines.map((line) => countOutsideQuotes(line, delimiter)).filter((n) => n > 0)
		if (counts.length === 0) continue
		const frequency = new Map<number, number>()
		for (const count of counts) frequency.set(count, (frequency.get(count) ?? 0) + 1)
		const [mode, modeCount] = [...frequency.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]
		const score = modeCount / lines.length
		if (score > best.score || (score === best.score && mode + 1 > best.fields)) {
			best = { delimiter, score, fields: mode + 1 }
		}
	}
	return best.delimiter
}

/** Logical lines of the sample (a newline inside quotes does not end a line); blank lines dropped. */
function splitSampleLines(sample: string, max: number) {
	const lines: string[] = []
	let inQuotes = false
	let start = 0
	for (let i = 0; i < sample.length && lines.length < max; i++) {
		const char = sample[i]
		if (char === '"') inQuotes = !inQuotes
		else if (!inQuotes && (char === '\n' || char === '\r')) {
			lines.push(sample.slice(start, i))
			start = i + 1
		}
	}
	if (lines.length < max && start < sample.length && !inQuotes) lines.push(sample.slice(start))
	return lines.filter((line) => line.trim() !== '')
}

function countOutsideQuotes(line: string, delimiter: string) {
	let count = 0
	let inQuotes = false
	for (const char of line) {
		if (char === '"') inQuotes = !inQuotes
		else if (!inQuotes && char === delimiter) count++
	}
	return count
}
