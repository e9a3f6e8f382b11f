import type { ReactNode } from 'react'
import type { MessageContent, RenderedTemplate } from '#app/lib/inbox/content'
import { parseWhatsAppFormatting, type FormattedNode } from '#app/lib/templates/format'
import { formatDateTime } from '#app/utils/format'
import { MessageMedia } from '#app/components/message-media'
import type { Reaction } from '#app/lib/messages/thread'

export type BubbleMessage = {
	id: string
	direction: 'inbound' | 'outbound'
	status: string
	errorCode: number | null
	errorTitle: string | null
	occurredAt: string
	content: MessageContent
	broadcast: { id: string; name: string } | null
	sentBy: string | null
	/** Reactions to this message, moved onto it from their own messages (attachReactions). */
	reactions?: Reaction[]
}

// Stored messages have uuid ids; ledger-only broadcast messages and pending ones have nothing to fetch.
const STORED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const STYLE_TAG = { bold: 'strong', italic: 'em', strike: 's', mono: 'code' } as const

function Formatted({ text }: { text: string }) {
	const render = (nodes: FormattedNode[]): ReactNode[] =>
		nodes.map((node, i) => {
			if (typeof node === 'string') return node
			const Tag = STYLE_TAG[node.style]
			return <Tag key={i}>{render(node.children)}</Tag>
		})
	return <>{render(parseWhatsAppFormatting(text))}</>
}

const MEDIA_ICON = { image: '🖼', video: '▶', audio: '🎵', document: '📄', sticker: '🙂' } as const
const MEDIA_LABEL = {
	image: 'Photo',
	video: 'Video',
	audio: 'Audio',
	document: 'Document',
	sticker: 'Sticker',
} as const

function TemplateBody({ template }: { template: RenderedTemplate }) {
	return (
		<>
			{template.header && template.header.format !== 'TEXT' ? (
				<div className="wa-media">{template.header.format.toLowerCase()} header</div>
			) : null}
			{template.header?.text ? <div className="wa-header">{template.header.text}</div> : null}
			<div className="wa-body">
				<Formatted text={template.body} />
			</div>
			{template.footer ? <div className="wa-footer">{template.footer}</div> : null}
			{template.buttons.length > 0 ? (
				<div className="bubble-buttons">
					{template.buttons.map((button, i) => (
						<span key={i} className="bubble-button">
							{button.type === 'URL' ? '↗ ' : button.type === 'PHONE_NUMBER' ? '📞 ' : '↩ '}
							{button.text}
						</span>
					))}
				</div>
			) : null}
		</>
	)
}

/** The inside of a bubble, one case per message type (issue 10 adds media fetching and more). */
export function MessageBody({
	content,
	messageId = null,
}: {
	content: MessageContent
	/** The stored message, so its media can be fetched through /media. */
	messageId?: string | null
}) {
	switch (content.kind) {
		case 'text':
			return (
				<div className="wa-body">
					<Formatted text={content.text} />
				</div>
			)
		case 'template':
			return <TemplateBody template={content.template} />
		case 'button':
			return (
				<div className="wa-body">
					<span className="bubble-tag">Tapped button</span> {content.text}
				</div>
			)
		case 'interactive':
			return (
				<div className="wa-body">
					<span className="bubble-tag">
						{content.replyType === 'list_reply' ? 'Chose from list' : 'Tapped button'}
					</span>{' '}
					{content.title}
					{content.description ? <div className="muted">{content.description}</div> : null}
				</div>
			)
		case 'reaction':
			return (
				<div className="wa-body bubble-reaction">
					{content.emoji ? (
						<>
							<span className="bubble-emoji" aria-label={`Reaction ${content.emoji}`}>
								{content.emoji}
							</span>{' '}
							<span className="muted">reacted to a message</span>
						</>
					) : (
						<span className="muted">Removed a reaction</span>
					)}
				</div>
			)
		case 'media':
			return (
				<div className="wa-body">
					{messageId ? (
						<MessageMedia
							messageId={messageId}
							media={content.media}
							filename={content.filename}
							mimeType={content.mimeType}
							size={content.size}
							voice={content.voice}
							caption={content.caption}
						/>
					) : (
						<div className={`wa-media wa-media-${content.media}`}>
							{MEDIA_ICON[content.media]}{' '}
							{content.media === 'audio' && content.voice
								? 'Voice message'
								: (content.filename ?? MEDIA_LABEL[content.media])}
						</div>
					)}
					{content.caption ? <Formatted text={content.caption} /> : null}
				</div>
			)
		case 'location': {
			const link =
				content.latitude != null && content.longitude != null
					? `https://www.openstreetmap.org/?mlat=${content.latitude}&mlon=${content.longitude}#map=16/${content.latitude}/${content.longitude}`
					: null
			return (
				<div className="wa-body">
					📍 {content.name ?? 'Location'}
					{content.address ? <div className="muted">{content.address}</div> : null}
					{link ? (
						<a href={link} target="_blank" rel="noreferrer">
							Open map
						</a>
					) : null}
				</div>
			)
		}
		case 'contacts':
			return (
				<div className="wa-body">
					{content.contacts.map((contact, i) => (
						<div key={i}>
							👤 {contact.name}
							{contact.phones.length > 0 ? (
								<div className="muted">{contact.phones.join(', ')}</div>
							) : null}
						</div>
					))}
				</div>
			)
		case 'unsupported':
			return (
				<div className="wa-body bubble-unsupported">
					<span className="bubble-tag">Unsupported message</span> WhatsApp did not pass on this{' '}
					{content.type === 'unsupported' ? 'message' : `“${content.type}” message`}
					{content.reason ? `: ${content.reason.replace(/\.$/, '')}` : ''}. Open WhatsApp on the
					phone to see it.
				</div>
			)
	}
}

