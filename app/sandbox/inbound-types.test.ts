import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { messageContent, previewText, type MessageContent } from '#app/lib/inbox/content'
import { verifyKapsoSignature } from '#app/lib/kapso/signatures'
import { factsOf, type InboundFact } from '#app/lib/webhooks/events'
import { kapsoEvents } from '#app/lib/webhooks/ingest.server'
import { INBOUND_TYPES, type InboundType } from './extras'
import { createSandboxServer, type SandboxServer } from './server'

/**
 * The sandbox produces every inbound message type it lists, and each one reaches the app as a
 * webhook that the app's own code accepts and reads: the signature check, the ingest parser
 * (what is stored), the event parser (what processing acts on) and the inbox's per-type reader
 * (what the bubble shows).
 */

const SECRET = 'inbound-types-secret'
const PHONE = '100000000000077'
const FROM = '+51 987 111 222'

type Delivery = { headers: http.IncomingHttpHeaders; raw: Buffer }
let receiver: http.Server
let sandbox: SandboxServer
const deliveries: Delivery[] = []

beforeAll(async () => {
	receiver = http.createServer((req, res) => {
		const chunks: Buffer[] = []
		req.on('data', (chunk: Buffer) => chunks.push(chunk))
		req.on('end', () => {
			deliveries.push({ headers: req.headers, raw: Buffer.concat(chunks) })
			res.writeHead(200).end('ok')
		})
	})
	await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
	const port = (receiver.address() as AddressInfo).port
	sandbox = await createSandboxServer({
		webhookUrl: `http://127.0.0.1:${port}/webhooks/kapso`,
		webhookSecret: SECRET,
	})
})

afterAll(async () => {
	await sandbox.close()
	await new Promise((resolve) => receiver.close(resolve))
})

async function simulate(type: InboundType, contextWamid?: string) {
	const response = await fetch(`${sandbox.url}/_sandbox/simulate/message`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ type, from: FROM, phoneNumberId: PHONE, contextWamid }),
	})
	expect(response.status).toBe(200)
	return ((await response.json()) as { wamid: string }).wamid
}

/** The inbound fact the app draws from the webhook that carried `wamid`, through its own parsers. */
async function inboundFactFor(wamid: string): Promise<InboundFact> {
	expect(await sandbox.idle(10_000)).toBe(true)
	const facts = deliveries.flatMap((delivery) => {
		expect(
			verifyKapsoSignature(delivery.raw, delivery.headers['x-webhook-signature'] as string, SECRET),
		).toBe(true)
		const stored = kapsoEvents(delivery.raw, delivery.headers)
		if (typeof stored === 'string') throw new Error(`ingest refused the webhook: ${stored}`)
		return stored.flatMap((event) =>
			factsOf({
				source: event.source,
				eventType: event.eventType,
				payload: JSON.parse(event.payload),
				receivedAt: new Date(),
			}),
		)
	})
	const mine = facts.filter((fact) => 'wamid' in fact && fact.wamid === wamid)
	expect(mine).toHaveLength(1)
	expect(mine[0].kind).toBe('inbound')
	return mine[0] as InboundFact
}

const media = (
	kind: 'image' | 'video' | 'audio' | 'document' | 'sticker',
	mimeType: string,
	rest: Partial<Extract<MessageContent, { kind: 'media' }>> = {},
): MessageContent => ({
	kind: 'media',
	media: kind,
	caption: null,
	filename: null,
	mimeType,
	size: null,
	voice: false,
	...rest,
})

/** Per type: the Meta type the webhook carries and what the inbox shows for it. */
const EXPECTED: Record<InboundType, { metaType: string; content: MessageContent }> = {
	text: {
		metaType: 'text',
		content: { kind: 'text', text: 'Hola, *quiero* saber el _precio_' },
	},
	image: {
		metaType: 'image',
		content: media('image', 'image/png', { caption: 'Look at this photo' }),
	},
	video: {
		metaType: 'video',
		content: media('video', 'video/mp4', { caption: 'Look at this video' }),
	},
	audio: { metaType: 'audio', content: media('audio', 'audio/mpeg') },
	voice: { metaType: 'audio', content: media('audio', 'audio/ogg; codecs=opus', { voice: true }) },
	document: {
		metaType: 'document',
		content: media('document', 'application/pdf', {
			caption: 'Here is the file',
			filename: 'Price list 2026.pdf',
		}),
	},
	sticker: { metaType: 'sticker', content: media('sticker', 'image/webp') },
	location: {
		metaType: 'location',
		content: {
			kind: 'location',
			latitude: -12.0464,
			longitude: -77.0428,
			name: 'Plaza Mayor',
			address: 'Jr. de la Unión, Lima 15001',
		},
	},
	contacts: {
		metaType: 'contacts',
		content: { kind: 'contacts', contacts: [{ name: 'Ana Torres', phones: ['+51 987 654 321'] }] },
	},
	button_reply: {
		metaType: 'interactive',
		content: {
			kind: 'interactive',
			replyType: 'button_reply',
			title: 'Confirm',
			description: null,
		},
	},
	list_reply: {
		metaType: 'interactive',
		content: {
			kind: 'interactive',
			replyType: 'list_reply',
			title: 'Medium',
			description: 'Fits most people',
		},
	},
	button: { metaType: 'button', content: { kind: 'button', text: 'Yes, please', payload: 'YES' } },
	// `targetWamid` is the message reacted to; filled in by the test.
	reaction: { metaType: 'reaction', content: { kind: 'reaction', emoji: '👍', targetWamid: null } },
	unsupported: {
		metaType: 'unsupported',
		content: {
			kind: 'unsupported',
			type: 'unsupported',
			reason: 'Message type is currently not supported.',
		},
	},
}

describe('the sandbox produces every inbound message type in a shape the app reads', () => {
	test('each type arrives as a signed whatsapp.message.received the inbox renders as that type', async () => {
		const target = await simulate('text')
		for (const type of INBOUND_TYPES) {
			const wamid = await simulate(type, type === 'reaction' ? target : undefined)
			const fact = await inboundFactFor(wamid)
			const expected = EXPECTED[type]
			expect(fact, type).toMatchObject({
				phoneNumberId: PHONE,
				from: FROM.replace(/\D/g, ''),
				type: expected.metaType,
			})
			expect(fact.message.id, type).toBe(wamid)
			const content = messageContent(fact.type, fact.message)
			expect(content, type).toEqual(
				type === 'reaction' ? { ...expected.content, targetWamid: target } : expected.content,
			)
			expect(previewText(content), type).not.toBe('')
		}
	})
})
