import { sql as q } from 'drizzle-orm'
import { runOnce } from 'graphile-worker'
import { beforeEach, describe, expect, test } from 'vitest'
import { createUser } from '#app/lib/auth/users.server'
import { db, sql } from '#db/client'
import processWebhookEventsTask from '#jobs/tasks/process_webhook_events'
import {
	createEventWriter,
	createWebhookIngest,
	PROCESS_JOB,
	type StoredEvent,
} from './ingest.server'
import { restoreDefaultOptOutKeywords, saveOptOutKeywords } from './opt-out-keywords.server'
import { applyPendingEventsForWamids, processWebhookEvents } from './process.server'
import { pruneWebhookEvents } from './retention.server'
import {
	PHONE_NUMBER_ID,
	kapsoHeaders,
	kapsoInboundPayload,
	kapsoStatusPayload,
	metaBody,
	metaHeaders,
	metaMessagesValue,
	metaStatus,
	seedBroadcast,
	seedSender,
} from './test-fixtures'

const writer = createEventWriter(sql)
let keySeq = 0

/** Stores events as the endpoints would (same writer, same dedupe keys). */
async function ingest(events: Array<Omit<StoredEvent, 'dedupeKey'> & { dedupeKey?: string }>) {
	await writer.write(events.map((e) => ({ ...e, dedupeKey: e.dedupeKey ?? `test:${++keySeq}` })))
}

function kapsoStatus(wamid: string, status: string, ts: number, extra: Record<string, unknown> = {}) {
	return {
		source: 'kapso' as const,
		eventType: `whatsapp.message.${status}`,
		payload: JSON.stringify(kapsoStatusPayload(wamid, [metaStatus(wamid, status, ts, extra)])),
	}
}

function metaStatusEvent(wamid: string, status: string, ts: number, extra: Record<string, unknown> = {}) {
	return {
		source: 'meta' as const,
		dedupeKey: `meta:status:${wamid}:${status}:${ts}`,
		eventType: `status.${status}`,
		payload: JSON.stringify({ field: 'messages', wabaId: '200000000000001', time: null, value: metaMessagesValue({ statuses: [metaStatus(wamid, status, ts, extra)] }) }),
	}
}

function kapsoInbound(input: Parameters<typeof kapsoInboundPayload>[0]) {
	return { source: 'kapso' as const, eventType: 'whatsapp.message.received', payload: JSON.stringify(kapsoInboundPayload(input)) }
}

type Row = {
	id: number
	state: string
	sent_at: Date | null
	delivered_at: Date | null
	read_at: Date | null
	failed_at: Date | null
	error_code: number | null
	error_title: string | null
	pricing_category: string | null
	replied_at: Date | null
}

async function recipients(broadcastId: string) {
	const rows = await db.execute<Row>(q`
		select id, state, sent_at, delivered_at, read_at, failed_at, error_code, error_title, pricing_category, replied_at
		from broadcast_recipients where broadcast_id = ${broadcastId}::uuid order by id
	`)
	const date = (v: Date | string | null) => (v === null ? null : new Date(v))
	return rows.map((r) => ({
		...r,
		id: Number(r.id),
		sent_at: date(r.sent_at),
		delivered_at: date(r.delivered_at),
		read_at: date(r.read_at),
		failed_at: date(r.failed_at),
		replied_at: date(r.replied_at),
	}))
}

async function checksum(broadcastId: string) {
	const [row] = await db.execute<{ sum: string }>(q`
		select md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', id, state, sent_at, delivered_at, read_at, failed_at,
			error_code, error_title, pricing_category, replied_at), ',' order by id)) as sum
		from broadcast_recipients where broadcast_id = ${broadcastId}::uuid
	`)
	return row.sum
}

async function counters(broadcastId: string) {
	const rows = await db.execute<{ state: string; n: number }>(q`
		select state, sum(delta)::int as n from broadcast_counter_deltas where broadcast_id = ${broadcastId}::uuid
		group by state having sum(delta) <> 0
	`)
	return Object.fromEntries(rows.map((r) => [r.state, r.n]))
}

function permutations<T>(items: T[]): T[][] {
	if (items.length <= 1) return [items]
	return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))
}

const T0 = 1_750_000_000
const at = (seconds: number) => new Date((T0 + seconds) * 1000)
const TIMES: Record<string, number> = { sent: 0, failed: 3, delivered: 5, read: 10 }

beforeEach(async () => {
	await db.execute(q`delete from webhook_events`)
})