const STATUS_LABEL: Record<string, string> = {
	sending: 'Sending',
	sent: 'Sent',
	delivered: 'Delivered',
	read: 'Read',
	failed: 'Failed',
	unknown: 'Not confirmed',
	deleted: 'Deleted',
}

/** Delivery ticks as WhatsApp shows them, with the state in words for screen readers and tests. */
export function StatusTicks({ status }: { status: string }) {
	const label = STATUS_LABEL[status] ?? status
	const mark =
		status === 'sending'
			? '🕓'
			: status === 'sent'
				? '✓'
				: status === 'delivered' || status === 'read'
					? '✓✓'
					: status === 'failed'
						? '⚠'
						: status === 'deleted'
							? '🚫'
							: '?'
	return (
		<span
			className={`ticks ticks-${status}`}
			data-testid="message-status"
			data-status={status}
			title={label}
		>
			<span aria-hidden="true">{mark}</span>
			<span className="ticks-label">{label}</span>
		</span>
	)
}

function timeOf(iso: string, timeZone: string) {
	return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' }).format(
		new Date(iso),
	)
}

export function MessageBubble({
	message,
	timeZone,
	children,
}: {
	message: BubbleMessage
	timeZone: string
	/** Actions shown under the bubble's content (e.g. "Send again" on a failed reply). */
	children?: ReactNode
}) {
	const outbound = message.direction === 'outbound'
	return (
		<div
			className={`bubble-row ${outbound ? 'bubble-row-out' : 'bubble-row-in'}`}
			data-testid="message"
			data-direction={message.direction}
		>
			<div
				className={`bubble ${outbound ? 'bubble-out' : 'bubble-in'} bubble-${message.content.kind}`}
			>
				{message.broadcast ? (
					<div className="bubble-context">
						{outbound ? 'Broadcast' : 'Reply to broadcast'}: {message.broadcast.name}
					</div>
				) : null}
				{message.status === 'deleted' ? (
					<div className="wa-body bubble-deleted">
						<em className="muted">🚫 This message was deleted</em>
					</div>
				) : (
					<MessageBody
						content={message.content}
						messageId={STORED_ID.test(message.id) ? message.id : null}
					/>
				)}
				<div className="bubble-meta">
					{outbound && message.sentBy ? <span>{message.sentBy} · </span> : null}
					<time dateTime={message.occurredAt} title={formatDateTime(message.occurredAt, timeZone)}>
						{timeOf(message.occurredAt, timeZone)}
					</time>
					{outbound ? <StatusTicks status={message.status} /> : null}
				</div>
				{outbound &&
				(message.status === 'failed' || message.status === 'unknown') &&
				message.errorTitle ? (
					<div className="bubble-error" role="alert">
						{message.errorTitle}
						{message.errorCode && message.errorCode > 599 ? ` (code ${message.errorCode})` : ''}
					</div>
				) : null}
				{message.reactions && message.reactions.length > 0 ? (
					<div
						className="bubble-reactions"
						data-testid="reactions"
						style={{ display: 'flex', gap: '0.25rem', fontSize: '1.1rem', marginTop: '0.25rem' }}
					>
						{message.reactions.map((reaction) => (
							<span
								key={reaction.from}
								role="img"
								aria-label={`${reaction.from === 'inbound' ? 'Contact' : 'Team'} reacted ${reaction.emoji}`}
							>
								{reaction.emoji}
							</span>
						))}
					</div>
				) : null}
				{children}
			</div>
		</div>
	)
}
