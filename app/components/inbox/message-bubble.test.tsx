import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, test } from 'vitest'
import { messageContent, previewText } from '#app/lib/inbox/content'
import { MessageBubble, type BubbleMessage } from './message-bubble'
import { MESSAGE_FIXTURES } from './message-fixtures'

function render(type: string, overrides: Partial<BubbleMessage> = {}) {
	const payload = MESSAGE_FIXTURES[type]
	const message: BubbleMessage = {
		id: type,
		direction: 'inbound',
		status: 'received',
		errorCode: null,
		errorTitle: null,
		occurredAt: '2026-11-22T10:05:00.000Z',
		content: messageContent(String(payload.type), payload),
		broadcast: null,
		sentBy: null,
		...overrides,
	}
	return renderToStaticMarkup(<MessageBubble message={message} timeZone="America/Lima" />)
}

describe('message bubble, one fixture per type', () => {
	test('text keeps WhatsApp formatting as elements, never as HTML', () => {
		const html = render('text')
		expect(html).toContain(
			'Hola <strong>Ana</strong>, <em>¿vienes?</em> <s>no</s> <code>code</code>',
		)
		expect(html).toContain('05:05')
		expect(render('text', { content: { kind: 'text', text: '<script>x</script>' } })).toContain(
			'&lt;script&gt;',
		)
	})

	test('template shows header, formatted body, footer and buttons as sent', () => {
		const html = render('template', {
			direction: 'outbound',
			status: 'delivered',
			broadcast: { id: 'b', name: 'Black Friday' },
		})
		expect(html).toContain('Broadcast: Black Friday')
		expect(html).toContain('<div class="wa-header">Hola Lucía</div>')
		expect(html).toContain('Tu código <strong>BF-77</strong> vence hoy.')
		expect(html).toContain('Responde BAJA')
		expect(html).toContain('No más promos')
		expect(html).toContain('data-status="delivered"')
	})

	test('button and list replies show what was tapped', () => {
		expect(render('button')).toMatch(/Tapped button<\/span> No más promos/)
		const list = render('interactive')
		expect(list).toContain('Chose from list')
		expect(list).toContain('Envío a domicilio')
		expect(list).toContain('Llega en 48 h')
	})

	test('a reaction shows its emoji', () => {
		expect(render('reaction')).toContain('aria-label="Reaction 👍"')
		expect(previewText(messageContent('reaction', MESSAGE_FIXTURES.reaction))).toBe('Reacted 👍')
	})

	test('unsupported messages say so with the reason', () => {
		const html = render('unsupported')
		expect(html).toContain('Unsupported message')
		expect(html).toContain('Message type is currently not supported.')
	})

	test('media, location and contact cards', () => {
		expect(render('image')).toContain('Mi <strong>ticket</strong>')
		expect(render('audio')).toContain('Voice message')
		expect(render('document')).toContain('factura-0042.pdf')
		expect(render('video')).toContain('Video')
		expect(render('sticker')).toContain('Sticker')
		const location = render('location')
		expect(location).toContain('Obelisco')
		expect(location).toContain('openstreetmap.org/?mlat=-34.6037&amp;mlon=-58.3816')
		expect(render('contacts')).toContain('Pedro Gómez')
	})

	test('outbound failures show the reason next to the ticks', () => {
		const html = render('text', {
			direction: 'outbound',
			status: 'failed',
			errorCode: 131047,
			errorTitle: 'Re-engagement message',
		})
		expect(html).toContain('data-status="failed"')
		expect(html).toContain('Re-engagement message (code 131047)')
	})

	test('every fixture type has a preview line for the list', () => {
		for (const [type, payload] of Object.entries(MESSAGE_FIXTURES)) {
			expect(previewText(messageContent(String(payload.type), payload)), type).not.toBe('')
		}
	})
})
