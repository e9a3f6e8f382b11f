import { describe, expect, test } from 'vitest'
import type { BodyComponent, TemplateComponent, TemplateDefinition } from './definition'
import {
	distinctVariableKeys,
	examplesByKey,
	extractVariables,
	templateVariables,
} from './definition'
import { isSupportedLanguage, normalizeLanguageCode } from './languages'
import { validateTemplate } from './validate'

function base(overrides: Partial<TemplateDefinition> = {}): TemplateDefinition {
	return {
		name: 'order_update',
		language: 'en_US',
		category: 'UTILITY',
		parameter_format: 'POSITIONAL',
		components: [
			{
				type: 'BODY',
				text: 'Hi {{1}}, your order {{2}} has shipped.',
				example: { body_text: [['Ann', 'A-1']] },
			},
		],
		...overrides,
	}
}

function withComponents(...components: TemplateComponent[]) {
	return base({ components })
}

function body(text: string, examples?: string[]): TemplateComponent {
	return examples
		? { type: 'BODY', text, example: { body_text: [examples] } }
		: { type: 'BODY', text }
}

function rules(definition: unknown) {
	return validateTemplate(definition).errors.map((e) => e.rule)
}

/** Asserts the definition breaks exactly `rule` (and possibly others) at `path`. */
function expectRule(definition: unknown, rule: string, path?: string) {
	const result = validateTemplate(definition)
	expect(result.ok).toBe(false)
	const hit = result.errors.find((e) => e.rule === rule)
	expect(hit, `expected ${rule} in ${JSON.stringify(result.errors)}`).toBeDefined()
	if (path !== undefined) expect(hit!.path).toBe(path)
	expect(hit!.message.length).toBeGreaterThan(10)
}

function expectOk(definition: unknown) {
	const result = validateTemplate(definition)
	expect(result.errors).toEqual([])
	expect(result.ok).toBe(true)
}

const fullMarketing: TemplateDefinition = {
	name: 'seasonal_promo',
	language: 'es',
	category: 'MARKETING',
	parameter_format: 'NAMED',
	components: [
		{
			type: 'HEADER',
			format: 'TEXT',
			text: 'Our {{sale_name}} is on!',
			example: { header_text_named_params: [{ param_name: 'sale_name', example: 'Summer Sale' }] },
		},
		{
			type: 'BODY',
			text: 'Shop until {{end_date}} with code {{code}}.',
			example: {
				body_text_named_params: [
					{ param_name: 'end_date', example: 'Aug 31' },
					{ param_name: 'code', example: 'SALE25' },
				],
			},
		},
		{ type: 'FOOTER', text: 'Reply STOP to opt out' },
		{
			type: 'BUTTONS',
			buttons: [
				{ type: 'QUICK_REPLY', text: 'Stop promotions' },
				{
					type: 'URL',
					text: 'Shop',
					url: 'https://shop.example/p?c={{1}}',
					example: ['https://shop.example/p?c=SALE25'],
				},
				{ type: 'PHONE_NUMBER', text: 'Call', phone_number: '+15550051310' },
			],
		},
	],
}

describe('validateTemplate accepts', () => {
	test('the reference example (named, header, footer, three button kinds)', () =>
		expectOk(fullMarketing))
	test('a positional body with examples', () => expectOk(base()))
	test('a body without variables', () => expectOk(withComponents(body('Your order has shipped.'))))
	test('a variable followed by punctuation at the end', () =>
		expectOk(withComponents(body('Hello {{1}}.', ['Ann']))))
	test('the same variable used twice', () =>
		expectOk(withComponents(body('Hi {{1}}, yes {{1}} again.', ['Ann']))))
})

describe('name', () => {
	test('required', () => expectRule(base({ name: '' }), 'name.required', 'name'))
	test('pattern rejects uppercase, spaces, dashes', () => {
		for (const name of ['Order', 'order update', 'order-update', 'pedido_ñ'])
			expectRule(base({ name }), 'name.pattern', 'name')
	})
	test('pattern accepts lowercase, digits, underscores', () =>
		expectOk(base({ name: 'promo_2025_v2' })))
	test('length at most 512', () => {
		expectOk(base({ name: 'a'.repeat(512) }))
		expectRule(base({ name: 'a'.repeat(513) }), 'name.length', 'name')
	})
})

