import { sql } from 'drizzle-orm'
import { signKapsoBody, signMetaBody } from '#app/lib/kapso/signatures'
import { db } from '#db/client'

/** Test and benchmark helpers: a sender, a broadcast and its ledger rows, and signed deliveries. */

export const PHONE_NUMBER_ID = '100000000000001'

export async function seedSender(phoneNumberId = PHONE_NUMBER_ID) {
	const [row] = await db.execute<{ id: string }>(sql`
		insert into senders (phone_number_id, waba_id, display_number, name)
		values (${phoneNumberId}, '200000000000001', '+1 555 010 0001', 'Main')
		on conflict (phone_number_id) do update set name = excluded.name
		returning id
	`)
	return row.id
}

/**
 * A broadcast with `count` recipients (contacts +51 9xx…), every row in `state` with a wamid
 * `wamid.<broadcast-tag>.<i>` unless `withWamid` is false. Returns the ids in order.
 */
export async function seedBroadcast(options: {
	count: number
	state?: string
	withWamid?: boolean
	name?: string
	sentAt?: Date
	phoneBase?: number
}) {
	const senderId = await seedSender()
	const [broadcast] = await db.execute<{ id: string }>(sql`
		insert into broadcasts (name, sender_id, status, launched_at)
		values (${options.name ?? 'Test broadcast'}, ${senderId}::uuid, 'sending', now())
		returning id
	`)
	const tag = broadcast.id.slice(0, 8)
	const base = options.phoneBase ?? 51_900_000_000 + Math.floor(Math.random() * 90_000_000)
	const state = options.state ?? 'sent'
	const sentAt = options.sentAt ?? (state === 'queued' ? null : new Date())
	const rows = await db.execute<{ id: string; wamid: string | null; phone_e164: string; contact_id: string }>(sql`
		with c as (
			insert into contacts (phone_e164, wa_id, name)
			select '+' || (${base}::bigint + i)::text, (${base}::bigint + i)::text, 'Contact ' || i
			from generate_series(1, ${options.count}) as i
			on conflict (phone_e164) do update set name = excluded.name
			returning id, phone_e164
		)
		insert into broadcast_recipients (broadcast_id, contact_id, phone_e164, state, wamid, sent_at, attempts, attempt_id)
		select ${broadcast.id}::uuid, c.id, c.phone_e164, ${state}::recipient_state,
			case when ${options.withWamid ?? true} then 'wamid.' || ${tag} || '.' || row_number() over (order by c.id) end,
			${sentAt ? sentAt.toISOString() : null}::timestamptz, 1, gen_random_uuid()
		from c
		order by c.id
		returning id, wamid, phone_e164, contact_id
	`)
	return {
		broadcastId: broadcast.id,
		senderId,
		recipients: rows
			.map((r) => ({ id: Number(r.id), wamid: r.wamid, phone: r.phone_e164, contactId: Number(r.contact_id) }))
			.sort((a, b) => a.id - b.id),
	}
}

export function metaStatus(
	wamid: string,
	status: string,
	timestamp: number,
	extra: Record<string, unknown> = {},
) {
	return { id: wamid, status, timestamp: String(timestamp), recipient_id: '51900000000', ...extra }
}

/** A Meta-format delivery (`entry[0].changes[0]`) with the given value. */
export function metaBody(field: string, value: Record<string, unknown>) {
	return JSON.stringify({
		object: 'whatsapp_business_account',
		entry: [{ id: '200000000000001', changes: [{ field, value }] }],
	})
}

export function metaMessagesValue(parts: { statuses?: unknown[]; messages?: unknown[]; contacts?: unknown[] }) {
	return {
		messaging_product: 'whatsapp',
		metadata: { display_phone_number: '15550100001', phone_number_id: PHONE_NUMBER_ID },
		...parts,
	}
}

/** A Kapso v2 status event for `wamid` carrying the raw Meta statuses given. */
export function kapsoStatusPayload(wamid: string, statuses: Array<Record<string, unknown>>) {
	const last = statuses[statuses.length - 1]
	return {
		message: {
			id: wamid,
			timestamp: String(last?.timestamp ?? Math.floor(Date.now() / 1000)),
			type: 'template',
			kapso: { direction: 'outbound', status: last?.status, statuses },
		},
		conversation: { id: 'conv-1', phone_number_id: PHONE_NUMBER_ID },
		is_new_conversation: false,
		phone_number_id: PHONE_NUMBER_ID,
	}
}

/** A Kapso v2 `whatsapp.message.received` payload. */
export function kapsoInboundPayload(input: {
	wamid: string
	from: string
	timestamp: number
	text?: string
	button?: { payload: string; text: string }
	contextWamid?: string
}) {
	const message: Record<string, unknown> = {
		id: input.wamid,
		from: input.from,
		timestamp: String(input.timestamp),
		type: input.button ? 'button' : 'text',
		kapso: { direction: 'inbound', status: 'received' },
	}
	if (input.button) message.button = input.button
	else message.text = { body: input.text ?? '' }
	if (input.contextWamid) message.context = { from: PHONE_NUMBER_ID, id: input.contextWamid }
	return {
		message,
		conversation: { id: `conv-${input.from}`, phone_number: `+${input.from}`, phone_number_id: PHONE_NUMBER_ID },
		is_new_conversation: false,
		phone_number_id: PHONE_NUMBER_ID,
	}
}

export function kapsoHeaders(body: string, secret: string, event: string, key: string, extra: Record<string, string> = {}) {
	return {
		'content-type': 'application/json',
		'x-webhook-event': event,
		'x-webhook-signature': signKapsoBody(body, secret),
		'x-idempotency-key': key,
		'x-webhook-payload-version': 'v2',
		...extra,
	}
}

export function metaHeaders(body: string, appSecret: string) {
	return { 'content-type': 'application/json', 'x-hub-signature-256': signMetaBody(body, appSecret) }
}
