import {
	distinctVariableKeys,
	type BodyComponent,
	type HeaderComponent,
	type TemplateComponent,
} from '#app/lib/templates/definition'

/**
 * The template's components with one recipient's values in place of the examples, so the
 * templates' chat-bubble preview shows the message as that recipient would receive it.
 * `values` is keyed like the variable mapping (`header:1`, `body:first_name`, …).
 */
export function componentsForRecipient(
	components: readonly TemplateComponent[],
	values: Record<string, string>,
): TemplateComponent[] {
	return components.map((component) => {
		if (component.type === 'HEADER' && component.format === 'TEXT' && component.text) {
			const named = distinctVariableKeys(component.text).map((key) => ({
				param_name: key,
				example: values[`header:${key}`] ?? `{{${key}}}`,
			}))
			return {
				...component,
				example: { header_text_named_params: named },
			} satisfies HeaderComponent
		}
		if (component.type === 'BODY' && component.text) {
			const named = distinctVariableKeys(component.text).map((key) => ({
				param_name: key,
				example: values[`body:${key}`] ?? `{{${key}}}`,
			}))
			return { ...component, example: { body_text_named_params: named } } satisfies BodyComponent
		}
		return component
	})
}
