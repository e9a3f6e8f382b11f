import { sql } from 'drizzle-orm'
import { getEnv } from '#app/lib/env.server'
import { getKapsoGateway, type KapsoGateway } from '#app/lib/kapso/gateway.server'
import { db } from '#db/client'
import { kapsoFacts, type DeliveryStatus, type StatusFact } from './events'
import { applyStatusFacts } from './process.server'

export type StatusReconcileOptions = {
	/** Only messages still `sent` this long after sending are looked up (Kapso retries for ~2.5 min). */
	olderThanMinutes?: number
	/** Messages sent longer ago than this are left to the webhooks (an offline phone may take days). */
	maxAgeHours?: number
	/** The same message is looked up again at most this often. */
	recheckMinutes?: number
	/**
	 * Also look up messages delivered but never read, once each. Off by default: most reads come
	 * hours later by webhook, and a lookup per unread message is expensive at scale.
	 */
	includeDelivered?: boolean
	limit?: number
	concurrency?: number
	gateway?: KapsoGateway
}

const LOOKED_UP = new Set<string>(['sent', 'delivered', 'read', 'failed'])

/**
 * Statuses whose webhooks never arrived: messages still only `sent` after a while are looked up
 * through Kapso and whatever it knows is applied exactly as a webhook would be (forward only).
 * A lookup that fails leaves the row for the next run.
 */
export async function reconcileStatuses(options: StatusReconcileOptions = {}) {
	const olderThan = options.olderThanMinutes ?? getEnv().STATUS_RECONCILE_MINUTES
	const recheck = options.recheckMinutes ?? 15
	const due = options.includeDelivered
		? sql`((r.state = 'sent' and (r.status_checked_at is null or r.status_checked_at < now() - make_interval(mins => ${recheck})))
			or (r.state = 'delivered' and r.status_checked_at is null))`
		: sql`r.state = 'sent' and (r.status_checked_at is null or r.status_checked_at < now() - make_interval(mins => ${recheck}))`
	const gateway = options.gateway ?? getKapsoGateway()
	// Claim the rows for this run first, so that overlapping runs do not look up the same messages.
	const rows = await db.execute<{ id: string; wamid: string; phone_number_id: string }>(sql`
		with due as (
			select r.id from broadcast_recipients r
			where r.wamid is not null
				and r.sent_at < now() - make_interval(mins => ${olderThan})
				and r.sent_at > now() - make_interval(hours => ${options.maxAgeHours ?? 24})
				and ${due}
			order by r.sent_at
			limit ${options.limit ?? 1000}
			for update of r skip locked
		)
		update broadcast_recipients r set status_checked_at = now()
		from due, broadcasts b, senders s
		where r.id = due.id and b.id = r.broadcast_id and s.id = b.sender_id
		returning r.id, r.wamid, s.phone_number_id
	`)
	const summary = { checked: rows.length, updated: 0, notFound: 0, failedLookups: 0 }
	const facts: StatusFact[] = []
	let next = 0
	async function lane() {
		while (next < rows.length) {
			const row = rows[next++]
			const found = await gateway.getMessage({ phoneNumberId: row.phone_number_id, wamid: row.wamid })
			if (!found.ok) {
				summary.failedLookups++
				continue
			}
			if (!found.message) {
				summary.notFound++
				continue
			}
			const status = found.message.status
			if (!status || !LOOKED_UP.has(status)) continue
			// The raw message carries Meta's statuses with their own times and errors when Kapso has them.
			const fromRaw = kapsoFacts(`whatsapp.message.${status}`, { message: found.message.raw }, new Date()).filter(
				(f): f is StatusFact => f.kind === 'status',
			)
			if (fromRaw.length > 0) facts.push(...fromRaw)
			else
				facts.push({
					kind: 'status',
					wamid: row.wamid,
					status: status as DeliveryStatus,
					at: new Date(),
					recipientId: null,
					errorCode: null,
					errorTitle: null,
					pricingCategory: null,
					waId: null,
				})
			summary.updated++
		}
	}
	await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, rows.length) }, lane))
	if (facts.length > 0) await db.transaction((tx) => applyStatusFacts(tx, facts))
	return summary
}
