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
