import { describe, expect, test } from 'vitest'
import { crashScenario, faultScenario, pauseCancelScenario } from './scenarios'

/**
 * The reliability suite at CI size (2,000 recipients at 200/s, fast recovery beat). The full size
 * runs with `npm run test:reliability`.
 */
const options = { size: 2000, rate: 200, fast: true }

describe('reliability (CI size)', () => {
	test('R1: five kill -9 of the worker: no duplicate, no lost recipient, prompt resumption', async () => {
		const result = await crashScenario(options)
		expect(result.failures).toEqual([])
	}, 600_000)

	test('R3: provider faults: every recipient exactly once, rate never exceeded', async () => {
		const result = await faultScenario(options)
		expect(result.failures).toEqual([])
	}, 600_000)

	test('R6: pause at 37% and resume, cancel at 60%: exact counts', async () => {
		const result = await pauseCancelScenario(options)
		expect(result.failures).toEqual([])
	}, 600_000)
})
