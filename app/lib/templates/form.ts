import {
	distinctVariableKeys,
	examplesByKey,
	findComponent,
	type HeaderFormat,
	type ParameterFormat,
	type TemplateButton,
	type TemplateCategory,
	type TemplateComponent,
	type TemplateDefinition,
} from './definition'
import type { ValidationError } from './validate'

/**
 * The editor's fields, flat enough to post as a plain form (the page works without JavaScript) and
 * to rebuild the Meta create JSON from, in the browser for the live preview and on the server.
 */

export type ButtonType = 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER' | 'COPY_CODE'

export type ButtonState = {
	type: ButtonType
	text: string
	url: string
	urlExample: string
	phone: string
	code: string
}

export type TemplateFormState = {
	wabaId: string
	name: string
	language: string
	category: TemplateCategory
	parameterFormat: ParameterFormat
	headerFormat: 'NONE' | HeaderFormat
	headerText: string
	headerHandle: string
	bodyText: string
	footerText: string
	/** Examples by `header:<key>` / `body:<key>`, e.g. `body:1`, `body:first_name`. */
	examples: Record<string, string>
	securityRecommendation: boolean
	codeExpirationMinutes: string
	otpText: string
	buttons: ButtonState[]
}

export const BUTTON_TYPE_LABEL: Record<ButtonType, string> = {
	QUICK_REPLY: 'Quick reply',
	URL: 'Website (URL)',
	PHONE_NUMBER: 'Call a phone number',
	COPY_CODE: 'Copy offer code',
}

export function emptyButton(type: ButtonType = 'QUICK_REPLY'): ButtonState {
	return { type, text: '', url: '', urlExample: '', phone: '', code: '' }
}

export function emptyFormState(wabaId: string): TemplateFormState {
	return {
		wabaId,
		name: '',
		language: 'en_US',
		category: 'MARKETING',
		parameterFormat: 'POSITIONAL',
		headerFormat: 'NONE',
		headerText: '',
		headerHandle: '',
		bodyText: '',
		footerText: '',
		examples: {},
		securityRecommendation: true,
		codeExpirationMinutes: '',
		otpText: 'Copy code',
		buttons: [],
	}
}

/** The variables the editor asks examples for, in order: header first, then body. */
export function exampleSlots(state: TemplateFormState) {
	const slots: Array<{ id: string; part: 'header' | 'body'; key: string }> = []
	if (state.headerFormat === 'TEXT')
		for (const key of distinctVariableKeys(state.headerText))
			slots.push({ id: `header:${key}`, part: 'header', key })
	if (state.category !== 'AUTHENTICATION')
		for (const key of distinctVariableKeys(state.bodyText))
			slots.push({ id: `body:${key}`, part: 'body', key })
	return slots
}

function textExample(state: TemplateFormState, part: 'header' | 'body', text: string) {
	const keys = distinctVariableKeys(text)
	if (keys.length === 0) return undefined
	const value = (key: string) => state.examples[`${part}:${key}`] ?? ''
	if (state.parameterFormat === 'NAMED') {
		const named = keys.map((key) => ({ param_name: key, example: value(key) }))
		return part === 'header'
			? { header_text_named_params: named }
			: { body_text_named_params: named }
	}
	const values = keys.map(value)
	return part === 'header' ? { header_text: values } : { body_text: [values] }
}

function buttonDefinition(button: ButtonState): TemplateButton {
	switch (button.type) {
		case 'URL':
			return {
				type: 'URL',
				text: button.text,
				url: button.url,
				...(button.url.includes('{{') ? { example: [button.urlExample] } : {}),
			}
		case 'PHONE_NUMBER':
			return { type: 'PHONE_NUMBER', text: button.text, phone_number: button.phone }
		case 'COPY_CODE':
			return { type: 'COPY_CODE', example: button.code }
		default:
			return { type: 'QUICK_REPLY', text: button.text }
	}
}

