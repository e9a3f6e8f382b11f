import type { Executor } from '#db/client'
import type { Role } from '#db/schema/index'
import type { TemplateDefinition } from './definition'
import {
	definitionToFormState,
	emptyButton,
	formStateFromFormData,
	formStateToDefinition,
	type TemplateFormState,
	unsupportedFeatures,
} from './form'
import { allowedActions } from './status'
import { definitionOf, getTemplate, TemplateError, type Template } from './templates.server'
import type { ValidationError } from './validate'

export type EditorActionData = {
	state: TemplateFormState
	/** Changes on every answer so the editor restarts from `state`. */
	version: number
	/** Errors only the server can find (a taken name, an unknown account), shown until the next edit. */
	serverErrors: ValidationError[]
	formError: string | null
	status: number
}

/**
 * The editor's form post: adding or removing a button without JavaScript re-renders the form; a
 * save runs `save` and turns refused input into the editor's state with its errors.
 */
export async function editorAction(
	request: Request,
	save: (state: TemplateFormState, definition: TemplateDefinition) => Promise<Template>,
): Promise<{ saved: Template } | EditorActionData> {
	const data = await request.formData()
	const state = formStateFromFormData(data)
	const intent = String(data.get('intent') ?? 'save')
	const answer = (
		status: number,
		serverErrors: ValidationError[] = [],
		formError: string | null = null,
	): EditorActionData => ({
		state,
		version: Date.now(),
		serverErrors,
		formError,
		status,
	})
	if (intent === 'add_button') {
		state.buttons.push(emptyButton())
		return answer(200)
	}
	if (intent.startsWith('remove_button:')) {
		state.buttons.splice(Number(intent.slice('remove_button:'.length)), 1)
		return answer(200)
	}
	try {
		return { saved: await save(state, formStateToDefinition(state)) }
	} catch (error) {
		if (!(error instanceof TemplateError)) throw error
		const status = { invalid: 400, forbidden: 403, not_found: 404, conflict: 409, provider: 502 }[
			error.kind
		]
		return answer(status, error.errors, error.errors.length ? null : error.message)
	}
}

/** The edit page: the template's content as editor state, and whether it may be edited now. */
export async function templateEditPage(executor: Executor, id: string, role: Role) {
	const template = await getTemplate(executor, id)
	if (!template) return null
	const unsupported = unsupportedFeatures(template.components)
	return {
		unsupported,
		template: {
			id: template.id,
			name: template.name,
			metaStatus: template.metaStatus,
			reviewState: template.reviewState,
		},
		editable: allowedActions(template, role).includes('edit') && unsupported.length === 0,
		lockIdentity: template.remoteId !== null,
		initial: definitionToFormState(definitionOf(template), template.wabaId),
		wabaIds: [template.wabaId],
	}
}