describe('language (allow-list)', () => {
	test('accepts 3-letter codes the SDK rejects: fil, prs_AF, ky_KG', () => {
		for (const language of [
			'fil',
			'prs_AF',
			'ky_KG',
			'ps_AF',
			'si_LK',
			'rw_RW',
			'be_BY',
			'pt_BR',
			'en',
		])
			expectOk(base({ language }))
	})
	test('rejects unknown and mis-cased codes', () => {
		for (const language of ['xx', 'en_us', 'EN_US', 'en-US', 'klingon', ''])
			expectRule(base({ language }), 'language.supported', 'language')
	})
	test('normalises webhook codes', () => {
		expect(normalizeLanguageCode('en-US')).toBe('en_US')
		expect(isSupportedLanguage('fil')).toBe(true)
	})
})

describe('category and parameter format', () => {
	test('category must be one of the three', () => {
		expectRule(base({ category: 'PROMO' as never }), 'category.enum', 'category')
		expectOk(base({ category: 'MARKETING' }))
	})
	test('parameter_format must be POSITIONAL or NAMED; missing means POSITIONAL', () => {
		expectRule(
			base({ parameter_format: 'BOTH' as never }),
			'parameter_format.enum',
			'parameter_format',
		)
		const { parameter_format: _omitted, ...rest } = base()
		expectOk(rest)
	})
})

describe('components', () => {
	test('body required', () => {
		expectRule(base({ components: [] }), 'components.body_required')
		expectRule(withComponents({ type: 'FOOTER', text: 'Bye' }), 'components.body_required')
	})
	test('at most one of each component', () => {
		expectRule(withComponents(body('One.'), body('Two.')), 'components.duplicate', 'components[1]')
		expectRule(
			withComponents(body('One.'), { type: 'FOOTER', text: 'a' }, { type: 'FOOTER', text: 'b' }),
			'components.duplicate',
		)
	})
	test('unknown component type', () =>
		expectRule(
			base({ components: [body('Hi.'), { type: 'CAROUSEL' } as never] }),
			'components.type',
			'components[1].type',
		))
	test('not an object', () => expect(rules(null)).toEqual(['definition.shape']))
})

