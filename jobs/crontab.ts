import { parseCronItems, type CronItem } from 'graphile-worker'

/** Recurring jobs. graphile-worker guarantees each fires once per tick across all workers. */
export const cronItems: Array<CronItem> = [
	{ task: 'prune_sessions', match: '17 * * * *', identifier: 'prune_sessions' },
	// Delivery statuses whose webhooks never arrived, and events kept for messages recorded late.
	{ task: 'reconcile_statuses', match: '* * * * *', identifier: 'reconcile_statuses' },
	{ task: 'process_webhook_events', match: '* * * * *', identifier: 'process_webhook_events_sweep' },
	{ task: 'prune_webhook_events', match: '23 3 * * *', identifier: 'prune_webhook_events' },
	{ task: 'compact_report_timeline', match: '* * * * *', identifier: 'compact_report_timeline' },
	// Safety net for template statuses: the fast follow-ups after a submission stop after a minute.
	{
		task: 'sync_templates',
		match: '* * * * *',
		identifier: 'sync_templates_pending',
		payload: { mode: 'cron_pending' },
	},
	{
		task: 'sync_templates',
		match: '41 * * * *',
		identifier: 'sync_templates_full',
		payload: { mode: 'scheduled' },
	},
	{ task: 'reconcile_unknown', match: '* * * * *', identifier: 'reconcile_unknown' },
	{ task: 'sweep_dead_workers', match: '* * * * *', identifier: 'sweep_dead_workers' },
	// Catches inbox messages whose webhooks never arrived (Kapso retries for only ~2.5 minutes).
	{
		task: 'import_inbox_history',
		match: '*/10 * * * *',
		identifier: 'import_inbox_history_recent',
		payload: { sinceHours: 2 },
	},
	{ task: 'refresh_sender_health', match: '*/10 * * * *', identifier: 'refresh_sender_health' },
	{ task: 'import_calls', match: '*/15 * * * *', identifier: 'import_calls' },
	// Contacts created outside imports (inbound messages, edits) get their search text within a minute.
	{ task: 'index_contact_search', match: '* * * * *', identifier: 'index_contact_search' },
]

export function parsedCronItems() {
	return parseCronItems(cronItems)
}
