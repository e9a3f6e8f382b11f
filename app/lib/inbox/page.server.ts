import { z } from 'zod'
import { canAssign, listAssignees } from './assignments.server'
import {
	canAnswer,
	getContactPanel,
	getConversationView,
	type Viewer,
} from './conversations.server'
import { listReplyTemplates } from './replies.server'

export const ConversationIdSchema = z.uuid()

/** Everything the conversation page shows: history, contact panel and (for those who answer) templates. */
export async function getConversationPage(
	id: string,
	viewer: Viewer,
	selectedTemplateId: string | null,
) {
	const view = await getConversationView(id, viewer)
	if (!view) return null
	const [panel, templates, people] = await Promise.all([
		getContactPanel(view.contact.id, viewer),
		canAnswer(viewer) ? listReplyTemplates(id) : Promise.resolve([]),
		listAssignees(),
	])
	const assignee = people.find((person) => person.id === view.conversation.assigneeId) ?? null
	return {
		...view,
		panel,
		assignment: {
			assignee: assignee ? { id: assignee.id, name: assignee.name } : null,
			canAssign: canAssign(viewer),
			assignees: canAssign(viewer)
				? people.map((person) => ({ id: person.id, name: person.name }))
				: [],
		},
		templates: templates.map((t) => ({
			id: t.id,
			name: t.name,
			language: t.language,
			category: t.category,
		})),
		selectedTemplate: templates.find((t) => t.id === selectedTemplateId) ?? null,
	}
}
