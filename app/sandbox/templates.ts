/**
 * Template rules of the sandbox: what Meta refuses at creation (synchronous errors), what its
 * review rejects (INVALID_FORMAT), and what a send must match (132000/132012). The SDK's own
 * validator is weaker than Meta's review, which is why these are checked here.
 */

export type Component = Record<string, unknown>

export type TemplateShape = {
	parameterFormat: 'NAMED' | 'POSITIONAL'
	/** Distinct body variables in order of first appearance (`'1'`, `'2'` or names). */
	bodyVars: string[]
	bodyText: string
	/** `none`, `text` (with `headerVars`) or a media format such as `IMAGE`. */
	header: 'none' | 'text' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION'
	headerVars: string[]
	/** Indexes of URL buttons whose URL holds a variable. */
	urlButtonIndexes: number[]
	/** Quick-reply buttons: their index among all buttons and their text. */
	quickReplies: Array<{ index: number; text: string }>
}

export type SyncError = { code: number; subcode?: number; title: string; details: string }
export type ReviewRejection = { reason: string; details: string }

const VAR = /\{\{\s*([^{}]*?)\s*\}\}/g
const NAME = /^[a-z0-9_]{1,512}$/
const NAMED_VAR = /^[a-z_]+$/
const LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/
const CATEGORIES = new Set(['MARKETING', 'UTILITY', 'AUTHENTICATION'])

function text(value: unknown) {
	return typeof value === 'string' ? value : ''
}

function upper(value: unknown) {
	return typeof value === 'string' ? value.toUpperCase() : ''
}

export function variablesOf(value: string): string[] {
	const found: string[] = []
	for (const match of value.matchAll(VAR)) found.push(match[1])
	return found
}

function distinct(values: string[]) {
	return [...new Set(values)]
}

function find(components: Component[], type: string) {
	return components.filter((component) => upper(component.type) === type)
}

function buttonsOf(components: Component[]): Component[] {
	const block = find(components, 'BUTTONS')[0]
	return Array.isArray(block?.buttons) ? (block.buttons as Component[]) : []
}

/** Works out what a send must supply for this template. */
export function shapeOf(components: Component[], parameterFormat?: string | null): TemplateShape {
	const body = find(components, 'BODY')[0]
	const header = find(components, 'HEADER')[0]
	const bodyText = text(body?.text)
	const bodyVars = distinct(variablesOf(bodyText))
	const headerFormat = upper(header?.format) || (header ? 'TEXT' : '')
	const buttons = buttonsOf(components)
	return {
		parameterFormat:
			parameterFormat === 'NAMED' || bodyVars.some((name) => !/^\d+$/.test(name))
				? 'NAMED'
				: 'POSITIONAL',
		bodyVars,
		bodyText,
		header: !header
			? 'none'
			: headerFormat === 'TEXT'
				? 'text'
				: (headerFormat as TemplateShape['header']),
		headerVars: headerFormat === 'TEXT' ? distinct(variablesOf(text(header?.text))) : [],
		urlButtonIndexes: buttons.flatMap((button, index) =>
			upper(button.type) === 'URL' && variablesOf(text(button.url)).length > 0 ? [index] : [],
		),
		quickReplies: buttons.flatMap((button, index) =>
			upper(button.type) === 'QUICK_REPLY' ? [{ index, text: text(button.text) }] : [],
		),
	}
}

/** What Meta refuses outright when a template is created (HTTP 400). */
export function creationError(input: {
	name: unknown
	language: unknown
	category: unknown
	components: unknown
}): SyncError | null {
	const invalid = (details: string, subcode?: number): SyncError => ({
		code: 100,
		subcode,
		title: 'Invalid parameter',
		details,
	})
	if (typeof input.name !== 'string' || !NAME.test(input.name))
		return invalid('name must be lowercase letters, digits and underscores')
	if (typeof input.language !== 'string' || !LANGUAGE.test(input.language))
		return invalid('language is not a supported language code')
	if (!CATEGORIES.has(upper(input.category)))
		return invalid('category must be MARKETING, UTILITY or AUTHENTICATION')
	if (!Array.isArray(input.components) || input.components.length === 0)
		return invalid('components are required')
	const components = input.components as Component[]
	if (find(components, 'BODY').length !== 1)
		return invalid('exactly one BODY component is required')
	for (const type of ['HEADER', 'FOOTER', 'BUTTONS']) {
		if (find(components, type).length > 1)
			return invalid(`at most one ${type} component is allowed`)
	}
	const bodyText = text(find(components, 'BODY')[0].text)
	if (bodyText.trim() === '') return invalid('BODY text is required')
	if (bodyText.length > 1024) return invalid('BODY text is longer than 1024 characters')
	const header = find(components, 'HEADER')[0]
	if (header && (upper(header.format) || 'TEXT') === 'TEXT' && text(header.text).length > 60)
		return invalid('HEADER text is longer than 60 characters')
	const footer = find(components, 'FOOTER')[0]
	if (footer && text(footer.text).length > 60)
		return invalid('FOOTER text is longer than 60 characters')
	if (buttonsOf(components).length > 10) return invalid('at most 10 buttons are allowed')
	return null
}

