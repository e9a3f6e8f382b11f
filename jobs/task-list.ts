import type { TaskList } from 'graphile-worker'
import dispatchBroadcast from './tasks/dispatch_broadcast'
import importCalls from './tasks/import_calls'
import importContacts from './tasks/import_contacts'
import importInboxHistory from './tasks/import_inbox_history'
import indexContactSearch from './tasks/index_contact_search'
import launchBroadcast from './tasks/launch_broadcast'
import mirrorAssignment from './tasks/mirror_assignment'
import processWebhookEvents from './tasks/process_webhook_events'
import compactReportTimeline from './tasks/compact_report_timeline'
import pruneSessions from './tasks/prune_sessions'
import pruneWebhookEvents from './tasks/prune_webhook_events'
import reconcileStatuses from './tasks/reconcile_statuses'
import syncTemplates from './tasks/sync_templates'
import reconcileUnknown from './tasks/reconcile_unknown'
import refreshSenderHealth from './tasks/refresh_sender_health'
import sweepDeadWorkers from './tasks/sweep_dead_workers'

/** Every graphile-worker task, by identifier. One file per task in jobs/tasks/. */
export const taskList: TaskList = {
	prune_sessions: pruneSessions,
	process_webhook_events: processWebhookEvents,
	compact_report_timeline: compactReportTimeline,
	reconcile_statuses: reconcileStatuses,
	prune_webhook_events: pruneWebhookEvents,
	import_inbox_history: importInboxHistory,
	sync_templates: syncTemplates,
	launch_broadcast: launchBroadcast,
	dispatch_broadcast: dispatchBroadcast,
	reconcile_unknown: reconcileUnknown,
	sweep_dead_workers: sweepDeadWorkers,
	refresh_sender_health: refreshSenderHealth,
	import_calls: importCalls,
	import_contacts: importContacts,
	index_contact_search: indexContactSearch,
	mirror_assignment: mirrorAssignment,
}
