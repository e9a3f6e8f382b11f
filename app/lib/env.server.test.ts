import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { EnvSchema, isSandboxMode, parseEnv } from './env.server'

const example = fs.readFileSync(path.resolve(__dirname, '../../.env.example'), 'utf8')
const documented = new Map(
	example
		.split('\n')
		.map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
		.filter((match) => match !== null)
		.map((match) => [match[1], match[2]]),
)

describe('environment', () => {
	test('a wrong value is refused naming the variable and the rule', () => {
		expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/^\s*PORT: .*number/m)
		expect(() => parseEnv({ DATABASE_URL: 'mysql://db/pregon' })).toThrow(/^\s*DATABASE_URL: /m)
		expect(() => parseEnv({ ADMIN_PASSWORD: 'short' })).toThrow(
			/^\s*ADMIN_PASSWORD: must be at least 12 characters$/m,
		)
		expect(() => parseEnv({ NODE_ENV: 'staging' })).toThrow(/^\s*NODE_ENV: /m)
		// An import needs two connections; with one it would wait for itself forever.
		expect(() => parseEnv({ DATABASE_POOL_SIZE: '1' })).toThrow(/^\s*DATABASE_POOL_SIZE: /m)
	})

	test('every wrong variable is named at once', () => {
		const error = (() => {
			try {
				parseEnv({ PORT: '0', WORKER_CONCURRENCY: 'many', TRUST_PROXY: 'yes' })
			} catch (caught) {
				return String(caught)
			}
		})()
		for (const name of ['PORT', 'WORKER_CONCURRENCY', 'TRUST_PROXY'])
			expect(error).toMatch(new RegExp(`^\\s*${name}: `, 'm'))
	})

	test('.env.example lists every variable, and its values are valid', () => {
		expect([...documented.keys()].sort()).toEqual(Object.keys(EnvSchema.shape).sort())
		expect(() => parseEnv(Object.fromEntries(documented))).not.toThrow()
	})

	test('blank values count as unset: no Kapso key means the sandbox', () => {
		expect(isSandboxMode(parseEnv({ KAPSO_API_KEY: '' }))).toBe(true)
		expect(isSandboxMode(parseEnv({ KAPSO_API_KEY: 'kp_live_1' }))).toBe(false)
	})
})
