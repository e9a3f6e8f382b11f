import fs from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { Readable, Transform } from 'node:stream'
import zlib from 'node:zlib'

/** Refusals of a .zip upload, shown to the user as they are. */
export class ZipError extends Error {}

/** A decompressed CSV larger than this is refused (a small zip can expand without bound). */
export const MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024

type Entry = {
	name: string
	method: number
	compressedSize: number
	uncompressedSize: number
	localHeaderOffset: number
	flags: number
}

export async function isZipFile(path: string) {
	const handle = await fs.open(path, 'r')
	try {
		const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0)
		return bytesRead === 4 && buffer.readUInt32LE(0) === 0x04034b50
	} finally {
		await handle.close()
	}
}

/**
 * Opens the single CSV inside a .zip as a stream of its bytes. Reads the central directory (the
 * only reliable source of sizes), skips folders and macOS metadata, and refuses archives with no
 * or several candidate files, encrypted entries, Zip64 and methods other than store/deflate.
 */
export async function openZipEntry(
	path: string,
): Promise<{ name: string; size: number; stream: Readable }> {
	const handle = await fs.open(path, 'r')
	let entry: Entry
	let dataStart: number
	try {
		const { size } = await handle.stat()
		const tailLength = Math.min(size, 65_557)
		const tail = Buffer.alloc(tailLength)
		await handle.read(tail, 0, tailLength, size - tailLength)
		let eocd = -1
		for (let i = tailLength - 22; i >= 0; i--) {
			if (tail.readUInt32LE(i) === 0x06054b50) {
				eocd = i
				break
			}
		}
		if (eocd === -1) throw new ZipError('The .zip file is damaged (no central directory).')
		const count = tail.readUInt16LE(eocd + 10)
		const directorySize = tail.readUInt32LE(eocd + 12)
		const directoryOffset = tail.readUInt32LE(eocd + 16)
		if (count === 0xffff || directoryOffset === 0xffffffff)
			throw new ZipError('Zip64 archives are not supported.')
		if (directoryOffset + directorySize > size)
			throw new ZipError('The .zip file is damaged (truncated).')
		const directory = Buffer.alloc(directorySize)
		await handle.read(directory, 0, directorySize, directoryOffset)
		const candidates: Entry[] = []
		let offset = 0
		for (let i = 0; i < count; i++) {
			if (offset + 46 > directory.length || directory.readUInt32LE(offset) !== 0x02014b50) {
				throw new ZipError('The .zip file is damaged (bad directory entry).')
			}
			const nameLength = directory.readUInt16LE(offset + 28)
			const name = directory.toString('utf8', offset + 46, offset + 46 + nameLength)
			const current: Entry = {
				name,
				flags: directory.readUInt16LE(offset + 8),
				method: directory.readUInt16LE(offset + 10),
				compressedSize: directory.readUInt32LE(offset + 20),
				uncompressedSize: directory.readUInt32LE(offset + 24),
				localHeaderOffset: directory.readUInt32LE(offset + 42),
			}
			const baseName = name.split('/').pop() ?? ''
			if (!name.endsWith('/') && !name.startsWith('__MACOSX/') && !baseName.startsWith('.'))
				candidates.push(current)
			offset +=
				46 + nameLength + directory.readUInt16LE(offset + 30) + directory.readUInt16LE(offset + 32)
		}
		if (candidates.length !== 1) {
			throw new ZipError(
				`The .zip must contain exactly one CSV file; it contains ${candidates.length} files.`,
			)
		}
		entry = candidates[0]
		if (entry.flags & 1) throw new ZipError('Encrypted .zip files are not supported.')
		if (entry.method !== 0 && entry.method !== 8)
			throw new ZipError('The .zip uses a compression method other than deflate.')
		if (entry.compressedSize === 0xffffffff) throw new ZipError('Zip64 archives are not supported.')
		const local = Buffer.alloc(30)
		await handle.read(local, 0, 30, entry.localHeaderOffset)
		if (local.readUInt32LE(0) !== 0x04034b50)
			throw new ZipError('The .zip file is damaged (bad local header).')
		dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28)
	} finally {
		await handle.close()
	}
	if (entry.compressedSize === 0) return { name: entry.name, size: 0, stream: Readable.from([]) }
	const raw = createReadStream(path, {
		start: dataStart,
		end: dataStart + entry.compressedSize - 1,
		highWaterMark: 1 << 20,
	})
	const body = entry.method === 8 ? raw.pipe(zlib.createInflateRaw()) : raw
	raw.on('error', (error) => body.destroy(error))
	let total = 0
	const limited = new Transform({
		transform(chunk: Buffer, _encoding, callback) {
			total += chunk.length
			if (total > MAX_UNCOMPRESSED_BYTES)
				callback(new ZipError('The file inside the .zip is larger than 1 GB.'))
			else callback(null, chunk)
		},
	})
	body.on('error', (error: Error) =>
		limited.destroy(
			error instanceof ZipError
				? error
				: new ZipError(`The .zip file is damaged: ${error.message}`),
		),
	)
	return { name: entry.name, size: entry.uncompressedSize, stream: body.pipe(limited) }
}
