/**
 * One inbound message per WhatsApp type, in the Meta shape Kapso's webhooks and history carry
 * (`value.messages[]`), for rendering tests and for the sandbox to reuse.
 */
export const MESSAGE_FIXTURES: Record<string, Record<string, unknown>> = {
	text: {
		from: '5491100000001',
		id: 'wamid.text',
		timestamp: '1763780000',
		type: 'text',
		text: { body: 'Hola *Ana*, _¿vienes?_ ~no~ ```code```' },
	},
	template: {
		id: 'wamid.template',
		type: 'template',
		template: {
			name: 'promo',
			language: { code: 'es' },
			components: [{ type: 'body', parameters: [{ type: 'text', text: 'BF-77' }] }],
		},
		rendered: {
			name: 'promo',
			header: { format: 'TEXT', text: 'Hola Lucía' },
			body: 'Tu código *BF-77* vence hoy.',
			footer: 'Responde BAJA',
			buttons: [{ type: 'QUICK_REPLY', text: 'No más promos' }],
		},
	},
	button: {
		from: '5491100000001',
		id: 'wamid.button',
		type: 'button',
		context: { from: '15550100001', id: 'wamid.bcast' },
		button: { payload: 'STOP', text: 'No más promos' },
	},
	interactive: {
		from: '5491100000001',
		id: 'wamid.list',
		type: 'interactive',
		interactive: {
			type: 'list_reply',
			list_reply: { id: 'row-2', title: 'Envío a domicilio', description: 'Llega en 48 h' },
		},
	},
	reaction: {
		from: '5491100000001',
		id: 'wamid.reaction',
		type: 'reaction',
		reaction: { message_id: 'wamid.out1', emoji: '👍' },
	},
	image: {
		from: '5491100000001',
		id: 'wamid.image',
		type: 'image',
		image: { id: 'media-1', mime_type: 'image/jpeg', caption: 'Mi *ticket*' },
	},
	video: {
		from: '5491100000001',
		id: 'wamid.video',
		type: 'video',
		video: { id: 'media-2', mime_type: 'video/mp4' },
	},
	audio: {
		from: '5491100000001',
		id: 'wamid.audio',
		type: 'audio',
		audio: { id: 'media-3', mime_type: 'audio/ogg; codecs=opus', voice: true },
	},
	document: {
		from: '5491100000001',
		id: 'wamid.document',
		type: 'document',
		document: { id: 'media-4', mime_type: 'application/pdf', filename: 'factura-0042.pdf' },
	},
	sticker: {
		from: '5491100000001',
		id: 'wamid.sticker',
		type: 'sticker',
		sticker: { id: 'media-5', mime_type: 'image/webp', animated: false },
	},
	location: {
		from: '5491100000001',
		id: 'wamid.location',
		type: 'location',
		location: {
			latitude: -34.6037,
			longitude: -58.3816,
			name: 'Obelisco',
			address: 'Av. 9 de Julio, CABA',
		},
	},
	contacts: {
		from: '5491100000001',
		id: 'wamid.contacts',
		type: 'contacts',
		contacts: [
			{
				name: { formatted_name: 'Pedro Gómez', first_name: 'Pedro' },
				phones: [{ phone: '+54 9 11 5555 0000', type: 'CELL' }],
			},
		],
	},
	unsupported: {
		from: '5491100000001',
		id: 'wamid.unsupported',
		type: 'unsupported',
		errors: [
			{
				code: 131051,
				title: 'Message type unknown',
				error_data: { details: 'Message type is currently not supported.' },
			},
		],
	},
}
