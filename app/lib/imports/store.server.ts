import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { getEnv } from '#app/lib/env.server'

/** The upload went past the size limit; nothing was kept. `status` is the HTTP answer. */
export class UploadTooLargeError extends Error {
	readonly status = 413
	constructor(readonly maxBytes: number) {
		super(
			`The file is larger than ${formatMegabytes(maxBytes)}. Split it into smaller files, or zip it.`,
		)
	}
}

export type StoredFile = { path: string; size: number; sha256: string }

export function uploadsDir() {
	return path.resolve(getEnv().PREGON_DATA_DIR, 'uploads')
}

/**
 * Streams an upload to `${PREGON_DATA_DIR}/uploads/<uuid>`, hashing as it goes, and stops at the
 * first byte past `maxBytes` (deleting what was written) so an oversized file is refused before
 * anything parses it and without holding it in memory.
 */
export async function storeUpload(
	source: Readable | AsyncIterable<Uint8Array>,
	{ maxBytes = getEnv().UPLOAD_MAX_BYTES }: { maxBytes?: number } = {},
): Promise<StoredFile> {
	const dir = uploadsDir()
	await fs.mkdir(dir, { recursive: true })
	const target = path.join(dir, randomUUID())
	const hash = createHash('sha256')
	let size = 0
	const meter = new Transform({
		transform(chunk: Buffer, _encoding, callback) {
			size += chunk.length
			if (size > maxBytes) return callback(new UploadTooLargeError(maxBytes))
			hash.update(chunk)
			callback(null, chunk)
		},
	})
	try {
		await pipeline(source, meter, createWriteStream(target, { flags: 'wx', mode: 0o600 }))
	} catch (error) {
		await fs.rm(target, { force: true })
		throw error
	}
	return { path: target, size, sha256: hash.digest('hex') }
}

/** Size and hash of a file already on disk (the CLI imports files in place). */
export async function describeFile(filePath: string): Promise<StoredFile> {
	const hash = createHash('sha256')
	let size = 0
	for await (const chunk of createReadStream(filePath) as AsyncIterable<Buffer>) {
		size += chunk.length
		hash.update(chunk)
	}
	return { path: path.resolve(filePath), size, sha256: hash.digest('hex') }
}

/** Deletes a stored upload; files outside the uploads folder (CLI imports) are never touched. */
export async function removeStoredUpload(filePath: string) {
	const resolved = path.resolve(filePath)
	if (path.dirname(resolved) !== uploadsDir()) return
	await fs.rm(resolved, { force: true })
}

function formatMegabytes(bytes: number) {
	return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`
}