export function formStateToDefinition(state: TemplateFormState): TemplateDefinition {
	const components: TemplateComponent[] = []
	const isAuth = state.category === 'AUTHENTICATION'
	if (isAuth) {
		components.push({ type: 'BODY', add_security_recommendation: state.securityRecommendation })
		const minutes = Number(state.codeExpirationMinutes)
		if (state.codeExpirationMinutes.trim() !== '')
			components.push({
				type: 'FOOTER',
				code_expiration_minutes: Number.isFinite(minutes) ? minutes : NaN,
			})
		components.push({
			type: 'BUTTONS',
			buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: state.otpText || 'Copy code' }],
		})
	} else {
		if (state.headerFormat === 'TEXT') {
			const example = textExample(state, 'header', state.headerText)
			components.push({
				type: 'HEADER',
				format: 'TEXT',
				text: state.headerText,
				...(example ? { example } : {}),
			})
		} else if (state.headerFormat === 'LOCATION') {
			components.push({ type: 'HEADER', format: 'LOCATION' })
		} else if (state.headerFormat !== 'NONE') {
			components.push({
				type: 'HEADER',
				format: state.headerFormat,
				...(state.headerHandle.trim()
					? { example: { header_handle: [state.headerHandle.trim()] } }
					: {}),
			})
		}
		const example = textExample(state, 'body', state.bodyText)
		components.push({ type: 'BODY', text: state.bodyText, ...(example ? { example } : {}) })
		if (state.footerText.trim()) components.push({ type: 'FOOTER', text: state.footerText })
		if (state.buttons.length > 0)
			components.push({ type: 'BUTTONS', buttons: state.buttons.map(buttonDefinition) })
	}
	return {
		name: state.name.trim(),
		language: state.language,
		category: state.category,
		parameter_format: state.parameterFormat,
		components,
	}
}

export function definitionToFormState(
	definition: TemplateDefinition,
	wabaId: string,
): TemplateFormState {
	const state = emptyFormState(wabaId)
	state.name = definition.name
	state.language = definition.language
	state.category = definition.category
	state.parameterFormat = definition.parameter_format ?? 'POSITIONAL'
	const header = findComponent(definition.components, 'HEADER')
	const body = findComponent(definition.components, 'BODY')
	const footer = findComponent(definition.components, 'FOOTER')
	const buttons = findComponent(definition.components, 'BUTTONS')?.buttons ?? []
	if (header) {
		state.headerFormat = header.format
		state.headerText = header.text ?? ''
		state.headerHandle = header.example?.header_handle?.[0] ?? ''
		for (const [key, value] of Object.entries(examplesByKey(header)))
			state.examples[`header:${key}`] = value
	}
	if (body) {
		state.bodyText = body.text ?? ''
		state.securityRecommendation = body.add_security_recommendation ?? state.securityRecommendation
		for (const [key, value] of Object.entries(examplesByKey(body)))
			state.examples[`body:${key}`] = value
	}
	if (footer) {
		state.footerText = footer.text ?? ''
		state.codeExpirationMinutes = footer.code_expiration_minutes?.toString() ?? ''
	}
	for (const button of buttons) {
		if (button.type === 'OTP') state.otpText = button.text ?? state.otpText
		else if (button.type === 'URL')
			state.buttons.push({
				...emptyButton('URL'),
				text: button.text,
				url: button.url,
				urlExample: button.example?.[0] ?? '',
			})
		else if (button.type === 'PHONE_NUMBER')
			state.buttons.push({
				...emptyButton('PHONE_NUMBER'),
				text: button.text,
				phone: button.phone_number,
			})
		else if (button.type === 'COPY_CODE')
			state.buttons.push({ ...emptyButton('COPY_CODE'), code: button.example })
		else state.buttons.push({ ...emptyButton('QUICK_REPLY'), text: button.text })
	}
	return state
}

const BUTTON_TYPES: ButtonType[] = ['QUICK_REPLY', 'URL', 'PHONE_NUMBER', 'COPY_CODE']

/**
 * Parts of a template (usually one made in WhatsApp Manager) that the editor cannot show, so that
 * saving it here would silently drop them: carousels, flows, catalogs, limited-time offers….
 */
