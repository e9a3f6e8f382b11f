import { setMaxListeners } from 'node:events'
import { getKapsoGateway } from '#app/lib/kapso/gateway.server'
import type { TemplateSend } from '#app/lib/kapso/types'
import { sendComponentsBuilder } from '#app/lib/broadcasts/audience'
import {
	autoPauseBroadcast,
	getBroadcast,
	getSendTemplate,
} from '#app/lib/broadcasts/broadcasts.server'
import { pauseReason, sendingBlockers } from '#app/lib/senders/health.server'
import { sql } from '#db/client'
import {
	claimRows,
	completeIfDone,
	openRowSummary,
	releaseRows,
	writeResults,
	type ClaimedRow,
	type Result,
} from './ledger.server'
import { callbackData, outcomeOf } from './outcome'
import { bucketParameters } from './token-bucket'
import { databaseClockOffset, slowSender, takeSenderTokens } from './token-bucket.server'

export type DispatchOptions = {
	/** How long this slice may claim new rows before it hands over to a fresh job. */
	sliceMs?: number
	/** The graphile-worker pool running this slice, recorded on every claim (crash sweep). */
	poolId?: string | null
	/** Fires on worker shutdown: stop claiming; calls in flight are aborted and become unknown. */
	signal?: AbortSignal
}

export type SliceResult = {
	/** `continue`: work remains, run another slice at `runAt` (null: now). */
	next: 'continue' | 'completed' | 'stopped'
	runAt: Date | null
	sent: number
	attempted: number
	/** Booked slots left unused because the loop reached them too late (timing diagnostics). */
	missedSlots?: number
	reason?: string
}

/** Failure-rate auto-pause: share of recipient-final failures in the last sends. */
const FAILURE_WINDOW = 300
const FAILURE_MIN_SAMPLE = 100
const DEFAULT_FAILURE_THRESHOLD = 0.2
const STATUS_POLL_MS = 50
const FLUSH_MS = 100
/** The round trip assumed until the first answers come back. */
const INITIAL_ROUND_TRIP_MS = 100
/** Tries of the slice's last write before the job fails (its rows then wait for reconciliation). */
const FINAL_FLUSH_ATTEMPTS = 8

/**
 * How many calls may wait for an answer at once: three round trips' worth of sends at the
 * number's rate, and never fewer than 8.
 *
 * When the provider stalls, calls queue up at it, and it counts them together when it resumes.
 * A one-second window there then holds that second's sends plus all those that waited. Capping
 * what may wait bounds the excess. A slot reached at the cap is not used, as a late one is not.
 *
 * The minimum is what the rate margin leaves at 1,000/s. The margin is 15 sends a second; a slot
 * fired up to 5 ms late takes 5 of them, and 2 are kept for rounding and the clock: 985 + 5 + 8
 * stays under 1,000.
 *
 * Measured against the sandbox at 1,000/s, with its loop stalling 15–40 ms at times:
 * - uncapped, up to 1,035 in a second;
 * - at least 10: 999 and 1,001 (sustained 967–968/s);
 * - at least 8: 997 and 998 (sustained 955–966/s).
 */
export function inFlightCap(roundTripMs: number, ratePerSecond: number) {
	return Math.max(8, Math.ceil((3 * roundTripMs * ratePerSecond) / 1000))
}

async function failureThreshold() {
	const [row] = await sql<
		Array<{ value: unknown }>
	>`select value from app_settings where key = 'failure_pause_threshold'`
	const value = typeof row?.value === 'number' ? row.value : Number(row?.value)
	if (!Number.isFinite(value) || value <= 0) return DEFAULT_FAILURE_THRESHOLD
	// Accept 0.2 or 20 (percent).
	return value > 1 ? value / 100 : value
}

async function readStatus(broadcastId: string) {
	const [row] = await sql<
		Array<{ status: string }>
	>`select status from broadcasts where id = ${broadcastId}::uuid`
	return row?.status ?? 'missing'
}

const sleep = (ms: number, signal?: AbortSignal) =>
	new Promise<void>((resolve) => {
		if (ms <= 0 || signal?.aborted) return resolve()
		const timer = setTimeout(done, ms)
		function done() {
			clearTimeout(timer)
			signal?.removeEventListener('abort', done)
			resolve()
		}
		signal?.addEventListener('abort', done, { once: true })
	})

