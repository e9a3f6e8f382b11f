import { describe, expect, test } from 'vitest'
import {
	bucketParameters,
	rateInForce,
	slowDown,
	takeTokens,
	type BucketState,
} from './token-bucket'
import { maxInWindow } from '#tests/support/rate-window'

const fresh: BucketState = { nextSlotAt: 0, currentRate: 0, slowedAt: null }

describe('takeTokens', () => {
	test('an idle bucket grants up to its capacity, the first slot now, spaced 1/rate apart', () => {
		const grant = takeTokens(fresh, 10_000, 500, 100, 20)
		expect(grant.granted).toBe(20)
		expect(grant.firstSlotAt).toBe(10_000)
		expect(grant.intervalMs).toBe(10)
		expect(grant.state.nextSlotAt).toBe(10_200)
	})

	test('an idle bucket keeps no burst: waiting long grants no more than the capacity', () => {
		const grant = takeTokens({ ...fresh, nextSlotAt: 1 }, 1_000_000, 10_000, 1000, 200)
		expect(grant.granted).toBe(200)
		expect(grant.firstSlotAt).toBe(1_000_000)
	})

	test('slots are booked at most capacity/rate ahead and continue where the last grant ended', () => {
		const first = takeTokens(fresh, 0, 20, 100, 20)
		const second = takeTokens(first.state, 50, 20, 100, 20)
		// At t=50 the next free slot is 200; only (capacity − 150 ms × 100/s) = 5 more fit.
		expect(second.granted).toBe(5)
		expect(second.firstSlotAt).toBe(200)
		const third = takeTokens(second.state, 55, 20, 100, 20)
		expect(third.granted).toBe(0)
		expect(third.state).toEqual(second.state)
	})

	test('grants only what is asked for', () => {
		expect(takeTokens(fresh, 0, 3, 100, 20).granted).toBe(3)
		expect(takeTokens(fresh, 0, 0, 100, 20).granted).toBe(0)
	})

	test('many callers at random moments never get more than the rate in any one-second window', () => {
		let seed = 42
		const random = () => {
			seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
			return seed / 2 ** 31
		}
		for (const ratePerSecond of [1, 7, 80, 1000]) {
			const { rate, capacity } = bucketParameters(ratePerSecond)
			let state: BucketState = { ...fresh }
			const slots: number[] = []
			let now = 0
			while (now < 20_000) {
				now += random() * 40
				const grant = takeTokens(state, now, Math.ceil(random() * capacity * 2), rate, capacity)
				for (let i = 0; i < grant.granted; i++) slots.push(grant.firstSlotAt + i * grant.intervalMs)
				state = grant.state
			}
			expect(maxInWindow(slots)).toBeLessThanOrEqual(ratePerSecond)
			// And the bucket does not starve callers: close to the rate over the run.
			expect(slots.length / 20).toBeGreaterThan(ratePerSecond * 0.95 - 1)
		}
	})

	test('a caller polling every 20 ms at 1000/s sustains the bucket rate', () => {
		const { rate, capacity } = bucketParameters(1000)
		let state: BucketState = { ...fresh }
		let total = 0
		for (let now = 0; now < 10_000; now += 20) {
			const grant = takeTokens(state, now, 10_000, rate, capacity)
			for (let i = 0; i < grant.granted; i++)
				if (grant.firstSlotAt + i * grant.intervalMs < 10_000) total++
			state = grant.state
		}
		expect(total / 10).toBeGreaterThanOrEqual(970)
		expect(total / 10).toBeLessThanOrEqual(1000)
	})
})

describe('slowDown', () => {
	test('halves the rate in force and recovers linearly to the full rate', () => {
		const rate = 100
		const slowed = slowDown(fresh, 1000, rate)
		expect(slowed.currentRate).toBe(50)
		expect(rateInForce(slowed, 1000, rate, 10)).toBe(50)
		expect(rateInForce(slowed, 3000, rate, 10)).toBe(70)
		expect(rateInForce(slowed, 100_000, rate, 10)).toBe(100)
		const again = slowDown(slowed, 1000, rate)
		expect(again.currentRate).toBe(25)
		const grant = takeTokens(slowed, 1000, 1000, rate, 20)
		expect(grant.intervalMs).toBe(20)
	})

	test('never goes under the floor', () => {
		let state: BucketState = { ...fresh }
		for (let i = 0; i < 50; i++) state = slowDown(state, 1000, 1000)
		expect(state.currentRate).toBe(50)
	})
})