describe('delivery statuses', () => {
	const cases: Array<{ statuses: string[]; expected: Partial<Row> }> = [
		{
			statuses: ['sent', 'delivered', 'read', 'failed'],
			expected: { state: 'read', sent_at: at(0), delivered_at: at(5), read_at: at(10), failed_at: null, error_code: null },
		},
		{
			statuses: ['sent', 'delivered', 'read'],
			expected: { state: 'read', sent_at: at(0), delivered_at: at(5), read_at: at(10) },
		},
		{
			statuses: ['sent', 'read'],
			// Meta skips "delivered" when a message is delivered and read at once: read counts as both.
			expected: { state: 'read', sent_at: at(0), delivered_at: at(10), read_at: at(10) },
		},
		{
			statuses: ['sent', 'failed'],
			expected: { state: 'failed', sent_at: at(0), delivered_at: null, failed_at: at(3), error_code: 131049, error_title: 'Not delivered' },
		},
		{
			statuses: ['sent', 'delivered', 'failed'],
			expected: { state: 'delivered', delivered_at: at(5), failed_at: null, error_code: null },
		},
		{
			statuses: ['read', 'failed'],
			expected: { state: 'read', delivered_at: at(10), read_at: at(10), error_code: null },
		},
	]

	function eventFor(wamid: string, status: string, source: 'kapso' | 'meta') {
		const extra: Record<string, unknown> =
			status === 'failed'
				? { errors: [{ code: 131049, title: 'Not delivered' }] }
				: status === 'sent'
					? { pricing: { billable: true, pricing_model: 'PMP', category: 'marketing' } }
					: {}
		return source === 'kapso' ? kapsoStatus(wamid, status, T0 + TIMES[status], extra) : metaStatusEvent(wamid, status, T0 + TIMES[status], extra)
	}

	for (const source of ['kapso', 'meta'] as const) {
		test(`every order, in separate batches and in one batch, gives the same row (${source})`, async () => {
			const orders = cases.flatMap((c) => permutations(c.statuses).map((order) => ({ order, expected: c.expected })))
			// Twice: once processing after each position, once with every event in one batch.
			const separate = await seedBroadcast({ count: orders.length })
			const together = await seedBroadcast({ count: orders.length })
			for (let position = 0; position < 4; position++) {
				await ingest(
					orders.flatMap(({ order }, i) => (position < order.length ? [eventFor(separate.recipients[i].wamid!, order[position], source)] : [])),
				)
				await processWebhookEvents()
			}
			await ingest(orders.flatMap(({ order }, i) => order.map((status) => eventFor(together.recipients[i].wamid!, status, source))))
			await processWebhookEvents()

			for (const broadcast of [separate, together]) {
				const rows = await recipients(broadcast.broadcastId)
				orders.forEach(({ order, expected }, i) => {
					expect({ order, ...rows[i] }).toMatchObject({ order, ...expected })
					if (order.includes('sent')) expect(rows[i].pricing_category).toBe('marketing')
				})
			}
			const final = await counters(separate.broadcastId)
			expect(final).toEqual(await counters(together.broadcastId))
			expect(final.read).toBe(orders.filter((o) => o.expected.state === 'read').length)

			// Processing the whole log again (and a third time) changes nothing.
			const before = await checksum(separate.broadcastId)
			for (let round = 0; round < 2; round++) {
				await db.execute(q`update webhook_events set processed_at = null`)
				await processWebhookEvents({ batchSize: 7 })
				expect(await checksum(separate.broadcastId)).toBe(before)
			}
		})
	}

	test('a replay a day later changes nothing, and a failure never overrides delivered', async () => {
		const { broadcastId, recipients: [r] } = await seedBroadcast({ count: 1 })
		const wamid = r.wamid!
		await ingest([kapsoStatus(wamid, 'sent', T0), kapsoStatus(wamid, 'delivered', T0 + 5), kapsoStatus(wamid, 'read', T0 + 9)])
		await processWebhookEvents()
		const before = await checksum(broadcastId)
		// Replayed by an attacker or a confused retry, with fresh keys and a day later.
		await db.execute(q`update webhook_events set received_at = received_at - interval '1 day'`)
		await ingest([
			kapsoStatus(wamid, 'sent', T0),
			kapsoStatus(wamid, 'delivered', T0 + 5),
			kapsoStatus(wamid, 'failed', T0 + 86_400, { errors: [{ code: 131026, title: 'Undeliverable' }] }),
		])
		await processWebhookEvents()
		expect(await checksum(broadcastId)).toBe(before)
		expect((await recipients(broadcastId))[0].state).toBe('read')
	})

	test('a status for a wamid not recorded yet is kept, then applied when the message appears', async () => {
		const { broadcastId, recipients: [r] } = await seedBroadcast({ count: 1, state: 'sending', withWamid: false })
		await ingest([kapsoStatus('wamid.late', 'sent', T0), kapsoStatus('wamid.late', 'delivered', T0 + 2)])
		const result = await processWebhookEvents()
		expect(result.pending).toBe(2)
		const pending = await db.execute<{ pending_wamid: string }>(q`select pending_wamid from webhook_events where processed_at is not null`)
		expect(pending.map((p) => p.pending_wamid)).toEqual(['wamid.late', 'wamid.late'])
		expect((await recipients(broadcastId))[0].state).toBe('sending')

		// The dispatcher records the send's result, then hands the wamid over.
		await db.execute(q`update broadcast_recipients set state = 'sent', wamid = 'wamid.late', sent_at = now() where id = ${r.id}`)
		expect(await db.transaction((tx) => applyPendingEventsForWamids(tx, ['wamid.late']))).toBe(2)
		const [row] = await recipients(broadcastId)
		expect(row).toMatchObject({ state: 'delivered', sent_at: at(0), delivered_at: at(2) })
		const left = await db.execute(q`select 1 from webhook_events where pending_wamid is not null`)
		expect(left).toHaveLength(0)
	})

	test('the processing sweep (cron) re-checks kept events on its own', async () => {
		const { broadcastId, recipients: [r] } = await seedBroadcast({ count: 1, state: 'sending', withWamid: false })
		await ingest([kapsoStatus('wamid.later', 'read', T0)])
		await processWebhookEvents()
		await db.execute(q`update broadcast_recipients set state = 'sent', wamid = 'wamid.later' where id = ${r.id}`)
		await processWebhookEventsTask({ _cron: { ts: new Date().toISOString(), backfilled: false } }, { logger: { warn() {} } } as never)
		expect((await recipients(broadcastId))[0].state).toBe('read')
	})

	test('a status naming the ledger row in its callback data adopts the wamid', async () => {
		const { broadcastId, recipients: [r] } = await seedBroadcast({ count: 1, state: 'unknown', withWamid: false })
		await ingest([
			kapsoStatus('wamid.adopted', 'delivered', T0 + 4, {
				biz_opaque_callback_data: `r:${r.id}:a:00000000-0000-4000-8000-000000000000`,
			}),
		])
		await processWebhookEvents()
		const [row] = await db.execute<{ wamid: string; state: string }>(q`select wamid, state from broadcast_recipients where id = ${r.id}`)
		expect(row).toEqual({ wamid: 'wamid.adopted', state: 'delivered' })
		expect((await recipients(broadcastId))[0].sent_at).toEqual(at(4))
	})

	test('the timeline and the state counters follow every change', async () => {
		const { broadcastId, recipients: rs } = await seedBroadcast({ count: 3, sentAt: at(-30) })
		await ingest([
			kapsoStatus(rs[0].wamid!, 'read', T0 + 70),
			kapsoStatus(rs[1].wamid!, 'delivered', T0 + 5),
			kapsoStatus(rs[2].wamid!, 'failed', T0 + 6, { errors: [{ code: 131026, title: 'Undeliverable' }] }),
		])
		await processWebhookEvents()
		const totals = await db.execute<{ sent: number; delivered: number; read: number; failed: number }>(q`
			select sum(sent)::int as sent, sum(delivered)::int as delivered, sum(read)::int as read, sum(failed)::int as failed
			from broadcast_timeline_deltas where broadcast_id = ${broadcastId}::uuid
		`)
		expect(totals[0]).toEqual({ sent: 3, delivered: 2, read: 1, failed: 1 })
		expect(await counters(broadcastId)).toEqual({ read: 1, delivered: 1, failed: 1 })
	})
})