describe('header', () => {
	const header = (h: Record<string, unknown>) =>
		withComponents({ type: 'HEADER', ...h } as TemplateComponent, body('Hi there.'))
	test('format must be known', () =>
		expectRule(header({ format: 'AUDIO' }), 'header.format', 'components[0].format'))
	test('text required for a text header', () =>
		expectRule(header({ format: 'TEXT', text: ' ' }), 'header.text_required'))
	test('text at most 60 characters', () => {
		expectOk(header({ format: 'TEXT', text: 'a'.repeat(60) }))
		expectRule(
			header({ format: 'TEXT', text: 'a'.repeat(61) }),
			'header.text_length',
			'components[0].text',
		)
	})
	test('at most one variable', () => {
		expectOk(header({ format: 'TEXT', text: 'Hello {{1}}', example: { header_text: ['Ann'] } }))
		expectRule(
			header({ format: 'TEXT', text: 'Hello {{1}} {{2}}', example: { header_text: ['Ann', 'B'] } }),
			'header.variable_count',
		)
	})
	test('no formatting or line breaks', () => {
		expectRule(header({ format: 'TEXT', text: 'Big *sale* now' }), 'header.formatting')
		expectRule(header({ format: 'TEXT', text: 'Line\nbreak' }), 'header.formatting')
		expectOk(header({ format: 'TEXT', text: 'snake_case_word is fine' }))
	})
	test('example required for a header variable', () =>
		expectRule(
			header({ format: 'TEXT', text: 'Hello {{1}}' }),
			'examples.missing',
			'components[0].example',
		))
	test('media header needs a sample handle', () => {
		expectRule(header({ format: 'IMAGE' }), 'header.media_example', 'components[0].example')
		expectOk(header({ format: 'IMAGE', example: { header_handle: ['4::aW1hZ2U='] } }))
	})
	test('location header only for marketing and utility', () => {
		expectOk(header({ format: 'LOCATION' }))
		const auth = {
			...base({ category: 'AUTHENTICATION' }),
			components: [
				{ type: 'HEADER', format: 'LOCATION' },
				{ type: 'BODY', add_security_recommendation: true },
				{ type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE' }] },
			],
		}
		expectRule(auth, 'header.location_category')
	})
})

describe('body', () => {
	test('text required', () =>
		expectRule(withComponents(body('  ')), 'body.text_required', 'components[0].text'))
	test('at most 1024 characters', () => {
		expectOk(withComponents(body('a'.repeat(1024))))
		expectRule(withComponents(body('a'.repeat(1025))), 'body.text_length', 'components[0].text')
	})
	test('no variable at the start (SDK misses this)', () => {
		expectRule(
			withComponents(body('{{1}}, your order shipped.', ['Ann'])),
			'body.variable_at_start',
		)
		expectRule(withComponents(body('  {{1}} hello.', ['Ann'])), 'body.variable_at_start')
	})
	test('no variable at the end (SDK misses this)', () => {
		expectRule(withComponents(body('Your code is {{1}}', ['123'])), 'body.variable_at_end')
		expectRule(withComponents(body('Your code is {{1}}\n', ['123'])), 'body.variable_at_end')
	})
	test('no adjacent variables', () => {
		expectRule(withComponents(body('Hi {{1}}{{2}} there.', ['a', 'b'])), 'body.adjacent_variables')
		expectRule(withComponents(body('Hi {{1}} {{2}} there.', ['a', 'b'])), 'body.adjacent_variables')
		expectOk(withComponents(body('Hi {{1}} and {{2}} there.', ['a', 'b'])))
	})
})

describe('body variable density', () => {
	test('more variables than words is refused', () => {
		expectRule(
			withComponents(body('Hi {{1}}, {{2}} / {{3}}.', ['a', 'b', 'c'])),
			'body.too_many_variables',
		)
		expectOk(withComponents(body('Hi {{1}}, your code {{2}} works.', ['a', 'b'])))
	})
})

describe('variables', () => {
	test('numbered without gaps (SDK misses this)', () => {
		expectRule(
			withComponents(body('Hi {{1}} and {{3}} there.', ['a', 'b'])),
			'variables.sequence',
			'components[0].text',
		)
		expectRule(withComponents(body('Hi {{2}} there.', ['a'])), 'variables.sequence')
		expectOk(withComponents(body('Hi {{2}} and {{1}} there.', ['a', 'b'])))
	})
	test('invalid variable names', () => {
		for (const bad of ['{{#1}}', '{{$x}}', '{{ 1 }}', '{{First}}', '{{0}}', '{{}}'])
			expectRule(withComponents(body(`Hi ${bad} there.`, ['a'])), 'variables.invalid')
	})
	test('a missing brace', () =>
		expectRule(withComponents(body('Hi {{1} there.')), 'variables.malformed'))
	test('named variables in a positional template', () =>
		expectRule(
			withComponents({
				type: 'BODY',
				text: 'Hi {{first_name}} there.',
				example: { body_text_named_params: [{ param_name: 'first_name', example: 'Ann' }] },
			}),
			'variables.format',
		))
	test('never mix named and positional', () =>
		expectRule(
			base({
				parameter_format: 'NAMED',
				components: [
					{
						type: 'HEADER',
						format: 'TEXT',
						text: 'Hello {{1}}',
						example: { header_text: ['Ann'] },
					},
					{
						type: 'BODY',
						text: 'Hi {{first_name}} there.',
						example: { body_text_named_params: [{ param_name: 'first_name', example: 'Ann' }] },
					},
				],
			}),
			'variables.mixed',
		))
})

describe('examples', () => {
	test('missing for body variables', () =>
		expectRule(
			withComponents(body('Hi {{1}} there.')),
			'examples.missing',
			'components[0].example',
		))
	test('count must match', () =>
		expectRule(
			withComponents(body('Hi {{1}} and {{2}} there.', ['a'])),
			'examples.count',
			'components[0].example',
		))
	test('empty example', () =>
		expectRule(withComponents(body('Hi {{1}} there.', [''])), 'examples.empty'))
	test('named: every name covered', () => {
		const missing = structuredClone(fullMarketing)
		;(missing.components[1] as BodyComponent).example = {
			body_text_named_params: [{ param_name: 'end_date', example: 'Aug 31' }],
		}
		expectRule(missing, 'examples.missing', 'components[1].example')
	})
})

describe('footer', () => {
	test('no variables (SDK misses this)', () =>
		expectRule(
			withComponents(body('Hi.'), { type: 'FOOTER', text: 'Bye {{1}}' }),
			'footer.no_variables',
			'components[1].text',
		))
	test('at most 60 characters', () => {
		expectOk(withComponents(body('Hi.'), { type: 'FOOTER', text: 'a'.repeat(60) }))
		expectRule(
			withComponents(body('Hi.'), { type: 'FOOTER', text: 'a'.repeat(61) }),
			'footer.text_length',
		)
	})
	test('text required', () =>
		expectRule(withComponents(body('Hi.'), { type: 'FOOTER', text: '' }), 'footer.text_required'))
})

describe('buttons', () => {
	const withButtons = (...buttons: unknown[]) =>
		withComponents(body('Hi.'), { type: 'BUTTONS', buttons } as TemplateComponent)
	const quick = (text = 'Yes') => ({ type: 'QUICK_REPLY', text })
	const url = (u = 'https://shop.example/a', example?: string[]) => ({
		type: 'URL',
		text: 'Open',
		url: u,
		...(example ? { example } : {}),
	})
	const phone = { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+34 600 000 000' }

	test('at least one', () => expectRule(withButtons(), 'buttons.empty', 'components[1].buttons'))
	test('at most 10 in total', () => {
		expectOk(withButtons(...Array.from({ length: 10 }, (_, i) => quick(`Option ${i}`))))
		expectRule(
			withButtons(...Array.from({ length: 11 }, (_, i) => quick(`Option ${i}`))),
			'buttons.count',
		)
	})
	test('at most 10 quick replies', () =>
		expectRule(
			withButtons(...Array.from({ length: 11 }, (_, i) => quick(`Option ${i}`))),
			'buttons.quick_reply_count',
		))
	test('at most 2 URL buttons', () => {
		expectOk(withButtons(url(), url('https://shop.example/b')))
		expectRule(withButtons(url(), url(), url()), 'buttons.url_count')
	})
	test('at most 1 phone button', () => {
		expectOk(withButtons(phone))
		expectRule(withButtons(phone, phone), 'buttons.phone_count')
	})
	test('at most 1 copy code button', () => {
		expectOk(withButtons({ type: 'COPY_CODE', example: 'SALE25' }))
		expectRule(
			withButtons({ type: 'COPY_CODE', example: 'A' }, { type: 'COPY_CODE', example: 'B' }),
			'buttons.copy_code_count',
		)
	})
	test('quick replies grouped, not interleaved', () => {
		expectOk(withButtons(quick('a'), quick('b'), url()))
		expectOk(withButtons(url(), quick('a'), quick('b')))
		expectRule(withButtons(quick('a'), url(), quick('b')), 'buttons.grouping')
	})
	test('unknown button type', () =>
		expectRule(
			withButtons({ type: 'CATALOG', text: 'x' }),
			'button.type',
			'components[1].buttons[0].type',
		))
	test('text required and at most 25', () => {
		expectRule(withButtons(quick('')), 'button.text_required', 'components[1].buttons[0].text')
		expectOk(withButtons(quick('a'.repeat(25))))
		expectRule(withButtons(quick('a'.repeat(26))), 'button.text_length')
	})
	test('text has no variables', () =>
		expectRule(withButtons(quick('Hi {{1}}')), 'button.text_plain'))
	test('phone number required and international', () => {
		expectRule(withButtons({ ...phone, phone_number: '' }), 'button.phone_required')
		expectRule(withButtons({ ...phone, phone_number: '600000000' }), 'button.phone_format')
		expectRule(
			withButtons({ ...phone, phone_number: '+1 555 555 555 555 555 5' }),
			'button.phone_format',
		)
	})
	test('copy code example required, at most 15', () => {
		expectRule(withButtons({ type: 'COPY_CODE', example: '' }), 'button.copy_code_example')
		expectRule(
			withButtons({ type: 'COPY_CODE', example: 'A'.repeat(16) }),
			'button.copy_code_example',
		)
	})
	test('URL required, http(s), at most 2000', () => {
		expectRule(withButtons(url('')), 'button.url_required')
		expectRule(withButtons(url('shop.example/a')), 'button.url_format')
		expectRule(withButtons(url('https://shop example/a')), 'button.url_format')
		expectRule(withButtons(url(`https://shop.example/${'a'.repeat(2000)}`)), 'button.url_length')
	})
	test('URL variable at the end is fine', () =>
		expectOk(withButtons(url('https://shop.example/o/{{1}}', ['https://shop.example/o/42']))))
	test('URL variable in the middle (SDK misses this)', () =>
		expectRule(
			withButtons(url('https://shop.example/{{1}}/track', ['https://shop.example/42/track'])),
			'button.url_variable_position',
			'components[1].buttons[0].url',
		))
	test('URL variable in the domain', () =>
		expectRule(
			withButtons(url('https://{{1}}', ['https://a.example'])),
			'button.url_variable_position',
		))
	test('URL at most one variable, always {{1}}', () => {
		expectRule(
			withButtons(url('https://s.example/{{1}}?x={{2}}', ['x'])),
			'button.url_variable_count',
		)
		expectRule(withButtons(url('https://s.example/{{2}}', ['x'])), 'button.url_variable_name')
	})
	test('URL variable needs an example', () =>
		expectRule(
			withButtons(url('https://shop.example/o/{{1}}')),
			'button.url_example',
			'components[1].buttons[0].example',
		))
})

describe('authentication', () => {
	const auth = (components: unknown[]) => ({ ...base({ category: 'AUTHENTICATION' }), components })
	const good = [
		{ type: 'BODY', add_security_recommendation: true },
		{ type: 'FOOTER', code_expiration_minutes: 10 },
		{ type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' }] },
	]
	test('accepts the fixed-text form with an OTP button', () => expectOk(auth(good)))
	test('needs an OTP button', () => expectRule(auth([good[0]]), 'authentication.otp_button'))
	test('OTP button alone', () =>
		expectRule(
			auth([
				good[0],
				{
					type: 'BUTTONS',
					buttons: [
						{ type: 'OTP', otp_type: 'COPY_CODE' },
						{ type: 'QUICK_REPLY', text: 'x' },
					],
				},
			]),
			'buttons.otp_alone',
		))
	test('OTP only in authentication', () =>
		expectRule(
			withComponents(body('Hi.'), {
				type: 'BUTTONS',
				buttons: [{ type: 'OTP', otp_type: 'COPY_CODE' }],
			}),
			'button.otp_category',
		))
	test('no custom body text', () =>
		expectRule(auth([{ type: 'BODY', text: 'Your code.' }, good[2]]), 'authentication.body'))
	test('no header', () =>
		expectRule(
			auth([{ type: 'HEADER', format: 'TEXT', text: 'Code' }, ...good]),
			'authentication.header',
		))
	test('code expiry 1–90 minutes and only for authentication', () => {
		expectRule(
			auth([good[0], { type: 'FOOTER', code_expiration_minutes: 91 }, good[2]]),
			'footer.code_expiration',
		)
		expectRule(
			withComponents(body('Hi.'), { type: 'FOOTER', text: 'x', code_expiration_minutes: 5 }),
			'footer.code_expiration',
		)
	})
})

describe('variable helpers', () => {
	test('extractVariables classifies tokens', () => {
		expect(
			extractVariables('a {{1}} b {{first_name}} c {{Bad}}').map((t) => [t.key, t.kind]),
		).toEqual([
			['1', 'positional'],
			['first_name', 'named'],
			['Bad', 'invalid'],
		])
	})
	test('distinctVariableKeys sorts positional keys', () => {
		expect(distinctVariableKeys('{{2}} x {{1}} y {{2}}')).toEqual(['1', '2'])
		expect(distinctVariableKeys('{{b}} x {{a}}')).toEqual(['b', 'a'])
	})
	test('templateVariables lists what a send must supply', () => {
		expect(templateVariables(fullMarketing.components)).toEqual({
			header: ['sale_name'],
			body: ['end_date', 'code'],
			urlButtons: [{ index: 1, text: 'Shop' }],
			mediaHeader: null,
			locationHeader: false,
			copyCodeButtonIndex: null,
		})
	})
	test('examplesByKey reads both example shapes', () => {
		expect(examplesByKey(base().components[0] as never)).toEqual({ '1': 'Ann', '2': 'A-1' })
		expect(examplesByKey(fullMarketing.components[1] as never)).toEqual({
			end_date: 'Aug 31',
			code: 'SALE25',
		})
	})
})
