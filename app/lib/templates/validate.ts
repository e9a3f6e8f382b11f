import {
	extractVariables,
	HEADER_FORMATS,
	PARAMETER_FORMATS,
	TEMPLATE_CATEGORIES,
	type VariableToken,
} from './definition'
import { isSupportedLanguage } from './languages'

/**
 * Checks a Meta create-template JSON against the format rules Meta's review enforces (reference
 * section 4), including those the SDK's own check misses: numbering gaps, variables at the start or
 * end of the body, adjacent variables, footer variables, a URL variable before the end, 3-letter
 * language codes. Runs in the browser as the user types and again on the server before saving.
 */

export type ValidationError = { path: string; rule: string; message: string }
export type ValidationResult = { ok: boolean; errors: ValidationError[] }

export const LIMITS = {
	name: 512,
	headerText: 60,
	bodyText: 1024,
	footerText: 60,
	buttons: 10,
	quickReplies: 10,
	urlButtons: 2,
	phoneButtons: 1,
	copyCodeButtons: 1,
	buttonText: 25,
	url: 2000,
	phone: 20,
	copyCode: 15,
} as const

const NAME_PATTERN = /^[a-z0-9_]+$/
const BUTTON_TYPES = ['QUICK_REPLY', 'URL', 'PHONE_NUMBER', 'COPY_CODE', 'OTP'] as const

type Obj = Record<string, unknown>