function hasExamples(component: Component | undefined, kind: 'header' | 'body', named: boolean) {
	const example = component?.example as Record<string, unknown> | undefined
	if (!example) return false
	if (kind === 'body') {
		return named
			? Array.isArray(example.body_text_named_params) && example.body_text_named_params.length > 0
			: Array.isArray(example.body_text) && example.body_text.length > 0
	}
	return named
		? Array.isArray(example.header_text_named_params) && example.header_text_named_params.length > 0
		: Array.isArray(example.header_text) && example.header_text.length > 0
}

/**
 * The format rules of Meta's review (reason INVALID_FORMAT): variables at the start or end of the
 * body, gaps in numbering, adjacent variables, mixed or malformed variables, variables in the
 * footer, more than one header variable, missing examples, URL variables not at the end, and
 * more variables than words.
 */
export function reviewRejection(
	components: Component[],
	parameterFormat?: string | null,
): ReviewRejection | null {
	const reject = (details: string): ReviewRejection => ({ reason: 'INVALID_FORMAT', details })
	const body = find(components, 'BODY')[0]
	const bodyText = text(body?.text)
	const header = find(components, 'HEADER')[0]
	const headerText = header && (upper(header.format) || 'TEXT') === 'TEXT' ? text(header.text) : ''
	const vars = [...variablesOf(bodyText), ...variablesOf(headerText)]
	const positional = vars.filter((name) => /^\d+$/.test(name))
	const named = vars.filter((name) => !/^\d+$/.test(name))

	const trimmed = bodyText.trim()
	if (/^\{\{/.test(trimmed)) return reject('The body starts with a variable.')
	if (/\}\}$/.test(trimmed)) return reject('The body ends with a variable.')
	if (/\}\}\s*\{\{/.test(bodyText) || /\}\}\s*\{\{/.test(headerText))
		return reject('Two variables are next to each other with no text between them.')
	if (positional.length > 0 && named.length > 0)
		return reject('Named and numbered variables are mixed.')
	if (parameterFormat === 'NAMED' && positional.length > 0)
		return reject('The template is NAMED but uses numbered variables.')
	if (parameterFormat === 'POSITIONAL' && named.length > 0)
		return reject('The template is POSITIONAL but uses named variables.')
	const badName = named.find((name) => !NAMED_VAR.test(name))
	if (badName !== undefined)
		return reject(`Variable {{${badName}}} is not lowercase letters and underscores.`)
	for (const [label, list] of [
		['body', variablesOf(bodyText)],
		['header', variablesOf(headerText)],
	] as const) {
		const numbers = distinct(list.filter((name) => /^\d+$/.test(name))).map(Number)
		const max = numbers.length ? Math.max(...numbers) : 0
		if (numbers.length !== max)
			return reject(`The ${label} variables are not numbered 1 to ${max} without gaps.`)
	}
	if (variablesOf(headerText).length > 1) return reject('The header has more than one variable.')
	const footer = find(components, 'FOOTER')[0]
	if (footer && variablesOf(text(footer.text)).length > 0)
		return reject('The footer has a variable.')
	const isNamed = named.length > 0
	if (variablesOf(bodyText).length > 0 && !hasExamples(body, 'body', isNamed))
		return reject('The body has variables but no examples.')
	if (variablesOf(headerText).length > 0 && !hasExamples(header, 'header', isNamed))
		return reject('The header has variables but no example.')
	const words = bodyText
		.replace(VAR, ' ')
		.split(/\s+/)
		.filter((word) => /\p{L}/u.test(word)).length
	if (variablesOf(bodyText).length > words)
		return reject('The body has too many variables for its length.')
	for (const button of buttonsOf(components)) {
		if (upper(button.type) !== 'URL') continue
		const url = text(button.url)
		const urlVars = variablesOf(url)
		if (urlVars.length > 1) return reject('A URL button has more than one variable.')
		if (urlVars.length === 1 && !/\{\{\s*[^{}]*\s*\}\}$/.test(url))
			return reject('A URL button variable is not at the end of the URL.')
		if (text(button.text).length > 25) return reject('A button text is longer than 25 characters.')
	}
	return null
}

