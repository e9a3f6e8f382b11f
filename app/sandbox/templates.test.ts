import { describe, expect, test } from 'vitest'
import {
	creationError,
	plausibleWaId,
	reviewRejection,
	sendError,
	sendParamsOf,
	shapeOf,
} from './templates'

function body(text: string, example?: Record<string, unknown>) {
	return [{ type: 'BODY', text, ...(example ? { example } : {}) }]
}

describe('review rules (what Meta’s review rejects and the SDK accepts)', () => {
	test.each([
		[
			'a variable at the start',
			body('{{1}}, tu pedido llegó hoy.', { body_text: [['Ana']] }),
			/starts/,
		],
		[
			'a variable at the end',
			body('Tu código de descuento es {{1}}', { body_text: [['X']] }),
			/ends/,
		],
		[
			'a gap in numbering',
			body('Hola {{1}}, tu pedido {{3}} llegó.', { body_text: [['a', 'b']] }),
			/gaps/,
		],
		[
			'adjacent variables',
			body('Hola {{1}} {{2}} bienvenido a la tienda.', { body_text: [['a', 'b']] }),
			/next to each other/,
		],
		[
			'mixed named and numbered',
			body('Hola {{1}}, tu pedido {{order}} llegó.', { body_text: [['a', 'b']] }),
			/mixed/,
		],
		[
			'a malformed named variable',
			body('Hola {{First}}, tu pedido llegó.', {
				body_text_named_params: [{ param_name: 'First', example: 'a' }],
			}),
			/lowercase/,
		],
		['missing examples', body('Hola {{1}}, tu pedido llegó.'), /no examples/],
		[
			'too many variables for the words',
			body('Hola {{1}}, {{2}}, {{3}}, {{4}}, fin', { body_text: [['a', 'b', 'c', 'd']] }),
			/too many/,
		],
	])('rejects %s', (_label, components, message) => {
		const rejection = reviewRejection(components)
		expect(rejection?.reason).toBe('INVALID_FORMAT')
		expect(rejection?.details).toMatch(message)
	})

	test('rejects a variable in the footer and a URL variable in the middle', () => {
		const ok = body('Hola {{1}}, tu pedido llegó.', { body_text: [['Ana']] })
		expect(reviewRejection([...ok, { type: 'FOOTER', text: 'Baja: {{2}}' }])?.details).toMatch(
			/footer/,
		)
		expect(
			reviewRejection([
				...ok,
				{
					type: 'BUTTONS',
					buttons: [
						{
							type: 'URL',
							text: 'Ver',
							url: 'https://x.test/{{1}}/p',
							example: ['https://x.test/a/p'],
						},
					],
				},
			])?.details,
		).toMatch(/end of the URL/)
	})

	test('approves well-formed positional and named templates', () => {
		expect(
			reviewRejection(body('Hola {{1}}, tu pedido {{2}} llegó.', { body_text: [['Ana', 'A1']] })),
		).toBeNull()
		expect(
			reviewRejection(
				body('Hola {{first_name}}, tu pedido llegó.', {
					body_text_named_params: [{ param_name: 'first_name', example: 'Ana' }],
				}),
				'NAMED',
			),
		).toBeNull()
		expect(reviewRejection(body('Sin variables aquí.'))).toBeNull()
	})
})

describe('creation errors', () => {
	const base = { name: 'ok_name', language: 'es', category: 'MARKETING', components: body('Hola.') }
	test('accepts a valid template and 3-letter languages', () => {
		expect(creationError(base)).toBeNull()
		expect(creationError({ ...base, language: 'fil' })).toBeNull()
	})
	test.each([
		['an upper-case name', { name: 'Bad' }],
		['an unknown category', { category: 'PROMO' }],
		['no body', { components: [{ type: 'FOOTER', text: 'x' }] }],
		['two bodies', { components: [...body('a'), ...body('b')] }],
		['a body over 1024 characters', { components: body('a'.repeat(1025)) }],
	])('refuses %s with code 100', (_label, patch) => {
		expect(creationError({ ...base, ...patch })?.code).toBe(100)
	})
})

describe('send validation', () => {
	const shape = shapeOf([
		{ type: 'HEADER', format: 'IMAGE', example: { header_handle: ['h'] } },
		...body('Hola {{1}}, tu pedido {{2}} llegó.', { body_text: [['a', 'b']] }),
		{
			type: 'BUTTONS',
			buttons: [
				{ type: 'URL', text: 'Ver', url: 'https://x.test/{{1}}' },
				{ type: 'QUICK_REPLY', text: 'Baja' },
			],
		},
	])
	const image = {
		type: 'header',
		parameters: [{ type: 'image', image: { link: 'https://x.test/a.jpg' } }],
	}
	const bodyParams = {
		type: 'body',
		parameters: [
			{ type: 'text', text: 'Ana' },
			{ type: 'text', text: 'A1' },
		],
	}
	const url = {
		type: 'button',
		sub_type: 'url',
		index: '0',
		parameters: [{ type: 'text', text: 'A1' }],
	}

	test('a complete send passes', () => {
		expect(sendError(shape, sendParamsOf([image, bodyParams, url]))).toBeNull()
		expect(shape.quickReplies).toEqual([{ index: 1, text: 'Baja' }])
	})
	test('missing body parameters → 132000', () => {
		expect(sendError(shape, sendParamsOf([image, url]))?.code).toBe(132000)
	})
	test('a missing media header → 132000, a wrong media type or both id and link → 132012', () => {
		expect(sendError(shape, sendParamsOf([bodyParams, url]))?.code).toBe(132000)
		const video = {
			type: 'header',
			parameters: [{ type: 'video', video: { link: 'https://x.test/v.mp4' } }],
		}
		expect(sendError(shape, sendParamsOf([video, bodyParams, url]))?.code).toBe(132012)
		const both = {
			type: 'header',
			parameters: [{ type: 'image', image: { id: '1', link: 'https://x' } }],
		}
		expect(sendError(shape, sendParamsOf([both, bodyParams, url]))?.code).toBe(132012)
	})
	test('a URL button variable without its parameter → 132000', () => {
		expect(sendError(shape, sendParamsOf([image, bodyParams]))?.code).toBe(132000)
	})
	test('named templates need the right parameter names → 132012', () => {
		const named = shapeOf(body('Hola {{first_name}}, listo.'), 'NAMED')
		const wrong = {
			type: 'body',
			parameters: [{ type: 'text', parameter_name: 'name', text: 'Ana' }],
		}
		const right = {
			type: 'body',
			parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Ana' }],
		}
		expect(sendError(named, sendParamsOf([wrong]))?.code).toBe(132012)
		expect(sendError(named, sendParamsOf([right]))).toBeNull()
	})
})

test('plausible phone numbers are 8 to 15 digits without a leading 0', () => {
	expect(plausibleWaId('+54 9 11 2233-4455')).toBe('5491122334455')
	expect(plausibleWaId('+12')).toBeNull()
	expect(plausibleWaId('0111234567')).toBeNull()
	expect(plausibleWaId('+1234567890123456')).toBeNull()
})