describe('inbound messages', () => {
	test('a reply with a context id marks the recipient it answers and is stored for the inbox', async () => {
		const { broadcastId, recipients: [r] } = await seedBroadcast({ count: 1 })
		const from = r.phone.slice(1)
		await ingest([kapsoInbound({ wamid: 'wamid.reply.1', from, timestamp: Math.floor(Date.now() / 1000), text: 'Me interesa', contextWamid: r.wamid! })])
		await processWebhookEvents()
		const [row] = await recipients(broadcastId)
		expect(row.replied_at).not.toBeNull()
		const [message] = await db.execute<{ direction: string; body: string; broadcast_recipient_id: string }>(
			q`select direction, body, broadcast_recipient_id from messages where wamid = 'wamid.reply.1'`,
		)
		expect(message).toMatchObject({ direction: 'inbound', body: 'Me interesa' })
		expect(Number(message.broadcast_recipient_id)).toBe(r.id)
	})

	test('a reply without context is linked to the last broadcast message within 72 h, not older', async () => {
		const recent = await seedBroadcast({ count: 1, sentAt: new Date(Date.now() - 3600_000) })
		const old = await seedBroadcast({ count: 1, sentAt: new Date(Date.now() - 73 * 3600_000) })
		const now = Math.floor(Date.now() / 1000)
		await ingest([
			kapsoInbound({ wamid: 'wamid.reply.2', from: recent.recipients[0].phone.slice(1), timestamp: now, text: 'gracias' }),
			kapsoInbound({ wamid: 'wamid.reply.3', from: old.recipients[0].phone.slice(1), timestamp: now, text: 'gracias' }),
		])
		await processWebhookEvents()
		expect((await recipients(recent.broadcastId))[0].replied_at).not.toBeNull()
		expect((await recipients(old.broadcastId))[0].replied_at).toBeNull()
	})

	test('an unknown number becomes a contact; the same message twice is stored once', async () => {
		await seedBroadcast({ count: 1 })
		const event = kapsoInbound({ wamid: 'wamid.stranger', from: '5491122334455', timestamp: T0, text: 'hola' })
		await ingest([event, { ...event }])
		await processWebhookEvents()
		const contacts = await db.execute(q`select id from contacts where phone_e164 = '+5491122334455'`)
		expect(contacts).toHaveLength(1)
		const stored = await db.execute<{ unread_count: number }>(q`
			select c.unread_count from conversations c join contacts k on k.id = c.contact_id where k.phone_e164 = '+5491122334455'
		`)
		expect(stored[0].unread_count).toBe(1)
	})

	async function optOut(phone: string) {
		const [row] = await db.execute<{ opted_out_at: Date | null; opt_out_source: string | null }>(
			q`select opted_out_at, opt_out_source from contacts where phone_e164 = ${phone}`,
		)
		return row
	}

	test('opt-out keywords (any case, accents, punctuation) opt the contact out; other texts do not', async () => {
		const { recipients: rs } = await seedBroadcast({ count: 4 })
		const texts = ['stop', ' Baja. ', 'CANCELÁR', 'stop sending me the wrong size']
		await ingest(texts.map((text, i) => kapsoInbound({ wamid: `wamid.kw.${i}`, from: rs[i].phone.slice(1), timestamp: T0, text })))
		await processWebhookEvents()
		expect(await optOut(rs[0].phone)).toMatchObject({ opt_out_source: 'keyword' })
		expect(await optOut(rs[1].phone)).toMatchObject({ opt_out_source: 'keyword' })
		expect(await optOut(rs[2].phone)).toMatchObject({ opt_out_source: 'keyword' })
		expect(await optOut(rs[3].phone)).toMatchObject({ opted_out_at: null, opt_out_source: null })
		const audit = await db.execute(q`select 1 from audit_log where action = 'contact.opt_out'`)
		expect(audit).toHaveLength(3)
	})

	test('a keyword list saved in Settings is what opts out: a custom word does, a removed default does not until restored', async () => {
		const admin = await createUser({ email: 'keywords@process.test', name: 'Admin', role: 'admin', password: 'keywords-password' }, null)
		await saveOptOutKeywords({ keywords: 'Alto\nBAJA' }, admin.id)
		try {
			const { recipients: rs } = await seedBroadcast({ count: 4 })
			await ingest([
				kapsoInbound({ wamid: 'wamid.cfg.1', from: rs[0].phone.slice(1), timestamp: T0, text: 'alto' }),
				kapsoInbound({ wamid: 'wamid.cfg.2', from: rs[1].phone.slice(1), timestamp: T0, text: 'STOP' }),
			])
			await processWebhookEvents()
			expect(await optOut(rs[0].phone)).toMatchObject({ opt_out_source: 'keyword' })
			expect(await optOut(rs[1].phone)).toMatchObject({ opted_out_at: null, opt_out_source: null })

			await restoreDefaultOptOutKeywords(admin.id)
			await ingest([
				kapsoInbound({ wamid: 'wamid.cfg.3', from: rs[2].phone.slice(1), timestamp: T0, text: 'STOP' }),
				kapsoInbound({ wamid: 'wamid.cfg.4', from: rs[3].phone.slice(1), timestamp: T0, text: 'alto' }),
			])
			await processWebhookEvents()
			expect(await optOut(rs[2].phone)).toMatchObject({ opt_out_source: 'keyword' })
			expect(await optOut(rs[3].phone)).toMatchObject({ opted_out_at: null, opt_out_source: null })
		} finally {
			await db.execute(q`delete from app_settings where key = 'opt_out_keywords'`)
		}
	})

	test('the opt-out quick-reply button opts out with source button; another button does not', async () => {
		const { broadcastId, recipients: rs } = await seedBroadcast({ count: 2 })
		await ingest([
			kapsoInbound({ wamid: 'wamid.btn.1', from: rs[0].phone.slice(1), timestamp: T0, button: { payload: 'OPT_OUT', text: 'Parar promociones' }, contextWamid: rs[0].wamid! }),
			kapsoInbound({ wamid: 'wamid.btn.2', from: rs[1].phone.slice(1), timestamp: T0, button: { payload: 'Me interesa', text: 'Me interesa' }, contextWamid: rs[1].wamid! }),
		])
		await processWebhookEvents()
		expect(await optOut(rs[0].phone)).toMatchObject({ opt_out_source: 'button' })
		expect(await optOut(rs[1].phone)).toMatchObject({ opt_out_source: null })
		expect((await recipients(broadcastId)).every((r) => r.replied_at !== null)).toBe(true)
	})

	test('Meta user_preferences: stop opts out, resume opts back in only a Meta-preference opt-out', async () => {
		const { recipients: rs } = await seedBroadcast({ count: 2 })
		const pref = (waId: string, value: string, ts: number) => ({
			source: 'meta' as const,
			eventType: 'user_preferences',
			payload: JSON.stringify({
				field: 'user_preferences',
				wabaId: '200000000000001',
				time: null,
				value: metaMessagesValue({
					contacts: [{ wa_id: waId, profile: { name: 'X' } }],
					user_preferences: [{ wa_id: waId, category: 'marketing_messages', value, detail: 'User requested to stop marketing messages', timestamp: ts }],
				} as never),
			}),
		})
		const [a, b] = rs.map((r) => r.phone.slice(1))
		await ingest([
			pref(a, 'stop', T0),
			kapsoInbound({ wamid: 'wamid.pref.kw', from: b, timestamp: T0, text: 'BAJA' }),
		])
		await processWebhookEvents()
		expect(await optOut(rs[0].phone)).toMatchObject({ opt_out_source: 'meta_preference' })
		await ingest([pref(a, 'resume', T0 + 60), pref(b, 'resume', T0 + 60)])
		await processWebhookEvents()
		expect(await optOut(rs[0].phone)).toMatchObject({ opted_out_at: null, opt_out_source: null })
		// A keyword opt-out is the contact's own word; Meta's resume does not undo it.
		expect(await optOut(rs[1].phone)).toMatchObject({ opt_out_source: 'keyword' })
	})
})

