import { formatBytes } from '#app/lib/messages/thread'

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker'

const LABEL: Record<MediaKind, string> = {
	image: 'Photo',
	video: 'Video',
	audio: 'Audio',
	document: 'Document',
	sticker: 'Sticker',
}

function documentType(filename: string | null, mimeType: string | null) {
	const extension = filename?.match(/\.([a-z0-9]{1,5})$/i)?.[1]
	if (extension) return extension.toUpperCase()
	const subtype = mimeType?.split(';')[0].split('/')[1]
	return subtype ? subtype.toUpperCase() : null
}

/**
 * A message's image, video, audio, document or sticker, loaded through `/media/:messageId` so the
 * Kapso key never reaches the browser. Without a stored message id (a broadcast known only from the
 * ledger) there is nothing to fetch, and only the label shows.
 */
export function MessageMedia({
	messageId,
	media,
	filename,
	mimeType,
	size,
	voice,
	caption,
}: {
	messageId: string | null
	media: MediaKind
	filename: string | null
	mimeType: string | null
	size: number | null
	voice: boolean
	caption: string | null
}) {
	const label = media === 'audio' && voice ? 'Voice message' : LABEL[media]
	if (!messageId) return <div className={`wa-media wa-media-${media}`}>{filename ?? label}</div>
	const src = `/media/${messageId}`
	switch (media) {
		case 'image':
			return (
				<a href={src} target="_blank" rel="noreferrer" className="wa-media-link">
					<img
						src={src}
						alt={caption ?? label}
						loading="lazy"
						style={{ display: 'block', maxWidth: '100%', maxHeight: 320, borderRadius: 6 }}
					/>
				</a>
			)
		case 'sticker':
			return (
				<img
					src={src}
					alt="Sticker"
					loading="lazy"
					width={128}
					height={128}
					style={{ objectFit: 'contain' }}
				/>
			)
		case 'video':
			return (
				<video
					controls
					preload="metadata"
					src={src}
					style={{ display: 'block', maxWidth: '100%', maxHeight: 320, borderRadius: 6 }}
				>
					<a href={src}>{label}</a>
				</video>
			)
		case 'audio':
			return (
				<div className="wa-audio">
					<span className="muted">{voice ? '🎤 Voice message' : '🎵 Audio'}</span>
					<audio controls preload="none" src={src} style={{ display: 'block', maxWidth: '100%' }}>
						<a href={src}>{label}</a>
					</audio>
				</div>
			)
		case 'document': {
			const details = [documentType(filename, mimeType), formatBytes(size)]
				.filter(Boolean)
				.join(' · ')
			return (
				<a
					className="wa-document"
					style={{ display: 'block', marginBottom: '0.25rem' }}
					href={`${src}?download`}
					download={filename ?? undefined}
					data-testid="document-link"
				>
					<span aria-hidden="true">📄</span>{' '}
					<span className="wa-document-name">{filename ?? label}</span>
					{details ? <span className="muted"> · {details}</span> : null}
				</a>
			)
		}
	}
}
