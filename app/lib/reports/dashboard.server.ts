import { sql } from 'drizzle-orm'
import { db } from '#db/client'

/** The headline numbers on the dashboard; each is one indexed count. */
export async function getDashboardSummary() {
	const result = await db.execute<{
		contacts: number
		opted_out: number
		templates_approved: number
		broadcasts_active: number
		sent_24h: number
	}>(sql`
		select
			(select count(*)::int from contacts) as contacts,
			(select count(*)::int from contacts where opted_out_at is not null) as opted_out,
			(select count(*)::int from templates where meta_status = 'APPROVED') as templates_approved,
			(select count(*)::int from broadcasts where status in ('scheduled', 'sending', 'paused')) as broadcasts_active,
			(select count(*)::int from broadcast_recipients where sent_at > now() - interval '24 hours') as sent_24h
	`)
	const row = result[0]
	return {
		contacts: row.contacts,
		optedOut: row.opted_out,
		templatesApproved: row.templates_approved,
		broadcastsActive: row.broadcasts_active,
		sentLast24h: row.sent_24h,
	}
}
