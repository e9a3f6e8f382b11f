import type { ReactNode } from 'react'
import {
	examplesByKey,
	findComponent,
	type HeaderComponent,
	type TemplateButton,
	type TemplateComponent,
} from '#app/lib/templates/definition'
import {
	fillExamples,
	parseWhatsAppFormatting,
	type FormattedNode,
} from '#app/lib/templates/format'

const STYLE_TAG = { bold: 'strong', italic: 'em', strike: 's', mono: 'code' } as const

function renderFormatted(nodes: FormattedNode[]): ReactNode[] {
	return nodes.map((node, i) => {
		if (typeof node === 'string') return node
		const Tag = STYLE_TAG[node.style]
		return <Tag key={i}>{renderFormatted(node.children)}</Tag>
	})
}

type SampleLocation = {
	latitude: number | null
	longitude: number | null
	name: string | null
	address: string | null
}

/** The header's sample location, read defensively: stored definitions are whatever was saved. */
function sampleLocation(header: HeaderComponent): SampleLocation | null {
	const value: Record<string, unknown> | undefined = header.example?.location
	if (!value || typeof value !== 'object') return null
	const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)
	const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null)
	return {
		latitude: number(value.latitude),
		longitude: number(value.longitude),
		name: text(value.name),
		address: text(value.address),
	}
}

/** The sample document's file name: the last segment of the sample's URL, when it has one. */
function sampleFileName(header: HeaderComponent): string | null {
	const handle = header.example?.header_handle?.[0]
	if (!handle) return null
	try {
		const segment = decodeURIComponent(new URL(handle).pathname.split('/').pop() ?? '')
		return /\.[a-z0-9]{1,5}$/i.test(segment) ? segment : null
	} catch {
		return null
	}
}

function MediaHeader({ header }: { header: HeaderComponent }) {
	switch (header.format) {
		case 'IMAGE':
			return (
				<div className="wa-media wa-media-image" role="img" aria-label="Image header">
					<span className="wa-media-icon" aria-hidden="true">
						🖼
					</span>
				</div>
			)
		case 'VIDEO':
			return (
				<div className="wa-media wa-media-video" role="img" aria-label="Video header">
					<span className="wa-play" aria-hidden="true">
						▶
					</span>
				</div>
			)
		case 'DOCUMENT': {
			const fileName = sampleFileName(header)
			const extension = fileName?.split('.').pop()?.toUpperCase() ?? null
			return (
				<div className="wa-document" aria-label="Document header">
					<span className="wa-document-icon" aria-hidden="true">
						{extension ?? '📄'}
					</span>
					<span className="wa-document-text">
						<span className="wa-document-name">{fileName ?? 'Document'}</span>
						<span className="wa-document-meta">{extension ?? 'File'} · sent with each message</span>
					</span>
				</div>
			)
		}
		case 'LOCATION': {
			const location = sampleLocation(header)
			const link =
				location?.latitude != null && location.longitude != null
					? `https://www.openstreetmap.org/?mlat=${location.latitude}&mlon=${location.longitude}#map=16/${location.latitude}/${location.longitude}`
					: null
			return (
				<div className="wa-location">
					<div className="wa-media wa-media-location" role="img" aria-label="Map">
						<span className="wa-pin" aria-hidden="true">
							📍
						</span>
					</div>
					{location?.name || location?.address ? (
						<div className="wa-location-text">
							{location.name ? <div className="wa-location-name">{location.name}</div> : null}
							{location.address ? (
								<div className="wa-location-address">{location.address}</div>
							) : null}
						</div>
					) : (
						<div className="wa-location-address">Location sent with each message</div>
					)}
					{link ? (
						<a className="wa-location-link" href={link} target="_blank" rel="noreferrer">
							Open map
						</a>
					) : null}
				</div>
			)
		}
		default:
			return null
	}
}

function buttonIcon(button: TemplateButton) {
	switch (button.type) {
		case 'URL':
			return '↗'
		case 'PHONE_NUMBER':
			return '📞'
		case 'COPY_CODE':
		case 'OTP':
			return '⧉'
		default:
			return '↩'
	}
}

function buttonLabel(button: TemplateButton) {
	if (button.type === 'COPY_CODE') return 'Copy offer code'
	if (button.type === 'OTP') return button.text || 'Copy code'
	return button.text || ' '
}

/**
 * The template as a WhatsApp chat bubble, with each variable replaced by its example. Accepts an
 * incomplete definition, since the editor renders it on every keystroke.
 */
export function TemplatePreview({
	components,
	category,
}: {
	components: readonly TemplateComponent[]
	category?: string
}) {
	const header = findComponent(components, 'HEADER')
	const body = findComponent(components, 'BODY')
	const footer = findComponent(components, 'FOOTER')
	const buttons = findComponent(components, 'BUTTONS')?.buttons ?? []
	const isAuth = category === 'AUTHENTICATION'

	const headerText =
		header?.format === 'TEXT' && header.text
			? fillExamples(header.text, examplesByKey(header))
			: null
	let bodyText = body?.text ? fillExamples(body.text, examplesByKey(body)) : ''
	if (isAuth) {
		bodyText = '*123456* is your verification code.'
		if (body?.add_security_recommendation) bodyText += ' For your security, do not share this code.'
	}
	const footerText = footer?.text
		? footer.text
		: isAuth && footer?.code_expiration_minutes
			? `This code expires in ${footer.code_expiration_minutes} minutes.`
			: null
	// WhatsApp shows up to three buttons; with more, two and a "See all options" list.
	const visible = buttons.length > 3 ? buttons.slice(0, 2) : buttons

	return (
		<div className="wa-preview" data-testid="template-preview" aria-label="Message preview">
			<div className="wa-bubble">
				{header && header.format !== 'TEXT' ? <MediaHeader header={header} /> : null}
				{headerText ? <div className="wa-header">{headerText}</div> : null}
				<div className="wa-body">
					{bodyText ? (
						renderFormatted(parseWhatsAppFormatting(bodyText))
					) : (
						<span className="muted">Message text</span>
					)}
				</div>
				{footerText ? <div className="wa-footer">{footerText}</div> : null}
				<div className="wa-time" aria-hidden="true">
					12:00
				</div>
			</div>
			{visible.length > 0 ? (
				<div className="wa-buttons">
					{visible.map((button, i) => (
						<div key={i} className="wa-button">
							<span aria-hidden="true">{buttonIcon(button)}</span> {buttonLabel(button)}
						</div>
					))}
					{buttons.length > 3 ? (
						<div className="wa-button">
							<span aria-hidden="true">☰</span> See all options
						</div>
					) : null}
				</div>
			) : null}
		</div>
	)
}
