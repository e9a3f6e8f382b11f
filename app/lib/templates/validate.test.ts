import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
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
	test('no button but the OTP one', () => {
		for (const other of [
			{ type: 'QUICK_REPLY', text: 'Not me' },
			{ type: 'URL', text: 'Open', url: 'https://shop.example/a' },
			{ type: 'COPY_CODE', example: 'SALE25' },
		])
			expectRule(
				auth([good[0], good[1], { type: 'BUTTONS', buttons: [other] }]),
				'authentication.buttons',
				'components[2].buttons[0].type',
			)
		expectOk(
			auth([
				good[0],
				good[1],
				{ type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE' }] },
			]),
		)
	})
	test('the OTP button says how the code is delivered', () => {
		for (const otpType of [undefined, '', 'SMS', 'copy_code'])
			expectRule(
				auth([
					good[0],
					good[1],
					{ type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: otpType }] },
				]),
				'button.otp_type',
				'components[2].buttons[0].otp_type',
			)
		for (const otpType of ['COPY_CODE', 'ONE_TAP', 'ZERO_TAP'])
			expectOk(
				auth([
					good[0],
					good[1],
					{ type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: otpType }] },
				]),
			)
	})
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

// ——— One reject and one accept case per rule ———
//
// Each reject case must break exactly its rule (plus the rules listed in `also`, which that rule
// cannot fire without), at the field named in `path`. Its accept case differs from it only in what
// the rule looks at and must pass cleanly, so the accept side checks this rule, not the fixtures.

type Loose = Record<string, unknown>
type RuleCase = {
	rule: string
	/** Tells apart the cases of a rule with more than one branch. */
	note?: string
	reject: unknown
	accept: unknown
	path: string
	also?: string[]
}

const def = (components: unknown[], overrides: Loose = {}): Loose => ({
	name: 'order_update',
	language: 'en_US',
	category: 'UTILITY',
	parameter_format: 'POSITIONAL',
	components,
	...overrides,
})
const hi = { type: 'BODY', text: 'Hi there.' }
const textBody = (text: string, examples?: string[]) =>
	examples ? { type: 'BODY', text, example: { body_text: [examples] } } : { type: 'BODY', text }
const namedBody = (name: string) => ({
	type: 'BODY',
	text: `Hi {{${name}}} there.`,
	example: { body_text_named_params: [{ param_name: name, example: 'Ann' }] },
})
const withHeader = (header: Loose, overrides: Loose = {}) =>
	def([{ type: 'HEADER', ...header }, hi], overrides)
const withFooter = (footer: Loose) => def([hi, { type: 'FOOTER', ...footer }])
const withButtonList = (...buttons: unknown[]) => def([hi, { type: 'BUTTONS', buttons }])
const quickReply = (text = 'Yes') => ({ type: 'QUICK_REPLY', text })
const urlButton = (url = 'https://shop.example/a', example?: string[]) => ({
	type: 'URL',
	text: 'Open',
	url,
	...(example ? { example } : {}),
})
const phoneButton = (phone_number = '+34 600 000 000') => ({
	type: 'PHONE_NUMBER',
	text: 'Call us',
	phone_number,
})
const copyCode = (example = 'SALE25') => ({ type: 'COPY_CODE', example })
const otp = (otp_type: unknown = 'COPY_CODE') => ({ type: 'OTP', otp_type, text: 'Copy code' })
const quickReplies = (n: number) => Array.from({ length: n }, (_, i) => quickReply(`Option ${i}`))
const authBody = { type: 'BODY', add_security_recommendation: true }
const authButtons = (...buttons: unknown[]) => ({ type: 'BUTTONS', buttons })
const authDef = (components: unknown[]) => def(components, { category: 'AUTHENTICATION' })

