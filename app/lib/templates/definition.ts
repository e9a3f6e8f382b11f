/**
 * The Meta create-template JSON (snake_case, as POSTed to `/{waba_id}/message_templates`) and the
 * helpers that read variables out of it. Shared by the browser (editor, preview) and the server.
 */

export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number]

export const PARAMETER_FORMATS = ['POSITIONAL', 'NAMED'] as const
export type ParameterFormat = (typeof PARAMETER_FORMATS)[number]

export const HEADER_FORMATS = ['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION'] as const
export type HeaderFormat = (typeof HEADER_FORMATS)[number]

export type NamedExample = { param_name: string; example: string }

export type HeaderComponent = {
	type: 'HEADER'
	format: HeaderFormat
	text?: string
	example?: {
		header_text?: string[]
		header_text_named_params?: NamedExample[]
		header_handle?: string[]
		/**
		 * LOCATION only, for previews: Meta takes the place at send time and has no example field
		 * for it, so this never goes into a create call.
		 */
		location?: { latitude?: number; longitude?: number; name?: string; address?: string }
	}
}

export type BodyComponent = {
	type: 'BODY'
	text?: string
	/** AUTHENTICATION only: WhatsApp adds "For your security, do not share this code." */
	add_security_recommendation?: boolean
	example?: { body_text?: string[][]; body_text_named_params?: NamedExample[] }
}

export type FooterComponent = {
	type: 'FOOTER'
	text?: string
	/** AUTHENTICATION only: WhatsApp writes "This code expires in N minutes." */
	code_expiration_minutes?: number
}

export type TemplateButton =
	| { type: 'QUICK_REPLY'; text: string }
	| { type: 'URL'; text: string; url: string; example?: string[] }
	| { type: 'PHONE_NUMBER'; text: string; phone_number: string }
	| { type: 'COPY_CODE'; example: string }
	| { type: 'OTP'; otp_type: 'COPY_CODE' | 'ONE_TAP' | 'ZERO_TAP'; text?: string }

export type ButtonsComponent = { type: 'BUTTONS'; buttons: TemplateButton[] }

export type TemplateComponent = HeaderComponent | BodyComponent | FooterComponent | ButtonsComponent

export type TemplateDefinition = {
	name: string
	language: string
	category: TemplateCategory
	parameter_format?: ParameterFormat
	components: TemplateComponent[]
}

export type VariableToken = {
	/** The token as written, e.g. `{{1}}` or `{{first_name}}`. */
	raw: string
	/** What is inside the braces, trimmed. */
	key: string
	kind: 'positional' | 'named' | 'invalid'
	/** Offset of the token in the text. */
	start: number
	end: number
}

const TOKEN = /\{\{([^{}]*)\}\}/g
const POSITIONAL_KEY = /^[1-9][0-9]*$/
/** Meta: named parameters are lowercase letters and underscores. */
const NAMED_KEY = /^[a-z_]+$/

/** Every `{{…}}` in `text`, in order, classified. */
export function extractVariables(text: string): VariableToken[] {
	const tokens: VariableToken[] = []
	for (const match of text.matchAll(TOKEN)) {
		const key = match[1]
		const kind = POSITIONAL_KEY.test(key) ? 'positional' : NAMED_KEY.test(key) ? 'named' : 'invalid'
		tokens.push({
			raw: match[0],
			key,
			kind,
			start: match.index,
			end: match.index + match[0].length,
		})
	}
	return tokens
}

/** Distinct variable keys in order of first appearance (positional keys sorted numerically). */
export function distinctVariableKeys(text: string): string[] {
	const keys: string[] = []
	for (const token of extractVariables(text)) {
		if (token.kind !== 'invalid' && !keys.includes(token.key)) keys.push(token.key)
	}
	const allPositional = keys.every((key) => POSITIONAL_KEY.test(key))
	return allPositional ? keys.sort((a, b) => Number(a) - Number(b)) : keys
}

export function findComponent<T extends TemplateComponent['type']>(
	components: readonly TemplateComponent[],
	type: T,
): Extract<TemplateComponent, { type: T }> | undefined {
	return components.find((c) => c.type === type) as
		Extract<TemplateComponent, { type: T }> | undefined
}

export type TemplateVariables = {
	/** Header text variables (at most one), in order. */
	header: string[]
	/** Body variables: `['1','2']` for positional, names for named. */
	body: string[]
	/** URL buttons with a trailing variable: the button's index in the BUTTONS block. */
	urlButtons: Array<{ index: number; text: string }>
	/** A media header needs a media link or id at send time. */
	mediaHeader: 'IMAGE' | 'VIDEO' | 'DOCUMENT' | null
	/** A location header needs coordinates at send time. */
	locationHeader: boolean
	/** A copy-code button needs the code at send time. */
	copyCodeButtonIndex: number | null
}

/** What a send must supply for this template: the broadcast engine maps each of these. */
export function templateVariables(components: readonly TemplateComponent[]): TemplateVariables {
	const header = findComponent(components, 'HEADER')
	const body = findComponent(components, 'BODY')
	const buttons = findComponent(components, 'BUTTONS')?.buttons ?? []
	const mediaHeader =
		header &&
		(header.format === 'IMAGE' || header.format === 'VIDEO' || header.format === 'DOCUMENT')
			? header.format
			: null
	const copyCodeIndex = buttons.findIndex((b) => b.type === 'COPY_CODE')
	return {
		header: header?.format === 'TEXT' && header.text ? distinctVariableKeys(header.text) : [],
		body: body?.text ? distinctVariableKeys(body.text) : [],
		urlButtons: buttons.flatMap((button, index) =>
			button.type === 'URL' && extractVariables(button.url).length > 0
				? [{ index, text: button.text }]
				: [],
		),
		mediaHeader,
		locationHeader: header?.format === 'LOCATION',
		copyCodeButtonIndex: copyCodeIndex === -1 ? null : copyCodeIndex,
	}
}

/** The example for each variable of a text component, keyed like `distinctVariableKeys`. */
export function examplesByKey(
	component: HeaderComponent | BodyComponent | undefined,
): Record<string, string> {
	const result: Record<string, string> = {}
	if (!component?.text || !component.example) return result
	const keys = distinctVariableKeys(component.text)
	const example = component.example as Record<string, unknown>
	const named = (example.header_text_named_params ?? example.body_text_named_params) as
		NamedExample[] | undefined
	if (Array.isArray(named)) {
		for (const entry of named) {
			if (entry && typeof entry.param_name === 'string')
				result[entry.param_name] = String(entry.example ?? '')
		}
		return result
	}
	const positional = Array.isArray(example.header_text)
		? (example.header_text as unknown[])
		: Array.isArray(example.body_text) && Array.isArray(example.body_text[0])
			? (example.body_text[0] as unknown[])
			: []
	// Positional examples are listed in variable order: {{1}} first.
	keys.forEach((key, i) => {
		if (positional[i] != null) result[key] = String(positional[i])
	})
	return result
}