export type SendParams = {
	header: Array<Record<string, unknown>> | null
	body: Array<Record<string, unknown>>
	buttons: Map<number, Array<Record<string, unknown>>>
	quickReplyPayloads: Map<number, string>
}

/** Groups a send's components by where they go. */
export function sendParamsOf(components: unknown): SendParams {
	const params: SendParams = {
		header: null,
		body: [],
		buttons: new Map(),
		quickReplyPayloads: new Map(),
	}
	if (!Array.isArray(components)) return params
	for (const component of components as Component[]) {
		const type = upper(component.type)
		const list = Array.isArray(component.parameters)
			? (component.parameters as Array<Record<string, unknown>>)
			: []
		if (type === 'HEADER') params.header = list
		else if (type === 'BODY') params.body = list
		else if (type === 'BUTTON') {
			const index = Number(component.index)
			if (upper(component.sub_type) === 'QUICK_REPLY') {
				const payload = list.find((p) => typeof p.payload === 'string')?.payload
				if (typeof payload === 'string') params.quickReplyPayloads.set(index, payload)
			} else params.buttons.set(index, list)
		}
	}
	return params
}

/** What a send is missing or has wrong for this template (132000 / 132012 / 132005), or null. */
export function sendError(shape: TemplateShape, params: SendParams): SyncError | null {
	const mismatch = (details: string): SyncError => ({
		code: 132000,
		title: 'Number of parameters does not match the expected number of params',
		details,
	})
	const format = (details: string): SyncError => ({
		code: 132012,
		title: 'Parameter format does not match format in the created template',
		details,
	})
	if (params.body.length !== shape.bodyVars.length)
		return mismatch(
			`body: number of localizable_params (${params.body.length}) does not match the expected number of params (${shape.bodyVars.length})`,
		)
	if (shape.parameterFormat === 'NAMED') {
		const names = new Set(params.body.map((p) => p.parameter_name))
		if (shape.bodyVars.some((name) => !names.has(name)))
			return format('body: named parameters do not match the template variable names')
	}
	let renderedLength = shape.bodyText.length
	for (const param of params.body) {
		if (
			param.type !== undefined &&
			param.type !== 'text' &&
			param.type !== 'currency' &&
			param.type !== 'date_time'
		)
			return format(`body: parameter type ${String(param.type)} is not allowed`)
		renderedLength += text(param.text).length
	}
	if (renderedLength > 1024 + shape.bodyVars.length * 6)
		return {
			code: 132005,
			title: 'Translated text too long',
			details: 'the body with its parameters is too long',
		}
	if (shape.header === 'text' && shape.headerVars.length > 0) {
		if ((params.header?.length ?? 0) !== shape.headerVars.length)
			return mismatch(`header: expected ${shape.headerVars.length} parameter(s)`)
	} else if (shape.header === 'IMAGE' || shape.header === 'VIDEO' || shape.header === 'DOCUMENT') {
		const kind = shape.header.toLowerCase()
		const param = params.header?.[0]
		if (!param) return mismatch(`header: a ${kind} parameter is required`)
		const media = param[kind] as Record<string, unknown> | undefined
		if (param.type !== kind || !media) return format(`header: expected a ${kind} parameter`)
		if (Boolean(media.id) === Boolean(media.link))
			return format(`header: give either an id or a link`)
	}
	for (const index of shape.urlButtonIndexes) {
		if ((params.buttons.get(index)?.length ?? 0) !== 1)
			return mismatch(`button ${index}: the URL variable needs one parameter`)
	}
	return null
}

/** Meta's phone number rule of thumb: 8 to 15 digits, not starting with 0. */
export function plausibleWaId(to: string): string | null {
	const digits = to.replace(/[\s+\-().]/g, '')
	return /^[1-9]\d{7,14}$/.test(digits) ? digits : null
}
