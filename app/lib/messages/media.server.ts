import { getKapsoPlatform, type KapsoPlatform } from '#app/lib/kapso/platform.server'
import { findMessageWithSender } from './lookup.server'

const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'document', 'sticker'])

export type OpenedMedia =
	| {
			ok: true
			body: ReadableStream<Uint8Array>
			contentType: string
			contentLength: number | null
			filename: string | null
	  }
	| { ok: false; status: 404 | 502; reason: string }

function obj(value: unknown): Record<string, unknown> {
	return value && typeof value === 'object' && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: {}
}

function str(value: unknown): string | null {
	return typeof value === 'string' && value !== '' ? value : null
}

/**
 * The bytes of a message's image, video, audio, document or sticker, fetched from Kapso with the
 * server's API key and handed back as a stream, so the browser never sees the key or Kapso's URL.
 * Kapso's stored copy (`kapso.media_data`) is tried first; Graph's media id is the fallback.
 */
export async function openMessageMedia(
	messageId: string,
	options: { platform?: KapsoPlatform } = {},
): Promise<OpenedMedia> {
	const row = await findMessageWithSender(messageId)
	if (!row) return { ok: false, status: 404, reason: 'no such message' }
	const platform = options.platform ?? getKapsoPlatform()
	if (!MEDIA_TYPES.has(row.type))
		return { ok: false, status: 404, reason: 'no media in this message' }
	const media = obj(row.payload[row.type])
	const kapso = obj(row.payload.kapso)
	const stored = obj(kapso.media_data)
	const filename = str(media.filename) ?? str(stored.filename)
	const declaredType = str(media.mime_type) ?? str(stored.content_type)

	const kapsoUrl = str(stored.url) ?? str(kapso.media_url)
	const mediaId = str(media.id)
	let lastReason = 'the message has no downloadable media'
	const sources: Array<() => Promise<string | null>> = []
	if (kapsoUrl) sources.push(async () => kapsoUrl)
	if (mediaId)
		sources.push(async () => {
			const info = await platform.getMedia({ phoneNumberId: row.phoneNumberId, mediaId })
			if (info.ok) return info.media.url
			lastReason = info.title
			return null
		})
	for (const source of sources) {
		const url = await source()
		if (!url) continue
		const downloaded = await platform.downloadMedia({ url })
		if (!downloaded.ok) {
			lastReason = downloaded.title
			continue
		}
		const response = downloaded.response
		if (!response.body) continue
		const length = Number(response.headers.get('content-length'))
		return {
			ok: true,
			body: response.body,
			contentType:
				declaredType ?? response.headers.get('content-type') ?? 'application/octet-stream',
			contentLength: Number.isFinite(length) && length > 0 ? length : null,
			filename,
		}
	}
	return { ok: false, status: mediaId || kapsoUrl ? 502 : 404, reason: lastReason }
}
