import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Transform, Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import Papa from 'papaparse'
import { detectDelimiter, type Delimiter } from './delimiter'
import { bomLengthFor, detectEncoding, type Encoding } from './encoding'
import { uniqueHeaders } from './headers'
import { createTextDecoderStream } from './text-stream.server'
import { isZipFile, openZipEntry } from './zip.server'

const SAMPLE_BYTES = 64 * 1024

/**
 * The bytes of an import file: the file itself, or the CSV inside it when it is a .zip.
 * `bytesRead()` against `size` (the CSV's own size) drives the progress estimate.
 */
export async function openImportBytes(path: string) {
	let bytesRead = 0
	const counter = new Transform({
		transform(chunk: Buffer, _encoding, callback) {
			bytesRead += chunk.length
			callback(null, chunk)
		},
	})
	let source: Readable
	let innerName: string | undefined
	let size: number
	if (await isZipFile(path)) {
		const entry = await openZipEntry(path)
		innerName = entry.name
		size = entry.size
		source = entry.stream
	} else {
		size = (await stat(path)).size
		source = createReadStream(path, { highWaterMark: 256 * 1024 })
	}
	source.on('error', (error) => counter.destroy(error))
	counter.on('close', () => source.destroy())
	source.pipe(counter)
	return { stream: counter, innerName, size, bytesRead: () => bytesRead }
}

/** The first bytes of the (decompressed) file, for encoding and delimiter detection. */
export async function readSample(path: string, maxBytes = SAMPLE_BYTES) {
	const { stream } = await openImportBytes(path)
	const chunks: Buffer[] = []
	let length = 0
	for await (const chunk of stream as AsyncIterable<Buffer>) {
		chunks.push(chunk)
		length += chunk.length
		if (length >= maxBytes) break
	}
	stream.destroy()
	return Buffer.concat(chunks).subarray(0, maxBytes)
}

export type TextSettings = { encoding: Encoding; bomLength: number; delimiter: Delimiter }

/** Encoding and delimiter: the chosen ones, else detected from the sample. */
export function resolveTextSettings(
	sample: Buffer,
	chosen: { encoding?: Encoding; delimiter?: Delimiter },
): TextSettings {
	const detected = detectEncoding(sample)
	const encoding = chosen.encoding ?? detected.encoding
	const bomLength = chosen.encoding ? bomLengthFor(encoding, sample) : detected.bomLength
	const text = new TextDecoder(encoding).decode(sample.subarray(bomLength), { stream: true })
	return { encoding, bomLength, delimiter: chosen.delimiter ?? detectDelimiter(text) }
}

/** One data row: its physical line number in the file (1-based) and its fields. */
export type CsvRow = { line: number; fields: string[]; malformed?: string }

export type RowSink = {
	header: (headers: string[], line: number) => void
	/** Called with full batches; a returned promise holds the parser back until it settles. */
	batch: (rows: CsvRow[]) => void | Promise<void>
}

/**
 * Streams `bytes` through the decoder and papaparse (fed as a Node stream so backpressure reaches
 * the file) and hands the rows on in batches. Line numbers count physical lines: a quoted field
 * with newlines moves the next row's number on by as many lines. Blank rows (only empty or
 * whitespace fields) are skipped; the first non-blank row is the header.
 */
export async function streamRows(
	bytes: Readable,
	settings: TextSettings,
	sink: RowSink,
	{ batchSize = 2048, signal }: { batchSize?: number; signal?: AbortSignal } = {},
) {
	const decoder = createTextDecoderStream(settings.encoding, settings.bomLength)
	const parser = Papa.parse(Papa.NODE_STREAM_INPUT, {
		delimiter: settings.delimiter,
		newline: '\n',
		quoteChar: '"',
		escapeChar: '"',
	})
	let nextLine = 1
	let seenHeader = false
	let batch: CsvRow[] = []
	// Backpressure is applied before papaparse, never after it: when its output stream fills,
	// papaparse pauses and on resume re-scans the rest of its chunk, which turns a 1M-row file into
	// minutes. So the consumer always takes rows at once, and a slow sink holds back the next text
	// chunk instead (at most one chunk of rows is ahead of the sink).
	let gate: Promise<unknown> = Promise.resolve()
	const throttle = new Transform({
		decodeStrings: false,
		encoding: 'utf8',
		transform(chunk: string, _encoding, callback) {
			gate.then(() => callback(null, chunk), callback)
		},
	})
	const consumer = new Writable({
		objectMode: true,
		highWaterMark: 4096,
		write(fields: string[], _encoding, callback) {
			const line = nextLine
			let newlines = 0
			let blank = true
			for (let i = 0; i < fields.length; i++) {
				const field = fields[i]
				if (blank && field.trim() !== '') blank = false
				if (field.indexOf('\n') !== -1) newlines += field.split('\n').length - 1
			}
			nextLine += 1 + newlines
			if (blank) return callback()
			try {
				if (!seenHeader) {
					seenHeader = true
					sink.header(uniqueHeaders(fields), line)
					return callback()
				}
				batch.push({ line, fields })
				// The last row is held back: only at the end is it known whether it ran into EOF.
				if (batch.length <= batchSize) return callback()
				const full = batch.splice(0, batchSize)
				const wait = sink.batch(full)
				if (wait) {
					gate = Promise.all([gate, wait])
					// Marks the rejection handled; the throttle or final() still sees it and fails the pipeline.
					gate.catch(() => {})
				}
				callback()
			} catch (error) {
				callback(error as Error)
			}
		},
		final(callback) {
			if (!seenHeader) {
				return callback(new EmptyFileError('The file is empty: no header row was found.'))
			}
			const last = batch[batch.length - 1]
			// An odd number of quotes and a last row with line breaks inside a cell: a quote opened and
			// never closed, and papaparse read every line after it into that one cell.
			if (
				last &&
				decoder.stats().quotes % 2 === 1 &&
				last.fields.some((field) => field.includes('\n'))
			) {
				const end = nextLine - 1 - (last.fields[last.fields.length - 1].endsWith('\n') ? 1 : 0)
				last.malformed = `Unclosed quote: lines ${last.line}–${end} were read as one cell`
			}
			const rest = batch
			batch = []
			gate
				.then(() => (rest.length > 0 ? sink.batch(rest) : undefined))
				.then(() => callback(), callback)
		},
	})
	await pipeline(bytes, decoder, throttle, parser, consumer, { signal })
}

export class EmptyFileError extends Error {}