describe('template status', () => {
	test('a Meta message_template_status_update is applied to the template', async () => {
		const [template] = await db.execute<{ id: string }>(q`
			insert into templates (waba_id, name, language, category, components, meta_status, remote_id, review_state)
			values ('200000000000001', 'promo_wh', 'es', 'MARKETING', '[]'::jsonb, 'APPROVED', '998877', 'submitted')
			returning id
		`)
		await ingest([
			{
				source: 'meta',
				eventType: 'message_template_status_update',
				payload: JSON.stringify({
					field: 'message_template_status_update',
					wabaId: '200000000000001',
					time: T0,
					value: {
						event: 'PAUSED',
						message_template_id: 998877,
						message_template_name: 'promo_wh',
						message_template_language: 'es',
						reason: null,
						other_info: { title: 'FIRST_PAUSE', description: 'Paused for low quality' },
					},
				}),
			},
		])
		const result = await processWebhookEvents()
		expect(result.errors).toBe(0)
		const [row] = await db.execute<{ meta_status: string }>(q`select meta_status from templates where id = ${template.id}::uuid`)
		expect(row.meta_status).toBe('PAUSED')
	})
})

describe('retention', () => {
	test('processed events older than the retention period are pruned; unprocessed ones are kept', async () => {
		await ingest([kapsoStatus('wamid.old.1', 'sent', T0), kapsoStatus('wamid.old.2', 'sent', T0), kapsoStatus('wamid.new', 'sent', T0)])
		await processWebhookEvents()
		await ingest([kapsoStatus('wamid.old.3', 'sent', T0)])
		await db.execute(q`update webhook_events set received_at = now() - interval '31 days' where payload->'message'->>'id' like 'wamid.old.%'`)
		expect(await pruneWebhookEvents({ days: 30, batchSize: 1 })).toBe(2)
		const left = await db.execute<{ id: string }>(q`select payload->'message'->>'id' as id from webhook_events order by id`)
		expect(left.map((r) => r.id).sort()).toEqual(['wamid.new', 'wamid.old.3'])
	})
})