export function unsupportedFeatures(components: ReadonlyArray<Record<string, unknown>>): string[] {
	const found = new Set<string>()
	for (const component of components) {
		const type = String(component.type ?? '').toUpperCase()
		if (!['HEADER', 'BODY', 'FOOTER', 'BUTTONS'].includes(type))
			found.add(type.toLowerCase() || 'unknown part')
		if (
			type === 'HEADER' &&
			!['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION'].includes(
				String(component.format ?? '').toUpperCase(),
			)
		)
			found.add(`${String(component.format ?? 'unknown').toLowerCase()} header`)
		if (type === 'BUTTONS' && Array.isArray(component.buttons))
			for (const button of component.buttons as Array<Record<string, unknown>>) {
				const kind = String(button.type ?? '').toUpperCase()
				if (![...BUTTON_TYPES, 'OTP'].includes(kind as ButtonType))
					found.add(`${kind.toLowerCase()} button`)
			}
	}
	return [...found]
}

/** Reads the editor's fields from a posted form (names as rendered by the editor). */
export function formStateFromFormData(data: FormData): TemplateFormState {
	const get = (name: string) => {
		const value = data.get(name)
		return typeof value === 'string' ? value : ''
	}
	const pick = <T extends string>(value: string, allowed: readonly T[], fallback: T) =>
		(allowed as readonly string[]).includes(value) ? (value as T) : fallback
	const state = emptyFormState(get('wabaId'))
	state.name = get('name')
	state.language = get('language')
	state.category = pick(get('category'), ['MARKETING', 'UTILITY', 'AUTHENTICATION'], 'MARKETING')
	state.parameterFormat = pick(get('parameterFormat'), ['POSITIONAL', 'NAMED'], 'POSITIONAL')
	state.headerFormat = pick(
		get('headerFormat'),
		['NONE', 'TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION'],
		'NONE',
	)
	state.headerText = get('headerText')
	state.headerHandle = get('headerHandle')
	state.bodyText = get('bodyText')
	state.footerText = get('footerText')
	state.securityRecommendation = data.get('securityRecommendation') === 'on'
	state.codeExpirationMinutes = get('codeExpirationMinutes')
	state.otpText = get('otpText') || 'Copy code'
	for (const [name, value] of data.entries()) {
		if (name.startsWith('example:') && typeof value === 'string')
			state.examples[name.slice('example:'.length)] = value
	}
	const count = Math.min(20, Number(get('buttonCount')) || 0)
	for (let i = 0; i < count; i++) {
		const type = get(`button.${i}.type`)
		if (!type) continue
		state.buttons.push({
			type: pick(type, BUTTON_TYPES, 'QUICK_REPLY'),
			text: get(`button.${i}.text`),
			url: get(`button.${i}.url`),
			urlExample: get(`button.${i}.urlExample`),
			phone: get(`button.${i}.phone`),
			code: get(`button.${i}.code`),
		})
	}
	return state
}

/** Editor areas an error belongs to, so it shows next to the right field. */
export type FieldKey = string

/**
 * Groups validator errors by editor field: `name`, `language`, `category`, `parameterFormat`,
 * `header`, `headerExamples`, `body`, `bodyExamples`, `footer`, `buttons`, `button.<i>`, `form`.
 */
export function errorsByField(definition: TemplateDefinition, errors: ValidationError[]) {
	const result: Record<FieldKey, string[]> = {}
	const push = (key: string, message: string) => (result[key] ??= []).push(message)
	for (const error of errors) {
		const top = /^(name|language|category|parameter_format)$/.exec(error.path)
		if (top) {
			push(top[1] === 'parameter_format' ? 'parameterFormat' : top[1], error.message)
			continue
		}
		const match = /^components\[(\d+)\](.*)$/.exec(error.path)
		if (!match) {
			push(error.rule === 'components.body_required' ? 'body' : 'form', error.message)
			continue
		}
		const component = definition.components[Number(match[1])]
		const part = component?.type?.toLowerCase() ?? 'form'
		const button = /^\.buttons\[(\d+)\]/.exec(match[2])
		if (button) push(`button.${button[1]}`, error.message)
		else if (match[2].startsWith('.example') && (part === 'header' || part === 'body'))
			push(`${part}Examples`, error.message)
		else push(part, error.message)
	}
	return result
}
