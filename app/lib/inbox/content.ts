/**
 * What a WhatsApp message shows, per type, from the Meta-shaped message object that both Kapso's
 * webhooks and its history return. Shared by the server (previews, search text) and the browser
 * (the message bubble), so every message type is read in exactly one place.
 */

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker'

export type RenderedTemplate = {
	name: string
	header: { format: string; text: string | null } | null
	body: string
	footer: string | null
	buttons: Array<{ type: string; text: string }>
}

export type MessageContent =
	| { kind: 'text'; text: string }
	| { kind: 'template'; template: RenderedTemplate }
	| { kind: 'button'; text: string; payload: string | null }
	| {
			kind: 'interactive'
			replyType: 'button_reply' | 'list_reply' | 'other'
			title: string
			description: string | null
	  }
	| { kind: 'reaction'; emoji: string | null; targetWamid: string | null }
	| {
			kind: 'media'
			media: MediaKind
			caption: string | null
			filename: string | null
			mimeType: string | null
			/** Bytes, from Kapso's stored copy when it reports it. */
			size: number | null
			voice: boolean
	  }
	| {
			kind: 'location'
			latitude: number | null
			longitude: number | null
			name: string | null
			address: string | null
	  }
	| { kind: 'contacts'; contacts: Array<{ name: string; phones: string[] }> }
	| { kind: 'unsupported'; type: string; reason: string | null }

type Json = Record<string, unknown>

function obj(value: unknown): Json {
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {}
}

function str(value: unknown): string | null {
	return typeof value === 'string' && value !== '' ? value : null
}

function num(value: unknown): number | null {
	if (typeof value === 'number' && Number.isFinite(value)) return value
	if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
		return Number(value)
	return null
}

const MEDIA: ReadonlyArray<MediaKind> = ['image', 'video', 'audio', 'document', 'sticker']

/**
 * Reads one message. `type` and `payload` are what is stored in `messages`; `payload.rendered`
 * holds a template as the recipient saw it (written when the app sends one or links a broadcast).
 */
export function messageContent(
	type: string,
	payload: Json,
	body: string | null = null,
): MessageContent {
	switch (type) {
		case 'text':
			return { kind: 'text', text: str(obj(payload.text).body) ?? body ?? '' }
		case 'template': {
			const rendered = obj(payload.rendered)
			if (typeof rendered.body === 'string')
				return { kind: 'template', template: rendered as unknown as RenderedTemplate }
			const template = obj(payload.template)
			return {
				kind: 'template',
				template: {
					name: str(template.name) ?? 'template',
					header: null,
					body: body ?? `Template “${str(template.name) ?? 'unknown'}”`,
					footer: null,
					buttons: [],
				},
			}
		}
		case 'button': {
			const button = obj(payload.button)
			return { kind: 'button', text: str(button.text) ?? body ?? '', payload: str(button.payload) }
		}
		case 'interactive': {
			const interactive = obj(payload.interactive)
			const kind = str(interactive.type)
			const reply = obj(kind === 'list_reply' ? interactive.list_reply : interactive.button_reply)
			return {
				kind: 'interactive',
				replyType: kind === 'button_reply' || kind === 'list_reply' ? kind : 'other',
				title: str(reply.title) ?? body ?? '',
				description: str(reply.description),
			}
		}
		case 'reaction': {
			const reaction = obj(payload.reaction)
			return { kind: 'reaction', emoji: str(reaction.emoji), targetWamid: str(reaction.message_id) }
		}
		case 'location': {
			const location = obj(payload.location)
			return {
				kind: 'location',
				latitude: num(location.latitude),
				longitude: num(location.longitude),
				name: str(location.name),
				address: str(location.address),
			}
		}
		case 'contacts': {
			const list = Array.isArray(payload.contacts) ? payload.contacts : []
			return {
				kind: 'contacts',
				contacts: list.map((entry) => {
					const contact = obj(entry)
					const name = obj(contact.name)
					const phones = Array.isArray(contact.phones) ? contact.phones : []
					return {
						name: str(name.formatted_name) ?? str(name.first_name) ?? 'Contact',
						phones: phones
							.map((phone) => str(obj(phone).phone))
							.filter((p): p is string => p !== null),
					}
				}),
			}
		}
		default: {
			if ((MEDIA as string[]).includes(type)) {
				const media = obj(payload[type])
				const stored = obj(obj(payload.kapso).media_data)
				const filename = str(media.filename) ?? str(stored.filename)
				// `body` holds the list preview; it is a caption only when it is not one of the labels.
				const labels = [MEDIA_LABEL[type as MediaKind], 'Voice message', filename]
				return {
					kind: 'media',
					media: type as MediaKind,
					caption: str(media.caption) ?? (body && !labels.includes(body) ? body : null),
					filename,
					mimeType: str(media.mime_type) ?? str(stored.content_type),
					size: num(stored.byte_size) ?? num(media.file_size),
					voice: media.voice === true,
				}
			}
			const errors = Array.isArray(payload.errors) ? payload.errors : []
			const first = obj(errors[0])
			return {
				kind: 'unsupported',
				type,
				reason: str(obj(first.error_data).details) ?? str(first.title) ?? str(first.message),
			}
		}
	}
}

const MEDIA_LABEL: Record<MediaKind, string> = {
	image: 'Photo',
	video: 'Video',
	audio: 'Audio',
	document: 'Document',
	sticker: 'Sticker',
}

/** One line for the conversation list and for search: what the message says. */
export function previewText(content: MessageContent): string {
	switch (content.kind) {
		case 'text':
			return content.text
		case 'template':
			return content.template.body
		case 'button':
			return content.text
		case 'interactive':
			return content.title
		case 'reaction':
			return content.emoji ? `Reacted ${content.emoji}` : 'Removed a reaction'
		case 'media':
			if (content.media === 'audio' && content.voice) return content.caption ?? 'Voice message'
			return content.caption ?? content.filename ?? MEDIA_LABEL[content.media]
		case 'location':
			return content.name ?? content.address ?? 'Location'
		case 'contacts':
			return content.contacts.map((c) => c.name).join(', ') || 'Contact card'
		case 'unsupported':
			return 'Unsupported message'
	}
}