function isObj(value: unknown): value is Obj {
	return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function str(value: unknown): string | undefined {
	return typeof value === 'string' ? value : undefined
}

function has(text: string | undefined): text is string {
	return text !== undefined && text.trim() !== ''
}

export function validateTemplate(definition: unknown): ValidationResult {
	const errors: ValidationError[] = []
	const add = (path: string, rule: string, message: string) => errors.push({ path, rule, message })

	if (!isObj(definition)) {
		add(
			'',
			'definition.shape',
			'The template must be an object with name, language, category and components.',
		)
		return { ok: false, errors }
	}

	const name = str(definition.name)
	if (!has(name)) add('name', 'name.required', 'Give the template a name.')
	else {
		if (!NAME_PATTERN.test(name))
			add(
				'name',
				'name.pattern',
				'Name: use only lowercase letters, digits and underscores (e.g. spring_sale_2).',
			)
		if (name.length > LIMITS.name)
			add('name', 'name.length', `Name: at most ${LIMITS.name} characters.`)
	}

	const language = str(definition.language)
	if (!language || !isSupportedLanguage(language))
		add(
			'language',
			'language.supported',
			'Language: choose one of the languages WhatsApp supports.',
		)

	const category = str(definition.category)
	if (!category || !(TEMPLATE_CATEGORIES as readonly string[]).includes(category))
		add('category', 'category.enum', 'Category: choose Marketing, Utility or Authentication.')

	const format = definition.parameter_format ?? 'POSITIONAL'
	if (typeof format !== 'string' || !(PARAMETER_FORMATS as readonly string[]).includes(format))
		add(
			'parameter_format',
			'parameter_format.enum',
			'Variable format: choose numbered ({{1}}) or named ({{first_name}}).',
		)

	const components = definition.components
	if (!Array.isArray(components) || components.length === 0) {
		add('components', 'components.body_required', 'Body: every template needs a body.')
		return { ok: false, errors }
	}

	const seen = new Map<string, number>()
	components.forEach((component, i) => {
		const type = isObj(component) ? str(component.type) : undefined
		if (!type || !['HEADER', 'BODY', 'FOOTER', 'BUTTONS'].includes(type)) {
			add(
				`components[${i}].type`,
				'components.type',
				'Each part must be a header, body, footer or buttons.',
			)
			return
		}
		if (seen.has(type))
			add(
				`components[${i}]`,
				'components.duplicate',
				`A template has at most one ${type.toLowerCase()}.`,
			)
		else seen.set(type, i)
	})
	if (!seen.has('BODY'))
		add('components', 'components.body_required', 'Body: every template needs a body.')

	const isAuth = category === 'AUTHENTICATION'
	const usedKinds = new Set<'positional' | 'named'>()

	const checkTokens = (path: string, label: string, text: string) => {
		const tokens = extractVariables(text)
		for (const token of tokens) {
			if (token.kind === 'invalid')
				add(
					path,
					'variables.invalid',
					`${label}: ${token.raw} is not a valid variable. Use {{1}}, {{2}}… or lowercase names like {{first_name}}.`,
				)
			else usedKinds.add(token.kind)
		}
		const stripped = tokens.reduceRight(
			(t, token) => t.slice(0, token.start) + t.slice(token.end),
			text,
		)
		if (stripped.includes('{{') || stripped.includes('}}'))
			add(
				path,
				'variables.malformed',
				`${label}: a variable is missing a brace; write it as {{1}}.`,
			)
		const valid = tokens.filter((t) => t.kind !== 'invalid')
		for (const token of valid) {
			if ((format === 'POSITIONAL' || format === 'NAMED') && token.kind !== format.toLowerCase())
				add(
					path,
					'variables.format',
					format === 'NAMED'
						? `${label}: ${token.raw} is numbered but this template uses named variables like {{first_name}}.`
						: `${label}: ${token.raw} is named but this template uses numbered variables like {{1}}.`,
				)
		}
		checkSequence(path, label, valid)
		return valid
	}

	const checkSequence = (path: string, label: string, tokens: VariableToken[]) => {
		const numbers = [
			...new Set(tokens.filter((t) => t.kind === 'positional').map((t) => Number(t.key))),
		]
		numbers.sort((a, b) => a - b)
		const gap = numbers.findIndex((n, i) => n !== i + 1)
		if (gap !== -1)
			add(
				path,
				'variables.sequence',
				`${label}: number variables in order from {{1}} without gaps; expected {{${gap + 1}}} but found {{${numbers[gap]}}}.`,
			)
	}

	const checkExamples = (
		path: string,
		label: string,
		tokens: VariableToken[],
		example: unknown,
		positionalKey: 'header_text' | 'body_text',
		namedKey: 'header_text_named_params' | 'body_text_named_params',
	) => {
		if (tokens.length === 0) return
		const ex = isObj(example) ? example : {}
		const named = tokens.some((t) => t.kind === 'named')
		if (named) {
			const list = Array.isArray(ex[namedKey]) ? (ex[namedKey] as unknown[]) : []
			const given = new Map<string, string>()
			for (const entry of list)
				if (isObj(entry) && typeof entry.param_name === 'string')
					given.set(entry.param_name, str(entry.example) ?? '')
			for (const key of new Set(tokens.filter((t) => t.kind === 'named').map((t) => t.key))) {
				if (!given.has(key))
					add(`${path}.example`, 'examples.missing', `${label}: add an example for {{${key}}}.`)
				else if (!has(given.get(key)))
					add(`${path}.example`, 'examples.empty', `${label}: the example for {{${key}}} is empty.`)
			}
			return
		}
		const count = new Set(tokens.map((t) => t.key)).size
		const raw = ex[positionalKey]
		const row: unknown[] | undefined =
			positionalKey === 'header_text'
				? Array.isArray(raw)
					? raw
					: undefined
				: Array.isArray(raw) && Array.isArray(raw[0])
					? (raw[0] as unknown[])
					: undefined
		if (!row || row.length === 0) {
			add(`${path}.example`, 'examples.missing', `${label}: add an example for every variable.`)
			return
		}
		if (row.length !== count)
			add(
				`${path}.example`,
				'examples.count',
				`${label}: ${count} variable${count === 1 ? '' : 's'} but ${row.length} example${row.length === 1 ? '' : 's'}.`,
			)
		row.forEach((value, i) => {
			if (!has(str(value)))
				add(`${path}.example`, 'examples.empty', `${label}: the example for {{${i + 1}}} is empty.`)
		})
	}

	components.forEach((component, i) => {
		if (!isObj(component)) return
		const path = `components[${i}]`
		switch (component.type) {
			case 'HEADER':
				validateHeader(component, path)
				break
			case 'BODY':
				validateBody(component, path)
				break
			case 'FOOTER':
				validateFooter(component, path)
				break
			case 'BUTTONS':
				validateButtons(component, path)
				break
		}
	})

	if (usedKinds.size > 1)
		add(
			'components',
			'variables.mixed',
			'Variables: use either numbered ({{1}}) or named ({{first_name}}) variables, not both.',
		)

	if (isAuth) {
		const buttons = components.find((c) => isObj(c) && c.type === 'BUTTONS')
		const list = isObj(buttons) && Array.isArray(buttons.buttons) ? buttons.buttons : []
		if (!list.some((b) => isObj(b) && b.type === 'OTP'))
			add(
				'components',
				'authentication.otp_button',
				'Authentication templates need a one-time-password button (copy code).',
			)
	}

	return { ok: errors.length === 0, errors }

	function validateHeader(header: Obj, path: string) {
		const headerFormat = str(header.format)
		if (!headerFormat || !(HEADER_FORMATS as readonly string[]).includes(headerFormat)) {
			add(
				`${path}.format`,
				'header.format',
				'Header: choose text, image, video, document or location.',
			)
			return
		}
		if (isAuth) add(path, 'authentication.header', 'Authentication templates cannot have a header.')
		if (headerFormat === 'TEXT') {
			const text = str(header.text)
			if (!has(text)) {
				add(
					`${path}.text`,
					'header.text_required',
					'Header: write the header text, or choose no header.',
				)
				return
			}
			if (text.length > LIMITS.headerText)
				add(
					`${path}.text`,
					'header.text_length',
					`Header: at most ${LIMITS.headerText} characters (now ${text.length}).`,
				)
			const tokens = checkTokens(`${path}.text`, 'Header', text)
			if (new Set(tokens.map((t) => t.key)).size > 1)
				add(`${path}.text`, 'header.variable_count', 'Header: at most one variable.')
			const plain = tokens.reduceRight(
				(t, token) => t.slice(0, token.start) + t.slice(token.end),
				text,
			)
			if (
				/[\n\r]/.test(plain) ||
				/(^|\s)([*_~])\S(.*?\S)?\2($|[\s.,!?;:])/.test(plain) ||
				plain.includes('```')
			)
				add(
					`${path}.text`,
					'header.formatting',
					'Header: no line breaks or formatting (*bold*, _italic_, ~strike~) in the header.',
				)
			checkExamples(
				path,
				'Header',
				tokens,
				header.example,
				'header_text',
				'header_text_named_params',
			)
			return
		}
		if (headerFormat === 'LOCATION') {
			if (category !== 'UTILITY' && category !== 'MARKETING')
				add(
					`${path}.format`,
					'header.location_category',
					'Header: a location header is only allowed in marketing and utility templates.',
				)
			return
		}
		const example = isObj(header.example) ? header.example : {}
		const handles = example.header_handle
		if (!Array.isArray(handles) || handles.length === 0 || !has(str(handles[0])))
			add(
				`${path}.example`,
				'header.media_example',
				`Header: upload a sample ${headerFormat.toLowerCase()} for the review.`,
			)
	}

	function validateBody(body: Obj, path: string) {
		const text = str(body.text)
		if (!has(text)) {
			// Authentication bodies are WhatsApp's fixed text, so they carry none of their own.
			if (!isAuth) add(`${path}.text`, 'body.text_required', 'Body: write the message text.')
			return
		}
		if (isAuth) {
			add(
				`${path}.text`,
				'authentication.body',
				'Authentication templates use WhatsApp’s fixed text ("{{1}} is your verification code."); leave the body text empty.',
			)
			return
		}
		if (text.length > LIMITS.bodyText)
			add(
				`${path}.text`,
				'body.text_length',
				`Body: at most ${LIMITS.bodyText} characters (now ${text.length}).`,
			)
		const tokens = checkTokens(`${path}.text`, 'Body', text)
		const all = extractVariables(text)
		const trimmedStart = text.length - text.trimStart().length
		const trimmedEnd = text.trimEnd().length
		if (all.length > 0 && all[0].start === trimmedStart)
			add(
				`${path}.text`,
				'body.variable_at_start',
				'Body: do not start the message with a variable; put some words before it.',
			)
		if (all.length > 0 && all[all.length - 1].end === trimmedEnd)
			add(
				`${path}.text`,
				'body.variable_at_end',
				'Body: do not end the message with a variable; put some words or punctuation after it.',
			)
		for (let j = 1; j < all.length; j++) {
			if (text.slice(all[j - 1].end, all[j].start).trim() === '') {
				add(
					`${path}.text`,
					'body.adjacent_variables',
					`Body: ${all[j - 1].raw} and ${all[j].raw} are next to each other; put words between them.`,
				)
				break
			}
		}
		// Meta rejects bodies that are mostly variables (2388293); its exact ratio is unpublished, so
		// this only refuses more variables than words, which is surely too many.
		const words = text
			.replace(/\{\{[^{}]*\}\}/g, ' ')
			.split(/\s+/)
			.filter((word) => /\p{L}/u.test(word)).length
		if (all.length > words)
			add(
				`${path}.text`,
				'body.too_many_variables',
				'Body: too many variables for the length of the text; add more words around them.',
			)
		checkExamples(path, 'Body', tokens, body.example, 'body_text', 'body_text_named_params')
	}

	function validateFooter(footer: Obj, path: string) {
		const text = str(footer.text)
		if (!has(text)) {
			if (!(isAuth && typeof footer.code_expiration_minutes === 'number'))
				add(
					`${path}.text`,
					'footer.text_required',
					'Footer: write the footer text, or remove the footer.',
				)
		} else {
			if (text.length > LIMITS.footerText)
				add(
					`${path}.text`,
					'footer.text_length',
					`Footer: at most ${LIMITS.footerText} characters (now ${text.length}).`,
				)
			if (extractVariables(text).length > 0 || text.includes('{{'))
				add(
					`${path}.text`,
					'footer.no_variables',
					'Footer: variables are not allowed in the footer.',
				)
		}
		const minutes = footer.code_expiration_minutes
		if (minutes !== undefined) {
			if (!isAuth)
				add(
					`${path}.code_expiration_minutes`,
					'footer.code_expiration',
					'Footer: a code expiry only applies to authentication templates.',
				)
			else if (
				typeof minutes !== 'number' ||
				!Number.isInteger(minutes) ||
				minutes < 1 ||
				minutes > 90
			)
				add(
					`${path}.code_expiration_minutes`,
					'footer.code_expiration',
					'Footer: the code expiry is 1 to 90 minutes.',
				)
		}
	}

	function validateButtons(block: Obj, path: string) {
		const buttons = Array.isArray(block.buttons) ? block.buttons : []
		if (buttons.length === 0) {
			add(
				`${path}.buttons`,
				'buttons.empty',
				'Buttons: add at least one button, or remove the buttons.',
			)
			return
		}
		const types = buttons.map((b) => (isObj(b) ? str(b.type) : undefined))
		const count = (t: string) => types.filter((x) => x === t).length
		if (buttons.length > LIMITS.buttons)
			add(
				`${path}.buttons`,
				'buttons.count',
				`Buttons: at most ${LIMITS.buttons} buttons in total.`,
			)
		if (count('QUICK_REPLY') > LIMITS.quickReplies)
			add(
				`${path}.buttons`,
				'buttons.quick_reply_count',
				`Buttons: at most ${LIMITS.quickReplies} quick replies.`,
			)
		if (count('URL') > LIMITS.urlButtons)
			add(
				`${path}.buttons`,
				'buttons.url_count',
				`Buttons: at most ${LIMITS.urlButtons} website buttons.`,
			)
		if (count('PHONE_NUMBER') > LIMITS.phoneButtons)
			add(`${path}.buttons`, 'buttons.phone_count', 'Buttons: at most one call button.')
		if (count('COPY_CODE') > LIMITS.copyCodeButtons)
			add(`${path}.buttons`, 'buttons.copy_code_count', 'Buttons: at most one copy-code button.')
		// Quick replies must form one group, before or after the call-to-action buttons.
		let groups = 0
		let previous: boolean | undefined
		for (const t of types) {
			const quick = t === 'QUICK_REPLY'
			if (quick !== previous) groups++
			previous = quick
		}
		if (groups > 2)
			add(
				`${path}.buttons`,
				'buttons.grouping',
				'Buttons: keep quick replies together, all before or all after the other buttons.',
			)
		if (count('OTP') > 0 && buttons.length > 1)
			add(
				`${path}.buttons`,
				'buttons.otp_alone',
				'Buttons: the one-time-password button must be the only button.',
			)

		buttons.forEach((button, j) => validateButton(button, `${path}.buttons[${j}]`, j))
	}

	function validateButton(button: unknown, path: string, index: number) {
		const label = `Button ${index + 1}`
		if (!isObj(button) || !(BUTTON_TYPES as readonly string[]).includes(str(button.type) ?? '')) {
			add(
				`${path}.type`,
				'button.type',
				`${label}: choose quick reply, website, call or copy code.`,
			)
			return
		}
		const type = button.type as (typeof BUTTON_TYPES)[number]
		if (type === 'OTP') {
			if (!isAuth)
				add(
					`${path}.type`,
					'button.otp_category',
					`${label}: one-time-password buttons are only for authentication templates.`,
				)
			if (!['COPY_CODE', 'ONE_TAP', 'ZERO_TAP'].includes(str(button.otp_type) ?? ''))
				add(
					`${path}.otp_type`,
					'button.otp_type',
					`${label}: choose how the code is delivered (copy code).`,
				)
			return
		}
		if (isAuth)
			add(
				`${path}.type`,
				'authentication.buttons',
				`${label}: authentication templates only have the one-time-password button.`,
			)
		if (type === 'COPY_CODE') {
			const example = str(button.example)
			if (!has(example))
				add(
					`${path}.example`,
					'button.copy_code_example',
					`${label}: give an example code for the review.`,
				)
			else if (example.length > LIMITS.copyCode)
				add(
					`${path}.example`,
					'button.copy_code_example',
					`${label}: the example code is at most ${LIMITS.copyCode} characters.`,
				)
			return
		}
		const text = str(button.text)
		if (!has(text)) add(`${path}.text`, 'button.text_required', `${label}: write the button text.`)
		else {
			if (text.length > LIMITS.buttonText)
				add(
					`${path}.text`,
					'button.text_length',
					`${label}: at most ${LIMITS.buttonText} characters (now ${text.length}).`,
				)
			if (text.includes('{{') || /[\n\r]/.test(text))
				add(
					`${path}.text`,
					'button.text_plain',
					`${label}: button text cannot have variables or line breaks.`,
				)
		}
		if (type === 'PHONE_NUMBER') {
			const phone = str(button.phone_number)
			if (!has(phone))
				add(
					`${path}.phone_number`,
					'button.phone_required',
					`${label}: enter the phone number to call.`,
				)
			else if (phone.length > LIMITS.phone || !/^\+[1-9][0-9 ]{5,}$/.test(phone.trim()))
				add(
					`${path}.phone_number`,
					'button.phone_format',
					`${label}: write the number in international format, e.g. +34 600 000 000 (at most ${LIMITS.phone} characters).`,
				)
		}
		if (type === 'URL') validateUrlButton(button, path, label)
	}

	function validateUrlButton(button: Obj, path: string, label: string) {
		const url = str(button.url)
		if (!has(url)) {
			add(`${path}.url`, 'button.url_required', `${label}: enter the website address.`)
			return
		}
		if (url.length > LIMITS.url)
			add(
				`${path}.url`,
				'button.url_length',
				`${label}: the address is at most ${LIMITS.url} characters.`,
			)
		const tokens = extractVariables(url)
		const stripped = url.replace(/\{\{[^{}]*\}\}/g, 'x')
		if (
			!/^https?:\/\/[^\s/?#{}]+\.[^\s/?#{}]+(?:[/?#]\S*)?$/i.test(stripped) ||
			stripped.includes('{') ||
			stripped.includes('}')
		)
			add(
				`${path}.url`,
				'button.url_format',
				`${label}: the address must start with https:// and have no spaces.`,
			)
		if (tokens.length === 0) return
		if (tokens.length > 1)
			add(
				`${path}.url`,
				'button.url_variable_count',
				`${label}: a website address can have only one variable.`,
			)
		const last = tokens[tokens.length - 1]
		const afterScheme = url.replace(/^https?:\/\//i, '')
		const hostEnd = afterScheme.search(/[/?#]/)
		const hostHasVariable = (hostEnd === -1 ? afterScheme : afterScheme.slice(0, hostEnd)).includes(
			'{{',
		)
		if (tokens.length === 1 && (last.end !== url.trimEnd().length || hostHasVariable))
			add(
				`${path}.url`,
				'button.url_variable_position',
				`${label}: the variable must be at the very end of the address, after the domain (e.g. https://shop.example/order/{{1}}).`,
			)
		if (tokens.some((t) => t.key !== '1'))
			add(
				`${path}.url`,
				'button.url_variable_name',
				`${label}: the variable in a website address is always {{1}}.`,
			)
		const example = Array.isArray(button.example) ? button.example : []
		if (!has(str(example[0])))
			add(
				`${path}.example`,
				'button.url_example',
				`${label}: give an example of the full address with the variable filled in.`,
			)
	}
}