/**
 * One bounded slice of a broadcast's dispatch. Each round books send slots on the sender's
 * shared bucket, claims that many rows (committed before any call), fires each send at its slot
 * (a slot missed by more than the jitter margin is not used, so a stall cannot bunch sends into
 * one second), and writes results back in batches guarded by `attempt_id`. The broadcast's
 * status is polled continuously: after a pause or cancel no new send starts.
 */
export async function dispatchSlice(
	broadcastId: string,
	options: DispatchOptions = {},
): Promise<SliceResult> {
	const sliceMs = options.sliceMs ?? 25_000
	const broadcast = await getBroadcast(broadcastId)
	if (!broadcast || broadcast.status !== 'sending') {
		return {
			next: 'stopped',
			runAt: null,
			sent: 0,
			attempted: 0,
			reason: broadcast?.status ?? 'missing',
		}
	}
	if (!broadcast.senderId || !broadcast.templateId) {
		await autoPauseBroadcast(broadcastId, 'The broadcast has no sender or template')
		return { next: 'stopped', runAt: null, sent: 0, attempted: 0, reason: 'incomplete' }
	}
	const [sender] = await sql<
		Array<{
			phone_number_id: string
			rate_per_second: number
			display_number: string
			quality_rating: string | null
			health: unknown
		}>
	>`
		select phone_number_id, rate_per_second, display_number, quality_rating, health
		from senders where id = ${broadcast.senderId}::uuid`
	const template = await getSendTemplate(broadcast.templateId)
	if (!sender || !template) {
		await autoPauseBroadcast(broadcastId, 'The sender or the template no longer exists')
		return { next: 'stopped', runAt: null, sent: 0, attempted: 0, reason: 'incomplete' }
	}
	// A slice can start long after the launch (a resume, the next wave, a retry): the number may
	// have turned unhealthy or RED since, and the health refresh does not pause on every check.
	const blockers = sendingBlockers({ qualityRating: sender.quality_rating, health: sender.health })
	if (blockers.length > 0) {
		await autoPauseBroadcast(broadcastId, pauseReason(sender.display_number, blockers))
		return { next: 'stopped', runAt: null, sent: 0, attempted: 0, reason: 'sender' }
	}
	if (template.metaStatus !== 'APPROVED') {
		await autoPauseBroadcast(broadcastId, `Template is ${template.metaStatus ?? 'not approved'}`)
		return { next: 'stopped', runAt: null, sent: 0, attempted: 0, reason: 'template' }
	}
	const gateway = getKapsoGateway()
	const params = bucketParameters(sender.rate_per_second)
	const maxInFlight = Math.min(1000, Math.max(32, Math.ceil(sender.rate_per_second)))
	const componentsFor = sendComponentsBuilder(
		template.components,
		template.parameterFormat === 'NAMED',
	)
	const threshold = await failureThreshold()
	const deadline = Date.now() + sliceMs
	// Slots are instants on the database's clock; `clock()` reads it from here.
	const offset = await databaseClockOffset()
	const clock = () => Date.now() + offset

	// Daily waves: at most daily_cap rows claimed in any rolling 24 h.
	let allowance = Number.POSITIVE_INFINITY
	let waveResumesAt: Date | null = null
	if (broadcast.dailyCap) {
		const [wave] = await sql<Array<{ claimed: number; oldest_ms: number | null }>>`
			select count(*)::int as claimed, (extract(epoch from min(claimed_at)) * 1000)::float8 as oldest_ms
			from broadcast_recipients
			where broadcast_id = ${broadcastId}::uuid and claimed_at > now() - interval '24 hours'`
		allowance = broadcast.dailyCap - wave.claimed
		if (wave.oldest_ms != null) waveResumesAt = new Date(wave.oldest_ms + 24 * 3600_000 + 1000)
	}

	let stopReason: string | null = null
	let halted: string | null = null
	const stop = new AbortController()
	const callSignal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal
	const stopWith = (reason: string) => {
		if (!stopReason) stopReason = reason
	}
	if (options.signal) {
		// Every call in flight listens to the worker's shutdown signal.
		setMaxListeners(maxInFlight + 16, options.signal)
		options.signal.addEventListener('abort', () => stopWith('shutdown'), { once: true })
	}

	// The status poller: a pause or cancel is seen within STATUS_POLL_MS.
	const poller = (async () => {
		while (!stopReason) {
			const status = await readStatus(broadcastId)
			if (status !== 'sending') stopWith(status)
			await sleep(STATUS_POLL_MS, stop.signal)
		}
	})()

	const inFlight = new Set<Promise<void>>()
	let pending: Result[] = []
	const carried: ClaimedRow[] = []
	const window: number[] = []
	let windowFailures = 0
	let sent = 0
	let attempted = 0
	let slowedAt = 0
	let missedSlots = 0
	// A moving average of answer times, for the in-flight cap.
	let roundTripMs = INITIAL_ROUND_TRIP_MS

	// A failed write (a deadlock victim, a dropped connection) keeps its results for the next
	// flush: the calls were made, and only their attempt can record them.
	const flush = async () => {
		if (pending.length === 0) return
		const batch = pending
		pending = []
		try {
			await writeResults(batch)
		} catch (error) {
			pending = batch.concat(pending)
			throw error
		}
	}
	const flushUntilWritten = async () => {
		for (let attempt = 1; ; attempt++) {
			try {
				return await flush()
			} catch (error) {
				if (attempt >= FINAL_FLUSH_ATTEMPTS) throw error
				console.error(`writing send results failed (attempt ${attempt}), retrying`, error)
				await sleep(Math.min(2000, 100 * 2 ** attempt))
			}
		}
	}
	// Woken once the last call settles, so the slice hands over without waiting out a flush period.
	const lastCallsSettled = new AbortController()
	const flusher = (async () => {
		while (!stopReason || inFlight.size > 0 || pending.length > 0) {
			await sleep(FLUSH_MS, lastCallsSettled.signal)
			await flush().catch((error: unknown) => {
				console.error('writing send results failed, retrying at the next flush', error)
			})
			if (stopReason && inFlight.size === 0) break
		}
	})()

	const record = (row: ClaimedRow, result: Awaited<ReturnType<typeof gateway.sendTemplate>>) => {
		const outcome = outcomeOf(result, row.attempts)
		pending.push({ row, outcome, at: new Date() })
		if (outcome.state === 'sent') sent++
		if (outcome.state === 'sent' || outcome.state === 'failed' || outcome.state === 'halt') {
			const failed = outcome.state === 'sent' ? 0 : 1
			window.push(failed)
			windowFailures += failed
			if (window.length > FAILURE_WINDOW) windowFailures -= window.shift()!
			if (
				window.length >= FAILURE_MIN_SAMPLE &&
				windowFailures / window.length > threshold &&
				!halted
			) {
				halted = `Failure rate ${Math.round((windowFailures / window.length) * 100)}% over the last ${window.length} sends is above ${Math.round(threshold * 100)}%`
				stopWith('halted')
			}
		}
		if (outcome.state === 'halt' && !halted) {
			halted = `${outcome.title}${outcome.code != null ? ` (error ${outcome.code})` : ''}`
			stopWith('halted')
		}
		if (outcome.state === 'retry_wait' && outcome.slowSender && Date.now() - slowedAt > 1000) {
			slowedAt = Date.now()
			void slowSender(broadcast.senderId!, sender.rate_per_second).catch(() => {})
		}
	}

	const fire = (row: ClaimedRow) => {
		attempted++
		const input: TemplateSend = {
			phoneNumberId: sender.phone_number_id,
			to: row.phoneE164,
			template: {
				name: template.name,
				language: template.language,
				components: componentsFor(row.variables),
			},
			bizOpaqueCallbackData: callbackData(row.id, row.attemptId),
			signal: options.signal,
		}
		const firedAt = performance.now()
		const call: Promise<void> = gateway
			.sendTemplate(input)
			.then((result) => {
				roundTripMs += (performance.now() - firedAt - roundTripMs) / 32
				record(row, result)
			})
			.finally(() => inFlight.delete(call))
		inFlight.add(call)
	}

	type Batch =
		| { kind: 'busy' }
		| { kind: 'empty' }
		| { kind: 'full'; firstSlotInMs: number }
		| { kind: 'slots'; grant: Awaited<ReturnType<typeof takeSenderTokens>>; rows: ClaimedRow[] }
	/** Claims rows if needed and books slots for them: the next batch to fire. */
	const prepare = async (): Promise<Batch> => {
		const room = maxInFlight - inFlight.size
		if (room <= 0) return { kind: 'busy' }
		const want = Math.min(room, Math.ceil(params.capacity))
		if (carried.length < want && allowance > 0) {
			const fresh = await claimRows(
				broadcastId,
				Math.min(want - carried.length, allowance),
				options.poolId ?? null,
			)
			allowance -= fresh.length
			carried.push(...fresh)
		}
		if (carried.length === 0) return { kind: 'empty' }
		const grant = await takeSenderTokens(
			broadcast.senderId!,
			sender.rate_per_second,
			Math.min(carried.length, want),
		)
		if (grant.granted === 0) return { kind: 'full', firstSlotInMs: grant.firstSlotInMs }
		return { kind: 'slots', grant, rows: carried.splice(0, grant.granted) }
	}
	let prepared: Promise<Batch> | null = null

	try {
		while (!stopReason) {
			// The slice ends once the slots it booked are used: a booked slot left unfired is lost to
			// every dispatcher on the number (the bucket never hands out past instants again).
			if (Date.now() >= deadline && !prepared) {
				stopWith('slice')
				break
			}
			const batch = await (prepared ?? prepare())
			prepared = null
			if (batch.kind === 'busy') {
				await Promise.race([...inFlight, sleep(20)])
				continue
			}
			if (batch.kind === 'empty') {
				// Booked ahead while the last batch still had rows that then missed their slots.
				if (carried.length > 0) continue
				if (inFlight.size > 0) {
					await Promise.race([...inFlight, sleep(200)])
					continue
				}
				stopWith(allowance <= 0 ? 'wave' : 'drained')
				break
			}
			if (batch.kind === 'full') {
				// The bucket is booked up to its horizon (by us or another dispatcher on the number).
				await sleep(
					Math.max(5, Math.min(50, batch.firstSlotInMs - params.horizonMs / 2)),
					callSignal,
				)
				continue
			}
			// Fire each row at its slot. A row whose slot was missed by more than the jitter margin,
			// or reached with the in-flight cap full, keeps its claim and waits for the next grant.
			const { grant, rows } = batch
			const lastSlotAt = grant.firstSlotAt + (rows.length - 1) * grant.intervalMs
			const missed: ClaimedRow[] = []
			for (let i = 0; i < rows.length; i++) {
				const slotAt = grant.firstSlotAt + i * grant.intervalMs
				// Book the next batch while this one still runs, so its slots follow on without a gap.
				if (
					!prepared &&
					!stopReason &&
					Date.now() < deadline &&
					lastSlotAt - clock() < params.horizonMs / 2
				)
					prepared = prepare()
				let now = clock()
				if (slotAt - now > 1) {
					await sleep(Math.floor(slotAt - now))
					now = clock()
				}
				if (stopReason) {
					missed.push(...rows.slice(i))
					break
				}
				if (
					now - slotAt > params.maxLatenessMs ||
					inFlight.size >= inFlightCap(roundTripMs, sender.rate_per_second)
				) {
					missedSlots++
					missed.push(rows[i])
					continue
				}
				fire(rows[i])
			}
			carried.unshift(...missed)
		}
	} finally {
		stopWith('finally')
		stop.abort()
		// A batch booked ahead but never fired gives its rows back too.
		const pending = prepared ? await (prepared as Promise<Batch>).catch(() => null) : null
		if (pending?.kind === 'slots') carried.push(...pending.rows)
		await poller.catch(() => {})
		await Promise.allSettled([...inFlight])
		lastCallsSettled.abort()
		await flusher
		await flushUntilWritten()
		await releaseRows(broadcastId, carried)
	}

	if (halted) {
		await autoPauseBroadcast(broadcastId, halted)
		return { next: 'stopped', runAt: null, sent, attempted, missedSlots, reason: halted }
	}
	if (stopReason !== 'slice' && stopReason !== 'drained' && stopReason !== 'wave') {
		return { next: 'stopped', runAt: null, sent, attempted, reason: stopReason ?? undefined }
	}
	if (stopReason === 'wave') {
		// With no claim in the 24 h before this slice, its own first claim opens the window.
		const resumeAt = waveResumesAt ?? new Date(Date.now() + 24 * 3600_000 + 1000)
		return { next: 'continue', runAt: resumeAt, sent, attempted, reason: 'daily cap' }
	}
	if (stopReason === 'slice') return { next: 'continue', runAt: null, sent, attempted, missedSlots }
	const open = await openRowSummary(broadcastId)
	if (open.done) {
		await completeIfDone(broadcastId)
		return { next: 'completed', runAt: null, sent, attempted, missedSlots }
	}
	if (open.queued) return { next: 'continue', runAt: null, sent, attempted, missedSlots }
	// Only retries later, rows in flight elsewhere, or unknown rows being reconciled remain.
	const waitMs = Math.min(open.nextRetryInMs ?? 30_000, 30_000)
	return { next: 'continue', runAt: new Date(Date.now() + Math.max(1000, waitMs)), sent, attempted }
}
