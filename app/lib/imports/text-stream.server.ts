import { Transform, type TransformCallback } from 'node:stream'
import type { Encoding } from './encoding'

/** Raised when a file declared or detected as UTF-8 turns out not to be. */
export class EncodingError extends Error {}

/**
 * Turns the file's bytes into text: skips the byte-order mark, decodes (UTF-8 strictly, so a stray
 * Windows-1252 byte fails loudly instead of becoming "�"), and makes every line end a single "\n"
 * so one parser setting handles CRLF, LF and CR files (and files that mix them). A "\r" at the end
 * of a chunk is held back until the next chunk shows whether a "\n" follows it.
 */
export function createTextDecoderStream(encoding: Encoding, bomLength: number) {
	const decoder = new TextDecoder(encoding, { fatal: encoding === 'utf-8' })
	let skip = bomLength
	let pendingCr = false
	let bytesIn = 0
	let charsOut = 0
	let quotes = 0
	const countQuotes = (text: string) => {
		for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) quotes++
	}
	const normalise = (text: string, final: boolean) => {
		let value = pendingCr ? `\r${text}` : text
		pendingCr = false
		if (!final && value.endsWith('\r')) {
			pendingCr = true
			value = value.slice(0, -1)
		}
		return value.indexOf('\r') === -1 ? value : value.replace(/\r\n?/g, '\n')
	}
	const stream = new Transform({
		readableObjectMode: false,
		decodeStrings: true,
		// Papa.parse accepts string chunks; emitting strings avoids a second decode.
		encoding: 'utf8',
		transform(chunk: Buffer, _encoding, callback: TransformCallback) {
			let bytes = chunk
			if (skip > 0) {
				const skipped = Math.min(skip, bytes.length)
				bytes = bytes.subarray(skipped)
				skip -= skipped
			}
			bytesIn += chunk.length
			let text: string
			try {
				text = decoder.decode(bytes, { stream: true })
			} catch {
				callback(
					new EncodingError(
						`The file is not valid UTF-8 (near byte ${bytesIn.toLocaleString('en')}). Choose the Windows-1252 encoding and import it again.`,
					),
				)
				return
			}
			const out = normalise(text, false)
			countQuotes(out)
			charsOut += out.length
			callback(null, out)
		},
		flush(callback: TransformCallback) {
			let text: string
			try {
				text = decoder.decode()
			} catch {
				callback(new EncodingError('The file ends in the middle of a UTF-8 character.'))
				return
			}
			const out = normalise(text, true)
			countQuotes(out)
			charsOut += out.length
			callback(null, out)
		},
	})
	return Object.assign(stream, { stats: () => ({ bytesIn, charsOut, quotes }) })
}
