import { attributeKey, detectPhoneColumn, guessColumnTarget } from './headers'
import type { ColumnMapping } from './options'

/**
 * The mapping proposed for a header row: the detected phone column, the first name/email/opt-out
 * looking columns, and every other column as an attribute with a unique key.
 */
export function defaultColumns(headers: ReadonlyArray<string>): ColumnMapping[] {
	const phoneIndex = detectPhoneColumn(headers)
	const taken = new Set<string>()
	const keys = new Set<string>()
	return headers.map((header, index): ColumnMapping => {
		if (index === phoneIndex) return { index, header, target: 'phone' }
		const guess = guessColumnTarget(header)
		if (guess && !taken.has(guess)) {
			taken.add(guess)
			return { index, header, target: guess }
		}
		return { index, header, target: 'attribute', key: uniqueKey(attributeKey(header), keys) }
	})
}

function uniqueKey(base: string, keys: Set<string>) {
	let key = base
	for (let n = 2; keys.has(key); n++) key = `${base}_${n}`
	keys.add(key)
	return key
}
