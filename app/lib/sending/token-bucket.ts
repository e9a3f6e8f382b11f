/**
 * The per-sender token bucket, as a pure function of its state and the time.
 *
 * The guarantee we need is strict: no more than `rate` sends start in ANY one-second window.
 * A classic bucket of capacity C refilled at r lets C + r through in a window (a full bucket
 * emptied at once, then the refill), so this bucket keeps no idle burst at all. Instead it hands
 * out *send slots*: `granted` consecutive instants `firstSlotAt + i * intervalMs`, spaced 1/rate
 * apart, and remembers the next free instant (`nextSlotAt`). Slots of every grant, by every
 * worker, never overlap and are never closer than 1/rate, so any half-open second holds at most
 * `rate` of them. `capacity` only bounds how far ahead a caller may book (capacity / rate
 * seconds), which keeps a slow caller from hoarding the future.
 *
 * After a 130429 the rate in force drops to `currentRate` (at `slowedAt`) and climbs back
 * linearly by `recoveryPerSecond` each second until it reaches `rate` again.
 *
 * `take_sender_tokens` (migration 0001) is the same computation inside PostgreSQL, where the
 * state lives; `token-bucket.server.ts` calls it.
 */
export type BucketState = {
	/** Epoch ms of the next free send slot. */
	nextSlotAt: number
	/** The rate right after the last slow-down. */
	currentRate: number
	/** Epoch ms of the last slow-down, or null if never slowed. */
	slowedAt: number | null
}

export type Grant = {
	granted: number
	/** Epoch ms of the first slot; slot i starts at firstSlotAt + i * intervalMs. */
	firstSlotAt: number
	intervalMs: number
	/** The rate in force when the grant was made. */
	rate: number
	state: BucketState
}

/** The share of the configured rate kept as a margin for timing jitter between grant and send. */
export const RATE_HEADROOM = 0.015
/** How far ahead slots may be booked. */
export const BOOKING_HORIZON_MS = 250
/** Recovery after a slow-down: this share of the full rate per second (half to full in 5 s). */
export const RECOVERY_SHARE_PER_SECOND = 0.1
/** A slow-down never goes under this share of the full rate. */
export const SLOW_FLOOR_SHARE = 0.05

export function rateInForce(
	state: BucketState,
	now: number,
	rate: number,
	recoveryPerSecond: number,
) {
	if (state.slowedAt == null) return rate
	return Math.min(
		rate,
		state.currentRate + recoveryPerSecond * Math.max(0, (now - state.slowedAt) / 1000),
	)
}

export function takeTokens(
	state: BucketState,
	now: number,
	want: number,
	rate: number,
	capacity: number,
	recoveryPerSecond = rate * RECOVERY_SHARE_PER_SECOND,
): Grant {
	const current = rateInForce(state, now, rate, recoveryPerSecond)
	const start = Math.max(state.nextSlotAt, now)
	const available = Math.floor(capacity - ((start - now) / 1000) * current + 1e-9)
	const granted = Math.max(0, Math.min(Math.floor(want), available))
	return {
		granted,
		firstSlotAt: start,
		intervalMs: 1000 / current,
		rate: current,
		state: granted > 0 ? { ...state, nextSlotAt: start + (granted / current) * 1000 } : state,
	}
}

/** The state after a 130429: half the rate in force, not under the floor. */
export function slowDown(
	state: BucketState,
	now: number,
	rate: number,
	recoveryPerSecond = rate * RECOVERY_SHARE_PER_SECOND,
): BucketState {
	const current = rateInForce(state, now, rate, recoveryPerSecond)
	return { ...state, currentRate: Math.max(rate * SLOW_FLOOR_SHARE, current / 2), slowedAt: now }
}

/**
 * The rate the bucket enforces for a sender configured at `ratePerSecond`, and how many slots a
 * caller may book ahead (at least one, so slow senders still progress).
 */
export function bucketParameters(ratePerSecond: number) {
	const rate = ratePerSecond * (1 - RATE_HEADROOM)
	return {
		rate,
		capacity: Math.max(1, (rate * BOOKING_HORIZON_MS) / 1000),
		horizonMs: BOOKING_HORIZON_MS,
		recoveryPerSecond: rate * RECOVERY_SHARE_PER_SECOND,
		/**
		 * A slot fired later than this is not used: a late burst could crowd a window. With slots
		 * at rate·(1 − h), rate + 1 consecutive slots span ≥ 1 s + h s; firing at most 5 ms late
		 * leaves h − 5 ms (10 ms) for the jitter between our clock and the provider's.
		 */
		maxLatenessMs: 5,
	}
}
