import { expect, test } from 'vitest'
import type { TemplateDefinition } from './definition'
import {
	definitionToFormState,
	emptyButton,
	emptyFormState,
	errorsByField,
	formStateFromFormData,
	formStateToDefinition,
	unsupportedFeatures,
} from './form'
import { validateTemplate } from './validate'

const definition: TemplateDefinition = {
	name: 'order_ready',
	language: 'es',
	category: 'UTILITY',
	parameter_format: 'POSITIONAL',
	components: [
		{ type: 'HEADER', format: 'TEXT', text: 'Pedido {{1}}', example: { header_text: ['A-1'] } },
		{
			type: 'BODY',
			text: 'Hola {{1}}, tu pedido {{2}} está listo.',
			example: { body_text: [['Ana', 'A-1']] },
		},
		{ type: 'FOOTER', text: 'Tienda' },
		{
			type: 'BUTTONS',
			buttons: [
				{
					type: 'URL',
					text: 'Ver',
					url: 'https://t.example/p/{{1}}',
					example: ['https://t.example/p/A-1'],
				},
				{ type: 'PHONE_NUMBER', text: 'Llamar', phone_number: '+34600000000' },
				{ type: 'QUICK_REPLY', text: 'Gracias' },
			],
		},
	],
}

test('a definition survives the round trip through the editor state', () => {
	expect(formStateToDefinition(definitionToFormState(definition, 'w'))).toEqual(definition)
})

test('named variables produce named examples', () => {
	const state = emptyFormState('w')
	Object.assign(state, {
		name: 'promo',
		parameterFormat: 'NAMED',
		bodyText: 'Hi {{first_name}}, use {{code}} today.',
		examples: { 'body:first_name': 'Ann', 'body:code': 'X1' },
	})
	const result = formStateToDefinition(state)
	expect(result.components).toEqual([
		{
			type: 'BODY',
			text: 'Hi {{first_name}}, use {{code}} today.',
			example: {
				body_text_named_params: [
					{ param_name: 'first_name', example: 'Ann' },
					{ param_name: 'code', example: 'X1' },
				],
			},
		},
	])
	expect(validateTemplate(result).ok).toBe(true)
})

test('the posted form is read back into the same state', () => {
	const state = definitionToFormState(definition, '200000000000001')
	const data = new FormData()
	for (const [key, value] of Object.entries(state))
		if (typeof value === 'string') data.set(key, value)
	for (const [key, value] of Object.entries(state.examples)) data.set(`example:${key}`, value)
	data.set('securityRecommendation', 'on')
	data.set('buttonCount', String(state.buttons.length + 1))
	state.buttons.forEach((button, i) => {
		for (const [key, value] of Object.entries(button)) data.set(`button.${i}.${key}`, value)
	})
	expect(formStateFromFormData(data)).toEqual(state)
})

test('authentication templates use the fixed form', () => {
	const state = {
		...emptyFormState('w'),
		name: 'login_code',
		category: 'AUTHENTICATION' as const,
		codeExpirationMinutes: '10',
	}
	state.buttons = [emptyButton()]
	const result = formStateToDefinition(state)
	expect(result.components.map((c) => c.type)).toEqual(['BODY', 'FOOTER', 'BUTTONS'])
	expect(validateTemplate(result).ok).toBe(true)
})

test('errors are grouped by the field they belong to', () => {
	const broken: TemplateDefinition = {
		...definition,
		name: 'Bad Name',
		components: [
			definition.components[0],
			{ type: 'BODY', text: '{{1}} hi {{3}}.', example: { body_text: [['a']] } },
			{ type: 'FOOTER', text: 'x {{1}}' },
			{
				type: 'BUTTONS',
				buttons: [{ type: 'URL', text: 'Ver', url: 'https://t.example/{{1}}/x', example: ['e'] }],
			},
		],
	}
	const fields = errorsByField(broken, validateTemplate(broken).errors)
	expect(Object.keys(fields).sort()).toEqual(['body', 'bodyExamples', 'button.0', 'footer', 'name'])
})

test('features the editor cannot show are named, so an edit cannot drop them', () => {
	expect(unsupportedFeatures(definition.components as never)).toEqual([])
	expect(
		unsupportedFeatures([
			{ type: 'BODY', text: 'x' },
			{ type: 'CAROUSEL', cards: [] },
			{ type: 'BUTTONS', buttons: [{ type: 'FLOW', text: 'Open' }] },
		]),
	).toEqual(['carousel', 'flow button'])
})
