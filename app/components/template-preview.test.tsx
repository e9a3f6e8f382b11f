import { renderToStaticMarkup } from 'react-dom/server'
import { expect, test } from 'vitest'
import { TemplatePreview } from './template-preview'

test('renders the bubble with examples, formatting, footer and buttons', () => {
	const html = renderToStaticMarkup(
		<TemplatePreview
			category="MARKETING"
			components={[
				{ type: 'HEADER', format: 'TEXT', text: 'Hello {{1}}', example: { header_text: ['Ann'] } },
				{
					type: 'BODY',
					text: 'Your *order* {{1}} ships _today_.',
					example: { body_text: [['A-42']] },
				},
				{ type: 'FOOTER', text: 'Reply STOP to opt out' },
				{
					type: 'BUTTONS',
					buttons: [
						{
							type: 'URL',
							text: 'Track',
							url: 'https://s.example/{{1}}',
							example: ['https://s.example/A-42'],
						},
						{ type: 'QUICK_REPLY', text: 'Stop' },
					],
				},
			]}
		/>,
	)
	expect(html).toContain('Hello Ann')
	expect(html).toContain('Your <strong>order</strong> A-42 ships <em>today</em>.')
	expect(html).toContain('Reply STOP to opt out')
	expect(html).toContain('Track')
	expect(html).toContain('Stop')
	expect(html).not.toContain('{{1}}')
})

test('shows a media placeholder and collapses more than three buttons', () => {
	const html = renderToStaticMarkup(
		<TemplatePreview
			components={[
				{ type: 'HEADER', format: 'IMAGE', example: { header_handle: ['h'] } },
				{ type: 'BODY', text: 'Hi {{1}} there.' },
				{
					type: 'BUTTONS',
					buttons: ['a', 'b', 'c', 'd'].map((text) => ({ type: 'QUICK_REPLY' as const, text })),
				},
			]}
		/>,
	)
	expect(html).toContain('Image')
	expect(html).toContain('Hi {{1}} there.')
	expect(html).toContain('See all options')
	expect(html.match(/class="wa-button"/g)).toHaveLength(3)
})

const body = { type: 'BODY' as const, text: 'See you there.' }

test('a video header is a dark frame with a play button, not a text label', () => {
	const html = renderToStaticMarkup(
		<TemplatePreview
			components={[
				{ type: 'HEADER', format: 'VIDEO', example: { header_handle: ['4::aW1hZ2U='] } },
				body,
			]}
		/>,
	)
	expect(html).toContain('class="wa-media wa-media-video"')
	expect(html).toContain('aria-label="Video header"')
	expect(html).toContain('class="wa-play"')
	expect(html).not.toContain('▶ Video')
})

test('a document header shows the sample file name and its type, like WhatsApp', () => {
	const html = renderToStaticMarkup(
		<TemplatePreview
			components={[
				{
					type: 'HEADER',
					format: 'DOCUMENT',
					example: {
						header_handle: ['https://scontent.whatsapp.net/v/t61/Factura%20F001-2231.pdf?ccb=1-7'],
					},
				},
				body,
			]}
		/>,
	)
	expect(html).toContain('class="wa-document"')
	expect(html).toContain('<span class="wa-document-name">Factura F001-2231.pdf</span>')
	expect(html).toContain('PDF · sent with each message')
})

test('a document header without a sample URL still reads as a document', () => {
	const html = renderToStaticMarkup(
		<TemplatePreview
			components={[
				{ type: 'HEADER', format: 'DOCUMENT', example: { header_handle: ['4::aW1hZ2U='] } },
				body,
			]}
		/>,
	)
	expect(html).toContain('<span class="wa-document-name">Document</span>')
})

test('a location header shows the name, the address and a map link from the example', () => {
	const header = {
		type: 'HEADER' as const,
		format: 'LOCATION' as const,
		example: {
			location: {
				latitude: -34.6037,
				longitude: -58.3816,
				name: 'Obelisco',
				address: 'Av. 9 de Julio s/n, C1043 CABA',
			},
		},
	}
	const html = renderToStaticMarkup(<TemplatePreview components={[header, body]} />)
	expect(html).toContain('class="wa-media wa-media-location"')
	expect(html).toContain('<div class="wa-location-name">Obelisco</div>')
	expect(html).toContain('<div class="wa-location-address">Av. 9 de Julio s/n, C1043 CABA</div>')
	expect(html).toContain(
		'href="https://www.openstreetmap.org/?mlat=-34.6037&amp;mlon=-58.3816#map=16/-34.6037/-58.3816"',
	)
	expect(html).not.toContain('📍 Location')
})

test('a location header without a sample says the place comes with each message, no map link', () => {
	const html = renderToStaticMarkup(
		<TemplatePreview components={[{ type: 'HEADER', format: 'LOCATION' }, body]} />,
	)
	expect(html).toContain('class="wa-media wa-media-location"')
	expect(html).toContain('Location sent with each message')
	expect(html).not.toContain('openstreetmap')
})
