import type { Role } from '#db/schema/index'

/**
 * The role matrix: every route module, and which roles may call its loader and its action.
 * `public` means no session is needed. `tests/unit/route-access.test.ts` walks app/routes and
 * fails when a module is missing here or when its loader/action lets through a role not listed.
 */
export type Access = 'public' | ReadonlyArray<Role>
export type RouteAccess = { loader?: Access; action?: Access }

const everyone: ReadonlyArray<Role> = ['admin', 'marketer', 'analyst']
const editors: ReadonlyArray<Role> = ['admin', 'marketer']
const admins: ReadonlyArray<Role> = ['admin']

export const routeAccess: Record<string, RouteAccess> = {
	login: { loader: 'public', action: 'public' },
	logout: { loader: 'public', action: 'public' },
	_app: { loader: everyone },
	'_app._index': { loader: everyone },
	'_app.account': { loader: everyone, action: everyone },
	'_app.settings._index': { loader: everyone },
	'_app.settings.users': { loader: admins, action: admins },
	'_app.settings.senders': { loader: admins, action: admins },
	'_app.settings.broadcasts': { loader: admins, action: admins },
	'_app.settings.opt-out-keywords': { loader: admins, action: admins },
	'_app.reports._index': { loader: everyone },
	'_app.reports.compare': { loader: everyone },
	'_app.reports.broadcasts.$broadcastId': { loader: everyone },
	'_app.reports.broadcasts.$broadcastId.export': { loader: everyone },
	'_app.inbox': { loader: everyone, action: editors },
	'_app.inbox._index': { loader: everyone, action: editors },
	'_app.inbox.$conversationId': { loader: everyone, action: editors },
	'_app.templates._index': { loader: everyone, action: editors },
	'_app.templates.new': { loader: editors, action: editors },
	'_app.templates.$templateId._index': { loader: everyone, action: editors },
	'_app.templates.$templateId.edit': { loader: editors, action: editors },
	'_app.broadcasts._index': { loader: everyone },
	'_app.broadcasts.new': { loader: editors, action: editors },
	'_app.broadcasts.$broadcastId.edit': { loader: editors, action: editors },
	'_app.broadcasts.$broadcastId._index': { loader: everyone, action: editors },
	'_app.broadcasts.$broadcastId.progress': { loader: everyone },
	'_app.calls': { loader: everyone },
	'_app.media.$messageId': { loader: everyone },
	'_app.contacts._index': { loader: everyone, action: editors },
	'_app.contacts.$contactId': { loader: everyone, action: editors },
	'_app.contacts.export': { loader: everyone },
	'_app.imports._index': { loader: everyone, action: editors },
	'_app.imports.$importId._index': { loader: everyone, action: editors },
	'_app.imports.$importId.progress': { loader: everyone },
	'_app.imports.$importId.errors': { loader: everyone },
}

export const ROLE_GROUPS = { everyone, editors, admins }
