import type { ReactNode } from 'react'
import {
	examplesByKey,
	findComponent,
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

const MEDIA_LABEL = {
	IMAGE: '🖼 Image',
	VIDEO: '▶ Video',
	DOCUMENT: '📄 Document',
	LOCATION: '📍 Location',
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
				{header && header.format !== 'TEXT' ? (
					<div className={`wa-media wa-media-${header.format.toLowerCase()}`}>
						{MEDIA_LABEL[header.format]}
					</div>
				) : null}
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