const RULE_CASES: RuleCase[] = [
	{ rule: 'definition.shape', reject: null, accept: def([hi]), path: '' },
	{
		rule: 'definition.shape',
		note: 'an array',
		reject: [def([hi])],
		accept: def([hi]),
		path: '',
	},
	{
		rule: 'name.required',
		reject: def([hi], { name: ' ' }),
		accept: def([hi], { name: 'a' }),
		path: 'name',
	},
	{
		rule: 'name.pattern',
		reject: def([hi], { name: 'Order-update' }),
		accept: def([hi], { name: 'order_update' }),
		path: 'name',
	},
	{
		rule: 'name.length',
		reject: def([hi], { name: 'a'.repeat(513) }),
		accept: def([hi], { name: 'a'.repeat(512) }),
		path: 'name',
	},
	{
		rule: 'language.supported',
		reject: def([hi], { language: 'en-US' }),
		accept: def([hi], { language: 'en_US' }),
		path: 'language',
	},
	{
		rule: 'category.enum',
		reject: def([hi], { category: 'PROMO' }),
		accept: def([hi], { category: 'MARKETING' }),
		path: 'category',
	},
	{
		rule: 'parameter_format.enum',
		reject: def([hi], { parameter_format: 'BOTH' }),
		accept: def([hi], { parameter_format: 'NAMED' }),
		path: 'parameter_format',
	},
	{
		rule: 'components.body_required',
		note: 'no body among the parts',
		reject: def([{ type: 'FOOTER', text: 'Bye' }]),
		accept: def([hi, { type: 'FOOTER', text: 'Bye' }]),
		path: 'components',
	},
	{
		rule: 'components.body_required',
		note: 'no parts at all',
		reject: def([]),
		accept: def([hi]),
		path: 'components',
	},
	{
		rule: 'components.duplicate',
		reject: def([hi, { type: 'FOOTER', text: 'a' }, { type: 'FOOTER', text: 'b' }]),
		accept: def([hi, { type: 'FOOTER', text: 'a' }]),
		path: 'components[2]',
	},
	{
		rule: 'components.type',
		reject: def([hi, { type: 'CAROUSEL', text: 'a' }]),
		accept: def([hi, { type: 'FOOTER', text: 'a' }]),
		path: 'components[1].type',
	},
	{
		rule: 'variables.invalid',
		reject: def([textBody('Hi {{First}} there.', ['Ann'])]),
		accept: def([textBody('Hi {{1}} there.', ['Ann'])]),
		path: 'components[0].text',
	},
	{
		rule: 'variables.malformed',
		reject: def([textBody('Hi {{1}} there}}.', ['Ann'])]),
		accept: def([textBody('Hi {{1}} there.', ['Ann'])]),
		path: 'components[0].text',
	},
	{
		rule: 'variables.format',
		reject: def([namedBody('first_name')], { parameter_format: 'POSITIONAL' }),
		accept: def([namedBody('first_name')], { parameter_format: 'NAMED' }),
		path: 'components[0].text',
	},
	{
		rule: 'variables.sequence',
		reject: def([textBody('Hi {{1}} and {{3}} there.', ['a', 'b'])]),
		accept: def([textBody('Hi {{1}} and {{2}} there.', ['a', 'b'])]),
		path: 'components[0].text',
	},
	{
		rule: 'variables.mixed',
		// A template has one format, so a mixed one always also breaks it in one part.
		also: ['variables.format'],
		reject: def(
			[
				{ type: 'HEADER', format: 'TEXT', text: 'Hello {{1}}', example: { header_text: ['Ann'] } },
				namedBody('first_name'),
			],
			{ parameter_format: 'NAMED' },
		),
		accept: def(
			[
				{
					type: 'HEADER',
					format: 'TEXT',
					text: 'Hello {{name}}',
					example: { header_text_named_params: [{ param_name: 'name', example: 'Ann' }] },
				},
				namedBody('first_name'),
			],
			{ parameter_format: 'NAMED' },
		),
		path: 'components',
	},
	{
		rule: 'examples.missing',
		reject: def([textBody('Hi {{1}} there.')]),
		accept: def([textBody('Hi {{1}} there.', ['Ann'])]),
		path: 'components[0].example',
	},
	{
		rule: 'examples.missing',
		note: 'a named variable without its example',
		reject: def(
			[
				{
					type: 'BODY',
					text: 'Hi {{first_name}} from {{city}}.',
					example: { body_text_named_params: [{ param_name: 'first_name', example: 'Ann' }] },
				},
			],
			{ parameter_format: 'NAMED' },
		),
		accept: def(
			[
				{
					type: 'BODY',
					text: 'Hi {{first_name}} from {{city}}.',
					example: {
						body_text_named_params: [
							{ param_name: 'first_name', example: 'Ann' },
							{ param_name: 'city', example: 'Lima' },
						],
					},
				},
			],
			{ parameter_format: 'NAMED' },
		),
		path: 'components[0].example',
	},
	{
		rule: 'examples.count',
		reject: def([textBody('Hi {{1}} and {{2}} there.', ['a'])]),
		accept: def([textBody('Hi {{1}} and {{2}} there.', ['a', 'b'])]),
		path: 'components[0].example',
	},
	{
		rule: 'examples.empty',
		reject: def([textBody('Hi {{1}} there.', [' '])]),
		accept: def([textBody('Hi {{1}} there.', ['Ann'])]),
		path: 'components[0].example',
	},
	{
		rule: 'examples.empty',
		note: 'a named example left empty',
		reject: def(
			[
				{
					type: 'BODY',
					text: 'Hi {{first_name}} there.',
					example: { body_text_named_params: [{ param_name: 'first_name', example: '' }] },
				},
			],
			{ parameter_format: 'NAMED' },
		),
		accept: def([namedBody('first_name')], { parameter_format: 'NAMED' }),
		path: 'components[0].example',
	},
	{
		rule: 'header.format',
		reject: withHeader({ format: 'AUDIO' }),
		accept: withHeader({ format: 'LOCATION' }),
		path: 'components[0].format',
	},
	{
		rule: 'header.text_required',
		reject: withHeader({ format: 'TEXT', text: ' ' }),
		accept: withHeader({ format: 'TEXT', text: 'News' }),
		path: 'components[0].text',
	},
	{
		rule: 'header.text_length',
		reject: withHeader({ format: 'TEXT', text: 'a'.repeat(61) }),
		accept: withHeader({ format: 'TEXT', text: 'a'.repeat(60) }),
		path: 'components[0].text',
	},
	{
		rule: 'header.variable_count',
		reject: withHeader({
			format: 'TEXT',
			text: 'Hello {{1}} and {{2}}',
			example: { header_text: ['Ann', 'Bo'] },
		}),
		accept: withHeader({
			format: 'TEXT',
			text: 'Hello {{1}} and Bo',
			example: { header_text: ['Ann'] },
		}),
		path: 'components[0].text',
	},
	{
		rule: 'header.formatting',
		reject: withHeader({ format: 'TEXT', text: 'Big *sale* now' }),
		accept: withHeader({ format: 'TEXT', text: 'Big sale now' }),
		path: 'components[0].text',
	},
	{
		rule: 'header.formatting',
		note: 'a line break',
		reject: withHeader({ format: 'TEXT', text: 'Big\nsale' }),
		accept: withHeader({ format: 'TEXT', text: 'Big sale' }),
		path: 'components[0].text',
	},
	{
		rule: 'header.media_example',
		reject: withHeader({ format: 'IMAGE', example: { header_handle: [''] } }),
		accept: withHeader({ format: 'IMAGE', example: { header_handle: ['4::aW1hZ2U='] } }),
		path: 'components[0].example',
	},
	{
		rule: 'header.location_category',
		// Only authentication is outside marketing and utility, and it allows no header at all.
		also: ['authentication.header'],
		reject: authDef([{ type: 'HEADER', format: 'LOCATION' }, authBody, authButtons(otp())]),
		accept: withHeader({ format: 'LOCATION' }, { category: 'MARKETING' }),
		path: 'components[0].format',
	},
	{
		rule: 'body.text_required',
		reject: def([textBody(' ')]),
		accept: def([textBody('Hi.')]),
		path: 'components[0].text',
	},
	{
		rule: 'body.text_length',
		reject: def([textBody('a'.repeat(1025))]),
		accept: def([textBody('a'.repeat(1024))]),
		path: 'components[0].text',
	},
	{
		rule: 'body.variable_at_start',
		reject: def([textBody('{{1}}, your order shipped.', ['Ann'])]),
		accept: def([textBody('Hi {{1}}, your order shipped.', ['Ann'])]),
		path: 'components[0].text',
	},
	{
		rule: 'body.variable_at_end',
		reject: def([textBody('Your code is {{1}}', ['123'])]),
		accept: def([textBody('Your code is {{1}}.', ['123'])]),
		path: 'components[0].text',
	},
	{
		rule: 'body.adjacent_variables',
		reject: def([textBody('Hi {{1}} {{2}} there.', ['a', 'b'])]),
		accept: def([textBody('Hi {{1}} and {{2}} there.', ['a', 'b'])]),
		path: 'components[0].text',
	},
	{
		rule: 'body.too_many_variables',
		reject: def([textBody('Hi {{1}}, {{2}} / {{3}}.', ['a', 'b', 'c'])]),
		accept: def([textBody('Hi {{1}}, {{2}} and {{3}} here.', ['a', 'b', 'c'])]),
		path: 'components[0].text',
	},
	{
		rule: 'footer.text_required',
		reject: withFooter({ text: ' ' }),
		accept: withFooter({ text: 'Bye' }),
		path: 'components[1].text',
	},
	{
		rule: 'footer.text_length',
		reject: withFooter({ text: 'a'.repeat(61) }),
		accept: withFooter({ text: 'a'.repeat(60) }),
		path: 'components[1].text',
	},
	{
		rule: 'footer.no_variables',
		reject: withFooter({ text: 'Bye {{1}}' }),
		accept: withFooter({ text: 'Bye' }),
		path: 'components[1].text',
	},
	{
		rule: 'footer.code_expiration',
		note: 'outside authentication',
		reject: withFooter({ text: 'Bye', code_expiration_minutes: 5 }),
		accept: withFooter({ text: 'Bye' }),
		path: 'components[1].code_expiration_minutes',
	},
	{
		rule: 'footer.code_expiration',
		note: 'more than 90 minutes',
		reject: authDef([
			authBody,
			{ type: 'FOOTER', code_expiration_minutes: 91 },
			authButtons(otp()),
		]),
		accept: authDef([
			authBody,
			{ type: 'FOOTER', code_expiration_minutes: 90 },
			authButtons(otp()),
		]),
		path: 'components[1].code_expiration_minutes',
	},
	{
		rule: 'buttons.empty',
		reject: withButtonList(),
		accept: withButtonList(quickReply()),
		path: 'components[1].buttons',
	},
	{
		rule: 'buttons.count',
		reject: withButtonList(...quickReplies(10), urlButton()),
		accept: withButtonList(...quickReplies(9), urlButton()),
		path: 'components[1].buttons',
	},
	{
		rule: 'buttons.quick_reply_count',
		// Eleven quick replies are also eleven buttons.
		also: ['buttons.count'],
		reject: withButtonList(...quickReplies(11)),
		accept: withButtonList(...quickReplies(10)),
		path: 'components[1].buttons',
	},
	{
		rule: 'buttons.url_count',
		reject: withButtonList(urlButton(), urlButton(), urlButton()),
		accept: withButtonList(urlButton(), urlButton()),
		path: 'components[1].buttons',
	},
	{
		rule: 'buttons.phone_count',
		reject: withButtonList(phoneButton(), phoneButton()),
		accept: withButtonList(phoneButton()),
		path: 'components[1].buttons',
	},
	{
		rule: 'buttons.copy_code_count',
		reject: withButtonList(copyCode('A1'), copyCode('B2')),
		accept: withButtonList(copyCode('A1')),
		path: 'components[1].buttons',
	},
	{
		rule: 'buttons.grouping',
		reject: withButtonList(quickReply('a'), urlButton(), quickReply('b')),
		accept: withButtonList(quickReply('a'), quickReply('b'), urlButton()),
		path: 'components[1].buttons',
	},
	{
		rule: 'buttons.otp_alone',
		// The other button is not an OTP one, which authentication also refuses.
		also: ['authentication.buttons'],
		reject: authDef([authBody, authButtons(otp(), quickReply())]),
		accept: authDef([authBody, authButtons(otp())]),
		path: 'components[1].buttons',
	},
	{
		rule: 'button.type',
		reject: withButtonList({ type: 'CATALOG', text: 'Yes' }),
		accept: withButtonList({ type: 'QUICK_REPLY', text: 'Yes' }),
		path: 'components[1].buttons[0].type',
	},
	{
		rule: 'button.otp_category',
		reject: def([hi, authButtons(otp())], { category: 'UTILITY' }),
		accept: authDef([authBody, authButtons(otp())]),
		path: 'components[1].buttons[0].type',
	},
	{
		rule: 'button.otp_type',
		reject: authDef([authBody, authButtons(otp('SMS'))]),
		accept: authDef([authBody, authButtons(otp('ONE_TAP'))]),
		path: 'components[1].buttons[0].otp_type',
	},
	{
		rule: 'button.otp_type',
		note: 'missing',
		reject: authDef([authBody, authButtons({ type: 'OTP', text: 'Copy code' })]),
		accept: authDef([authBody, authButtons(otp('COPY_CODE'))]),
		path: 'components[1].buttons[0].otp_type',
	},
	{
		rule: 'authentication.buttons',
		// Without an OTP button the template also lacks the one authentication needs.
		also: ['authentication.otp_button'],
		reject: authDef([authBody, authButtons(copyCode())]),
		accept: authDef([authBody, authButtons(otp())]),
		path: 'components[1].buttons[0].type',
	},
	{
		rule: 'authentication.otp_button',
		reject: authDef([authBody]),
		accept: authDef([authBody, authButtons(otp())]),
		path: 'components',
	},
	{
		rule: 'authentication.body',
		reject: authDef([{ ...authBody, text: 'Your code is here.' }, authButtons(otp())]),
		accept: authDef([authBody, authButtons(otp())]),
		path: 'components[0].text',
	},
	{
		rule: 'authentication.header',
		reject: authDef([
			{ type: 'HEADER', format: 'TEXT', text: 'Code' },
			authBody,
			authButtons(otp()),
		]),
		accept: authDef([authBody, authButtons(otp())]),
		path: 'components[0]',
	},
	{
		rule: 'button.copy_code_example',
		reject: withButtonList(copyCode(' ')),
		accept: withButtonList(copyCode('SALE25')),
		path: 'components[1].buttons[0].example',
	},
	{
		rule: 'button.copy_code_example',
		note: 'longer than 15',
		reject: withButtonList(copyCode('A'.repeat(16))),
		accept: withButtonList(copyCode('A'.repeat(15))),
		path: 'components[1].buttons[0].example',
	},
	{
		rule: 'button.text_required',
		reject: withButtonList(quickReply(' ')),
		accept: withButtonList(quickReply('Yes')),
		path: 'components[1].buttons[0].text',
	},
	{
		rule: 'button.text_length',
		reject: withButtonList(quickReply('a'.repeat(26))),
		accept: withButtonList(quickReply('a'.repeat(25))),
		path: 'components[1].buttons[0].text',
	},
	{
		rule: 'button.text_plain',
		reject: withButtonList(quickReply('Hi {{1}}')),
		accept: withButtonList(quickReply('Hi 1')),
		path: 'components[1].buttons[0].text',
	},
	{
		rule: 'button.text_plain',
		note: 'a line break',
		reject: withButtonList(quickReply('Hi\nthere')),
		accept: withButtonList(quickReply('Hi there')),
		path: 'components[1].buttons[0].text',
	},
	{
		rule: 'button.phone_required',
		reject: withButtonList(phoneButton(' ')),
		accept: withButtonList(phoneButton('+34 600 000 000')),
		path: 'components[1].buttons[0].phone_number',
	},
	{
		rule: 'button.phone_format',
		reject: withButtonList(phoneButton('600 000 000')),
		accept: withButtonList(phoneButton('+34 600 000 000')),
		path: 'components[1].buttons[0].phone_number',
	},
	{
		rule: 'button.phone_format',
		note: 'longer than 20',
		reject: withButtonList(phoneButton('+1 555 555 555 555 555 5')),
		accept: withButtonList(phoneButton('+1 555 555 555 555 5')),
		path: 'components[1].buttons[0].phone_number',
	},
	{
		rule: 'button.url_required',
		reject: withButtonList(urlButton(' ')),
		accept: withButtonList(urlButton('https://shop.example/a')),
		path: 'components[1].buttons[0].url',
	},
	{
		rule: 'button.url_length',
		reject: withButtonList(urlButton(`https://shop.example/${'a'.repeat(1980)}`)),
		accept: withButtonList(urlButton(`https://shop.example/${'a'.repeat(1979)}`)),
		path: 'components[1].buttons[0].url',
	},
	{
		rule: 'button.url_format',
		reject: withButtonList(urlButton('shop.example/a')),
		accept: withButtonList(urlButton('https://shop.example/a')),
		path: 'components[1].buttons[0].url',
	},
	{
		rule: 'button.url_format',
		note: 'a space',
		reject: withButtonList(urlButton('https://shop example/a')),
		accept: withButtonList(urlButton('https://shop.example/a')),
		path: 'components[1].buttons[0].url',
	},
	{
		rule: 'button.url_variable_count',
		reject: withButtonList(
			urlButton('https://shop.example/{{1}}/{{1}}', ['https://shop.example/a/a']),
		),
		accept: withButtonList(urlButton('https://shop.example/a/{{1}}', ['https://shop.example/a/a'])),
		path: 'components[1].buttons[0].url',
	},
	{
		rule: 'button.url_variable_position',
		reject: withButtonList(
			urlButton('https://shop.example/{{1}}/track', ['https://shop.example/42/track']),
		),
		accept: withButtonList(
			urlButton('https://shop.example/track/{{1}}', ['https://shop.example/track/42']),
		),
		path: 'components[1].buttons[0].url',
	},
	{
		rule: 'button.url_variable_position',
		note: 'in the domain',
		reject: withButtonList(urlButton('https://shop.example{{1}}', ['https://shop.example1'])),
		accept: withButtonList(urlButton('https://shop.example/{{1}}', ['https://shop.example/1'])),
		path: 'components[1].buttons[0].url',
	},
	{
		rule: 'button.url_variable_name',
		reject: withButtonList(
			urlButton('https://shop.example/o/{{2}}', ['https://shop.example/o/42']),
		),
		accept: withButtonList(
			urlButton('https://shop.example/o/{{1}}', ['https://shop.example/o/42']),
		),
		path: 'components[1].buttons[0].url',
	},
	{
		rule: 'button.url_example',
		reject: withButtonList(urlButton('https://shop.example/o/{{1}}', [' '])),
		accept: withButtonList(
			urlButton('https://shop.example/o/{{1}}', ['https://shop.example/o/42']),
		),
		path: 'components[1].buttons[0].example',
	},
]

