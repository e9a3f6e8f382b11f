/** Text encodings an import file may use. */
export const ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'] as const
export type Encoding = (typeof ENCODINGS)[number]

export type DetectedEncoding = { encoding: Encoding; bomLength: number }

/**
 * Decides the encoding from the first bytes of a file: a byte-order mark wins; otherwise UTF-8 when
 * the sample is valid UTF-8 (a sequence cut at the end of the sample is fine), else Windows-1252,
 * which is what spreadsheet programs on Windows write when they do not write UTF-8.
 */
export function detectEncoding(sample: Uint8Array): DetectedEncoding {
	if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf)
		return { encoding: 'utf-8', bomLength: 3 }
	if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 }
	if (sample[0] === 0xfe && sample[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 }
	const utf16 = guessBomlessUtf16(sample)
	if (utf16) return { encoding: utf16, bomLength: 0 }
	return { encoding: isValidUtf8Prefix(sample) ? 'utf-8' : 'windows-1252', bomLength: 0 }
}

/** The length of a byte-order mark for `encoding` at the start of `sample`, or 0. */
export function bomLengthFor(encoding: Encoding, sample: Uint8Array) {
	if (encoding === 'utf-8')
		return sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf ? 3 : 0
	if (encoding === 'utf-16le') return sample[0] === 0xff && sample[1] === 0xfe ? 2 : 0
	if (encoding === 'utf-16be') return sample[0] === 0xfe && sample[1] === 0xff ? 2 : 0
	return 0
}

function isValidUtf8Prefix(sample: Uint8Array) {
	try {
		new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true })
		return true
	} catch {
		return false
	}
}

/** UTF-16 without a BOM shows as ASCII text with every other byte zero. */
function guessBomlessUtf16(sample: Uint8Array): Encoding | undefined {
	const length = Math.min(sample.length, 4096) & ~1
	if (length < 8) return undefined
	let evenZeros = 0
	let oddZeros = 0
	for (let i = 0; i < length; i += 2) {
		if (sample[i] === 0) evenZeros++
		if (sample[i + 1] === 0) oddZeros++
	}
	const pairs = length / 2
	if (oddZeros > pairs * 0.4 && evenZeros < pairs * 0.05) return 'utf-16le'
	if (evenZeros > pairs * 0.4 && oddZeros < pairs * 0.05) return 'utf-16be'
	return undefined
}