describe('Kapso conversations and messages sent outside Pregón', () => {
	function kapsoConversation(event: 'created' | 'ended' | 'inactive', id: string, phone: string, ts: number) {
		const time = new Date(ts * 1000).toISOString()
		const conversation = { id, phone_number: `+${phone}`, phone_number_id: PHONE_NUMBER_ID, created_at: time, updated_at: time }
		return {
			source: 'kapso' as const,
			eventType: `whatsapp.conversation.${event}`,
			payload: JSON.stringify({ conversation, phone_number_id: PHONE_NUMBER_ID }),
		}
	}

	/** A Kapso v2 event for a text the business number sent (`origin` as Kapso reports it). */
	function kapsoOutbound(wamid: string, status: string, phone: string, origin: string, ts: number) {
		const message = {
			id: wamid,
			timestamp: String(ts),
			type: 'text',
			text: { body: 'Te llamo en 5 minutos' },
			kapso: { direction: 'outbound', status, origin, phone_number: `+${phone}`, statuses: [metaStatus(wamid, status, ts)] },
		}
		return {
			source: 'kapso' as const,
			eventType: `whatsapp.message.${status}`,
			payload: JSON.stringify({
				message,
				conversation: { id: `conv-${phone}`, phone_number: `+${phone}`, phone_number_id: PHONE_NUMBER_ID },
				is_new_conversation: false,
				phone_number_id: PHONE_NUMBER_ID,
			}),
		}
	}

	async function conversationOf(phone: string) {
		const rows = await db.execute<{ status: string; kapso_conversation_id: string }>(q`
			select c.status, c.kapso_conversation_id from conversations c join contacts k on k.id = c.contact_id
			where k.phone_e164 = ${`+${phone}`}
		`)
		return rows[0] ?? null
	}

	async function stored(wamid: string) {
		return db.execute<{ direction: string; body: string; status: string }>(
			q`select direction, body, status from messages where wamid = ${wamid}`,
		)
	}

	async function processedCleanly() {
		const rows = await db.execute(q`select 1 from webhook_events where processed_at is null or error is not null or pending_wamid is not null`)
		expect(rows).toHaveLength(0)
	}

	test('ended ends the conversation, inactive leaves it open, created reopens it under the new id', async () => {
		await seedSender()
		const phone = '5491100000001'
		await ingest([kapsoInbound({ wamid: 'wamid.conv.1', from: phone, timestamp: T0, text: 'hola' })])
		await processWebhookEvents()
		expect(await conversationOf(phone)).toEqual({ status: 'active', kapso_conversation_id: `conv-${phone}` })

		await ingest([kapsoConversation('inactive', `conv-${phone}`, phone, T0 + 600)])
		await processWebhookEvents()
		expect((await conversationOf(phone))?.status).toBe('active')

		await ingest([kapsoConversation('ended', `conv-${phone}`, phone, T0 + 3600)])
		await processWebhookEvents()
		expect((await conversationOf(phone))?.status).toBe('ended')

		await ingest([kapsoConversation('created', 'conv-next', phone, T0 + 7200)])
		await processWebhookEvents()
		expect(await conversationOf(phone)).toEqual({ status: 'active', kapso_conversation_id: 'conv-next' })
		// A late `ended` of the old Kapso conversation no longer names ours.
		await ingest([kapsoConversation('ended', `conv-${phone}`, phone, T0 + 3600)])
		await processWebhookEvents()
		expect((await conversationOf(phone))?.status).toBe('active')
		await processedCleanly()
	})

	test('a created conversation for a contact with no thread adds no conversation', async () => {
		await seedSender()
		await ingest([kapsoConversation('created', 'conv-broadcast', '5491100000002', T0)])
		await processWebhookEvents()
		expect(await conversationOf('5491100000002')).toBeNull()
		await processedCleanly()
	})

	test('a message sent outside Pregón shows in the thread once, even when delivered twice', async () => {
		await seedSender()
		const phone = '5491100000003'
		await ingest([kapsoInbound({ wamid: 'wamid.in.3', from: phone, timestamp: T0, text: '¿Me llamas?' })])
		await processWebhookEvents()
		const sent = kapsoOutbound('wamid.app.3', 'sent', phone, 'business_app', T0 + 10)
		await ingest([sent, { ...sent }])
		await processWebhookEvents()
		expect(await stored('wamid.app.3')).toEqual([{ direction: 'outbound', body: 'Te llamo en 5 minutos', status: 'sent' }])

		await ingest([{ ...sent }, kapsoOutbound('wamid.app.3', 'delivered', phone, 'business_app', T0 + 12)])
		await processWebhookEvents()
		expect(await stored('wamid.app.3')).toEqual([{ direction: 'outbound', body: 'Te llamo en 5 minutos', status: 'delivered' }])
		const thread = await db.execute(q`
			select m.id from messages m join conversations c on c.id = m.conversation_id join contacts k on k.id = c.contact_id
			where k.phone_e164 = ${`+${phone}`}
		`)
		expect(thread).toHaveLength(2)
		await processedCleanly()
	})

	test("a message sent from Kapso's own inbox (cloud_api) is stored when no send of ours is in flight", async () => {
		await seedSender()
		const phone = '5491100000004'
		await ingest([kapsoOutbound('wamid.kapso.4', 'delivered', phone, 'cloud_api', T0)])
		await processWebhookEvents()
		expect(await stored('wamid.kapso.4')).toEqual([{ direction: 'outbound', body: 'Te llamo en 5 minutos', status: 'delivered' }])
		expect(await conversationOf(phone)).toEqual({ status: 'active', kapso_conversation_id: `conv-${phone}` })
		await processedCleanly()
	})

	test("a broadcast's sent event creates no messages row, also when it beats the send's result", async () => {
		const { broadcastId, recipients: [r] } = await seedBroadcast({ count: 1, state: 'sending' })
		await ingest([kapsoOutbound(r.wamid!, 'sent', r.phone.slice(1), 'cloud_api', T0)])
		await processWebhookEvents()
		expect((await recipients(broadcastId))[0].state).toBe('sent')
		expect(await stored(r.wamid!)).toHaveLength(0)

		const late = await seedBroadcast({ count: 1, state: 'sending', withWamid: false })
		const [row] = late.recipients
		await ingest([kapsoOutbound('wamid.inflight', 'sent', row.phone.slice(1), 'cloud_api', T0)])
		expect((await processWebhookEvents()).pending).toBe(1)
		expect(await stored('wamid.inflight')).toHaveLength(0)
		await db.execute(q`update broadcast_recipients set wamid = 'wamid.inflight' where id = ${row.id}`)
		expect(await db.transaction((tx) => applyPendingEventsForWamids(tx, ['wamid.inflight']))).toBe(1)
		expect((await recipients(late.broadcastId))[0].state).toBe('sent')
		expect(await stored('wamid.inflight')).toHaveLength(0)
	})
})