/** Every rule id validate.ts can emit, read from its `add(path, rule, message)` calls. */
function rulesInSource() {
	const source = readFileSync(fileURLToPath(new URL('./validate.ts', import.meta.url)), 'utf8')
	const calls = source.match(/(?<![.\w])add\(/g) ?? []
	const ids = [
		...source.matchAll(/(?<![.\w])add\(\s*(?:'[^']*'|`[^`]*`|\w+)\s*,\s*'([^']+)'/g),
	].map((m) => m[1])
	// A rule id passed as anything but a literal would escape the list: refuse it instead.
	expect(ids.length, 'every add() call names its rule as a string literal').toBe(calls.length)
	return new Set(ids)
}

describe('every rule: one definition that breaks it, one alike that passes', () => {
	test.each(RULE_CASES.map((c) => [`${c.rule}${c.note ? ` (${c.note})` : ''}`, c] as const))(
		'%s',
		(_, c) => {
			const rejected = validateTemplate(c.reject)
			expect(rejected.ok).toBe(false)
			expect(rejected.errors.map((e) => e.rule).sort()).toEqual([c.rule, ...(c.also ?? [])].sort())
			const hit = rejected.errors.find((e) => e.rule === c.rule)!
			expect(hit.path).toBe(c.path)
			expect(hit.message.length).toBeGreaterThan(10)
			expectOk(c.accept)
		},
	)

	test('every rule validate.ts emits has a case, and every case names a rule it emits', () => {
		const emitted = rulesInSource()
		expect(emitted.size).toBeGreaterThan(50)
		const covered = new Set(RULE_CASES.map((c) => c.rule))
		expect([...emitted].filter((rule) => !covered.has(rule))).toEqual([])
		expect([...covered].filter((rule) => !emitted.has(rule))).toEqual([])
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
