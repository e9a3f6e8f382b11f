import type { RenderedTemplate } from './content'

type Json = Record<string, unknown>

const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g

function text(value: unknown) {
	return typeof value === 'string' ? value : ''
}

function fill(
	source: string,
	component: 'header' | 'body' | 'button',
	values: Record<string, string>,
	index?: number,
) {
	return source.replace(TOKEN, (raw, name: string) => {
		const key = component === 'button' ? `button:${index}` : `${component}:${name}`
		return values[key] ?? raw
	})
}

/**
 * A template as its recipient saw it: each `{{…}}` replaced by the value sent, keyed like the
 * broadcast ledger's `variables` (`header:1`, `body:first_name`, `button:0`).
 */
export function renderTemplate(
	name: string,
	components: ReadonlyArray<Json>,
	values: Record<string, string>,
): RenderedTemplate {
	const find = (type: string) => components.find((c) => text(c.type).toUpperCase() === type)
	const header = find('HEADER')
	const body = find('BODY')
	const footer = find('FOOTER')
	const buttons = Array.isArray(find('BUTTONS')?.buttons)
		? (find('BUTTONS')?.buttons as Json[])
		: []
	const format = header ? text(header.format).toUpperCase() || 'TEXT' : null
	return {
		name,
		header: header
			? {
					format: format ?? 'TEXT',
					text: format === 'TEXT' ? fill(text(header.text), 'header', values) : null,
				}
			: null,
		body: fill(text(body?.text), 'body', values),
		footer: footer ? text(footer.text) || null : null,
		buttons: buttons.map((button, index) => ({
			type: text(button.type).toUpperCase(),
			text:
				text(button.type).toUpperCase() === 'COPY_CODE'
					? 'Copy offer code'
					: fill(text(button.text), 'button', values, index),
		})),
	}
}

/**
 * The values of a template send (Meta's wire `components`) keyed like `renderTemplate` wants:
 * named parameters by name, positional ones by their place.
 */
export function valuesFromSendComponents(components: unknown): Record<string, string> {
	const values: Record<string, string> = {}
	if (!Array.isArray(components)) return values
	for (const entry of components as Json[]) {
		const type = text(entry.type).toLowerCase()
		const parameters = Array.isArray(entry.parameters) ? (entry.parameters as Json[]) : []
		if (type === 'header' || type === 'body') {
			parameters.forEach((parameter, i) => {
				if (text(parameter.type) !== 'text' && parameter.type !== undefined) return
				const key = text(parameter.parameter_name) || String(i + 1)
				values[`${type}:${key}`] = text(parameter.text)
			})
		} else if (type === 'button' && text(entry.sub_type).toLowerCase() === 'url') {
			values[`button:${Number(entry.index)}`] = text(parameters[0]?.text)
		}
	}
	return values
}