describe('batched deliveries, from the endpoint through the worker to the ledger', () => {
	const KAPSO_SECRET = 'batch-kapso-secret'
	const META_SECRET = 'batch-meta-secret'
	const endpoints = createWebhookIngest(writer, {
		kapsoSecret: KAPSO_SECRET,
		metaAppSecret: META_SECRET,
	})

	beforeEach(async () => {
		await db.execute(q`delete from graphile_worker._private_jobs`)
	})

	function postKapsoBatch(eventType: string, key: string, items: unknown[]) {
		const body = JSON.stringify({ type: eventType, batch: true, data: items })
		const headers = kapsoHeaders(body, KAPSO_SECRET, eventType, key, {
			'x-webhook-batch': 'true',
			'x-batch-size': String(items.length),
		})
		return endpoints.kapso(Buffer.from(body), headers)
	}

	/** Runs the processing job the endpoint queued, as a worker would. */
	async function work() {
		const jobs = await db.execute<{ n: number }>(
			q`select count(*)::int as n from graphile_worker.jobs where task_identifier = ${PROCESS_JOB}`,
		)
		expect(jobs[0].n).toBe(1)
		await runOnce(
			{ connectionString: process.env.DATABASE_URL, concurrency: 1 },
			{ [PROCESS_JOB]: processWebhookEventsTask },
		)
		const left = await db.execute(
			q`select 1 from webhook_events where processed_at is null or error is not null`,
		)
		expect(left).toHaveLength(0)
	}

	test('a Kapso batch of received messages marks each reply and opts out, once however often it comes', async () => {
		const { broadcastId, recipients: rs } = await seedBroadcast({ count: 3 })
		const now = Math.floor(Date.now() / 1000)
		const items = [
			kapsoInboundPayload({
				wamid: 'wamid.batch.in.0',
				from: rs[0].phone.slice(1),
				timestamp: now,
				text: 'Me interesa',
				contextWamid: rs[0].wamid!,
			}),
			kapsoInboundPayload({
				wamid: 'wamid.batch.in.1',
				from: rs[1].phone.slice(1),
				timestamp: now,
				text: 'BAJA',
			}),
			kapsoInboundPayload({
				wamid: 'wamid.batch.in.2',
				from: rs[2].phone.slice(1),
				timestamp: now,
				text: '¿Hay talla M?',
				contextWamid: rs[2].wamid!,
			}),
		]
		// Kapso retries a batch it got no 200 for with the same idempotency key.
		expect((await postKapsoBatch('whatsapp.message.received', 'batch-in', items)).status).toBe(200)
		expect((await postKapsoBatch('whatsapp.message.received', 'batch-in', items)).status).toBe(200)
		const stored = await db.execute(q`select 1 from webhook_events`)
		expect(stored).toHaveLength(3)
		await work()

		const rows = await recipients(broadcastId)
		expect(rows[0].replied_at).not.toBeNull()
		expect(rows[2].replied_at).not.toBeNull()
		const [contact] = await db.execute<{ opt_out_source: string | null }>(
			q`select opt_out_source from contacts where id = ${rs[1].contactId}`,
		)
		expect(contact.opt_out_source).toBe('keyword')
		const inbox = await db.execute<{ wamid: string; body: string }>(
			q`select wamid, body from messages where wamid like 'wamid.batch.in.%' and direction = 'inbound' order by wamid`,
		)
		expect(inbox.map((m) => m.body)).toEqual(['Me interesa', 'BAJA', '¿Hay talla M?'])
	})

	test('a Kapso batch of statuses moves every ledger row it names', async () => {
		const { broadcastId, recipients: rs } = await seedBroadcast({ count: 3 })
		const items = rs.map((r, i) =>
			kapsoStatusPayload(r.wamid!, [
				metaStatus(r.wamid!, 'sent', T0),
				metaStatus(r.wamid!, 'delivered', T0 + 5 + i),
			]),
		)
		expect((await postKapsoBatch('whatsapp.message.delivered', 'batch-st', items)).status).toBe(200)
		await work()

		const rows = await recipients(broadcastId)
		expect(rows.map((r) => [r.state, r.delivered_at])).toEqual([
			['delivered', at(5)],
			['delivered', at(6)],
			['delivered', at(7)],
		])
		expect(await counters(broadcastId)).toEqual({ delivered: 3 })
	})

	test('a Meta delivery holding many statuses, out of order, moves each row to where its statuses lead', async () => {
		const { broadcastId, recipients: rs } = await seedBroadcast({ count: 3 })
		const [a, b, c] = rs.map((r) => r.wamid!)
		const statuses = [
			metaStatus(a, 'read', T0 + 10),
			metaStatus(b, 'failed', T0 + 3, {
				errors: [{ code: 131026, title: 'Message undeliverable' }],
			}),
			metaStatus(c, 'delivered', T0 + 5),
			metaStatus(a, 'sent', T0),
			metaStatus(b, 'sent', T0),
			metaStatus(a, 'delivered', T0 + 5),
		]
		const body = metaBody('messages', metaMessagesValue({ statuses }))
		expect((await endpoints.meta(Buffer.from(body), metaHeaders(body, META_SECRET))).status).toBe(
			200,
		)
		await work()

		const rows = await recipients(broadcastId)
		expect(rows[0]).toMatchObject({ state: 'read', delivered_at: at(5), read_at: at(10) })
		expect(rows[1]).toMatchObject({
			state: 'failed',
			failed_at: at(3),
			error_code: 131026,
			error_title: 'Message undeliverable',
		})
		expect(rows[2]).toMatchObject({ state: 'delivered', delivered_at: at(5) })
		expect(await counters(broadcastId)).toEqual({ read: 1, failed: 1, delivered: 1 })
	})
})
