import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, test } from 'vitest'
import { MessageBubble, type BubbleMessage } from '#app/components/inbox/message-bubble'
import { messageContent, previewText } from '#app/lib/inbox/content'
import { attachReactions } from '#app/lib/messages/thread'

/** One Kapso v2 `whatsapp.message.received` payload per WhatsApp message type. */
const dir = path.resolve(__dirname, '../../tests/fixtures/messages')
const fixtures = Object.fromEntries(
	readdirSync(dir)
		.filter((file) => file.endsWith('.json'))
		.map((file) => {
			const payload = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
				message: Record<string, unknown> & { id: string; type: string }
			}
			return [file.replace(/\.json$/, ''), payload.message]
		}),
)

const MESSAGE_ID = '7c1d6a4e-5b1f-4c11-9a2b-0f6e1c2d3e4f'

function bubble(name: string, overrides: Partial<BubbleMessage> = {}): BubbleMessage {
	const message = fixtures[name]
	return {
		id: MESSAGE_ID,
		direction: 'inbound',
		status: 'received',
		errorCode: null,
		errorTitle: null,
		occurredAt: '2026-11-22T03:00:00.000Z',
		content: messageContent(message.type, message),
		broadcast: null,
		sentBy: null,
		...overrides,
	}
}

function render(name: string, overrides: Partial<BubbleMessage> = {}) {
	return renderToStaticMarkup(
		<MessageBubble message={bubble(name, overrides)} timeZone="America/Argentina/Buenos_Aires" />,
	)
}

describe('every message type renders from its Kapso/Meta payload', () => {
	test('there is a fixture for each type the issue lists', () => {
		expect(Object.keys(fixtures).sort()).toEqual(
			[
				'audio',
				'button',
				'contacts',
				'document',
				'image',
				'interactive-button-reply',
				'interactive-list-reply',
				'location',
				'reaction',
				'sticker',
				'text',
				'unsupported',
				'video',
				'voice',
			].sort(),
		)
	})

	test('text keeps *bold*, _italic_, ~strike~ and ```mono```', () => {
		const html = render('text')
		expect(html).toContain('<strong>encanta</strong>')
		expect(html).toContain('<em>de verdad</em>')
		expect(html).toContain('<s>pie</s>')
		expect(html).toContain('<code>PROMO10</code>')
	})

	test('image, video, sticker and audio load through /media, never from Kapso directly', () => {
		const image = render('image')
		expect(image).toContain(`<img src="/media/${MESSAGE_ID}"`)
		expect(image).toContain('Así llegó el <strong>pedido</strong>')
		expect(render('video')).toContain(
			`<video controls="" preload="metadata" src="/media/${MESSAGE_ID}"`,
		)
		expect(render('sticker')).toMatch(new RegExp(`<img src="/media/${MESSAGE_ID}" alt="Sticker"`))
		const audio = render('audio')
		expect(audio).toContain(`<audio controls="" preload="none" src="/media/${MESSAGE_ID}"`)
		expect(audio).toContain('🎵 Audio')
		expect(render('voice')).toContain('🎤 Voice message')
		// The stored list preview ("Voice message") is not taken for a caption.
		const voice = fixtures.voice
		expect(messageContent(voice.type, voice, 'Voice message')).toMatchObject({
			caption: null,
			voice: true,
		})
		for (const name of ['image', 'video', 'sticker', 'audio', 'voice', 'document'])
			expect(render(name), name).not.toContain('api.kapso.ai')
	})

	test('a document shows its file name, type and size, and downloads through the app', () => {
		const html = render('document')
		expect(html).toContain('Factura F001-2231.pdf')
		expect(html).toContain('PDF · 1.2 MB')
		expect(html).toContain(`href="/media/${MESSAGE_ID}?download"`)
		expect(html).toContain('Adjunto la factura')
	})

	test('a ledger-only message (no stored id) shows the media label instead of a broken link', () => {
		const html = render('document', { id: 'broadcast-12' })
		expect(html).not.toContain('/media/')
		expect(html).toContain('Factura F001-2231.pdf')
	})

	test('location has name, address and a map link', () => {
		const html = render('location')
		expect(html).toContain('Obelisco')
		expect(html).toContain('Av. 9 de Julio s/n, C1043 CABA')
		expect(html).toContain('openstreetmap.org/?mlat=-34.6037&amp;mlon=-58.3816')
	})

	test('contacts card shows the name and phone', () => {
		const html = render('contacts')
		expect(html).toContain('Martín Pérez')
		expect(html).toContain('+54 9 11 5555-0199')
	})

	test('interactive and quick-reply buttons show the text that was tapped', () => {
		expect(render('interactive-button-reply')).toMatch(/Tapped button<\/span> Confirmar pedido/)
		const list = render('interactive-list-reply')
		expect(list).toContain('Chose from list')
		expect(list).toContain('Mañana (9–12 h)')
		expect(list).toContain('Entrega en horario de mañana')
		expect(render('button')).toMatch(/Tapped button<\/span> No más promociones/)
	})

	test('a reaction is shown on the message it reacts to', () => {
		const target = fixtures.reaction.reaction as { message_id: string }
		const thread = attachReactions([
			{
				...bubble('text', { id: 'b7c2a1d0-0000-4000-8000-000000000001', direction: 'outbound' }),
				wamid: target.message_id,
			},
			{
				...bubble('reaction', { id: 'b7c2a1d0-0000-4000-8000-000000000002' }),
				wamid: String(fixtures.reaction.id),
			},
		])
		expect(thread).toHaveLength(1)
		const html = renderToStaticMarkup(<MessageBubble message={thread[0]} timeZone="UTC" />)
		expect(html).toContain('aria-label="Contact reacted ❤️"')
	})

	test('unsupported messages carry a clear label and the reason', () => {
		const html = render('unsupported')
		expect(html).toContain('Unsupported message')
		expect(html).toContain('Message type is currently not supported. Open WhatsApp')
	})

	test('a deleted message shows as deleted, not its text', () => {
		const html = render('text', { direction: 'outbound', status: 'deleted' })
		expect(html).toContain('This message was deleted')
		expect(html).not.toContain('encanta')
		expect(html).toContain('data-status="deleted"')
	})

	test('every fixture has a preview line for the conversation list', () => {
		for (const [name, message] of Object.entries(fixtures))
			expect(previewText(messageContent(message.type, message)), name).not.toBe('')
	})
})
