import Papa from 'papaparse'
import type { Delimiter } from './delimiter'
import type { Encoding } from './encoding'
import { detectPhoneColumn, uniqueHeaders } from './headers'
import { defaultColumns } from './mapping'
import type { ColumnMapping } from './options'
import { isZipFile, openZipEntry } from './zip.server'
import { readSample, resolveTextSettings } from './source.server'

export type FilePreview = {
	encoding: Encoding
	delimiter: Delimiter
	/** The CSV's name inside a .zip. */
	innerName?: string
	headers: string[]
	rows: string[][]
	/** Index of the detected phone column, or -1. */
	phoneColumn: number
	columns: ColumnMapping[]
}

/**
 * The first rows of a stored file for the mapping step, with the detected (or chosen) encoding
 * and delimiter and a proposed mapping. Reads only the first 64 KB.
 */
export async function previewFile(
	filePath: string,
	chosen: { encoding?: Encoding; delimiter?: Delimiter } = {},
	maxRows = 10,
): Promise<FilePreview> {
	const sample = await readSample(filePath)
	const settings = resolveTextSettings(sample, chosen)
	const text = new TextDecoder(settings.encoding)
		.decode(sample.subarray(settings.bomLength))
		.replace(/\r\n?/g, '\n')
	// The sample may end mid-row; drop the last (possibly partial) line unless the file is that short.
	const complete = sample.length >= 64 * 1024 ? text.slice(0, text.lastIndexOf('\n') + 1) : text
	const parsed = Papa.parse<string[]>(complete, {
		delimiter: settings.delimiter,
		newline: '\n',
		skipEmptyLines: 'greedy',
	})
	const [header = [], ...rows] = parsed.data
	const headers = uniqueHeaders(header)
	const innerName = (await isZipFile(filePath))
		? await openZipEntry(filePath).then((entry) => (entry.stream.destroy(), entry.name))
		: undefined
	return {
		encoding: settings.encoding,
		delimiter: settings.delimiter,
		innerName,
		headers,
		rows: rows.slice(0, maxRows),
		phoneColumn: detectPhoneColumn(headers),
		columns: defaultColumns(headers),
	}
}
