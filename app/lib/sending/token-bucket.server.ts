import { sql } from '#db/client'
import { bucketParameters, SLOW_FLOOR_SHARE } from './token-bucket'

export type SlotGrant = {
	granted: number
	/** Epoch milliseconds of the first slot, on the database's clock. */
	firstSlotAt: number
	/** Milliseconds from the database's clock at the grant to the first slot (≥ 0). */
	firstSlotInMs: number
	intervalMs: number
	rate: number
}

/**
 * Books up to `want` send slots on the sender's shared bucket (one row per sender, updated in one
 * statement by `take_sender_tokens`). Every worker process and every broadcast on the number
 * books from the same row, so together they never exceed its rate.
 */
export async function takeSenderTokens(
	senderId: string,
	ratePerSecond: number,
	want: number,
): Promise<SlotGrant> {
	const p = bucketParameters(ratePerSecond)
	const [row] = await sql<
		Array<{ granted: number; first_at: number; first_in_ms: number; slot_rate: number }>
	>`
		select granted,
			(extract(epoch from first_slot_at) * 1000)::float8 as first_at,
			(extract(epoch from first_slot_at - clock) * 1000)::float8 as first_in_ms,
			slot_rate
		from take_sender_tokens(${senderId}::uuid, ${Math.max(0, Math.floor(want))}::int,
			${p.rate}::float8, ${p.capacity}::float8, ${p.recoveryPerSecond}::float8)
	`
	return {
		granted: row.granted,
		firstSlotAt: row.first_at,
		firstSlotInMs: Math.max(0, row.first_in_ms),
		intervalMs: 1000 / row.slot_rate,
		rate: row.slot_rate,
	}
}

/**
 * Halves the sender's rate in force after a 130429 (not under a floor). Several 130429s from
 * one burst count once: a second slow-down within a second is ignored.
 */
export async function slowSender(senderId: string, ratePerSecond: number) {
	const p = bucketParameters(ratePerSecond)
	await sql`
		update sender_rate_buckets
		set current_rate = greatest(${p.rate * SLOW_FLOOR_SHARE}::float8,
				least(${p.rate}::float8, case when slowed_at is null then ${p.rate}::float8
					else current_rate + ${p.recoveryPerSecond}::float8
						* greatest(0, extract(epoch from clock_timestamp() - slowed_at)) end) / 2),
			slowed_at = clock_timestamp()
		where sender_id = ${senderId}::uuid
			and (slowed_at is null or slowed_at < clock_timestamp() - interval '1 second')
	`
}

/**
 * How far the database's clock is ahead of this process's (ms), measured once per slice: slots
 * are instants on the database's clock, shared by every process, so each fires them on it.
 *
 * One sample is off by up to half its round trip, and a query that waited for a busy pool
 * connection can take tens of milliseconds: two slices with opposite errors fired the slots
 * around their handover that much closer together, and a one-second window at the receiver held
 * up to 1,061 sends at 1,000/s. So the sample with the shortest round trip wins, as in NTP.
 */
export async function databaseClockOffset(samples = 5) {
	let best = { roundTrip: Number.POSITIVE_INFINITY, offset: 0 }
	for (let i = 0; i < samples; i++) {
		const before = Date.now()
		const [row] = await sql<
			Array<{ now: number }>
		>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as now`
		const after = Date.now()
		if (after - before < best.roundTrip) {
			best = { roundTrip: after - before, offset: row.now - (before + after) / 2 }
		}
	}
	return best.offset
}

/** The rate the sender's bucket enforces right now, for progress pages. */
export async function currentSenderRate(senderId: string, ratePerSecond: number) {
	const p = bucketParameters(ratePerSecond)
	const [row] = await sql<Array<{ rate: number | null }>>`
		select least(${p.rate}::float8, case when slowed_at is null then ${p.rate}::float8
			else current_rate + ${p.recoveryPerSecond}::float8
				* greatest(0, extract(epoch from clock_timestamp() - slowed_at)) end) as rate
		from sender_rate_buckets where sender_id = ${senderId}::uuid
	`
	return row?.rate ?? p.rate
}
