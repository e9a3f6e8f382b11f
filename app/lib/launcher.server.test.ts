import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { EnvSchema } from '#app/lib/env.server'
import {
	signKapsoBody,
	signMetaBody,
	verifyKapsoSignature,
	verifyMetaSignature,
} from '#app/lib/kapso/signatures'
import { parseSettings, loadSandboxSettings } from '#app/sandbox/settings'
import { childEnvironments, SANDBOX_SECRET_FILES } from './launcher.server'

const DATABASE_URL = 'postgres://pregon@127.0.0.1:5432/pregon'
const dirs: string[] = []

function dataDir() {
	const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pregon-launcher-')), 'data')
	dirs.push(path.dirname(dir))
	return dir
}

function launch(variables: Record<string, string>, dir: string) {
	const inherited = { NODE_ENV: 'production' as const, LANG: 'C.UTF-8', ...variables }
	return childEnvironments({
		env: EnvSchema.parse(inherited),
		inherited,
		databaseUrl: DATABASE_URL,
		dataDir: dir,
	})
}

afterEach(() => {
	for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

const body = Buffer.from('{"message":{"id":"wamid.1"}}')

describe('npm start in sandbox mode', () => {
	test('the app verifies what the sandbox signs, with secrets generated once and kept across restarts', () => {
		const dir = dataDir()
		const envs = launch({ PORT: '3100' }, dir)
		expect(envs.sandbox).not.toBeNull()
		const secret = envs.app.KAPSO_WEBHOOK_SECRET!
		const metaSecret = envs.app.META_APP_SECRET!
		expect(secret).toMatch(/^[0-9a-f]{64}$/)
		expect(metaSecret).toMatch(/^[0-9a-f]{64}$/)
		expect(metaSecret).not.toBe(secret)
		expect(envs.app).toMatchObject({ DATABASE_URL, LANG: 'C.UTF-8' })

		// What the sandbox process makes of its environment, as `npm run sandbox` loads it.
		const settings = parseSettings(loadSandboxSettings(envs.sandbox!))
		expect(settings).toMatchObject({
			webhookUrl: 'http://127.0.0.1:3100/webhooks/kapso',
			metaWebhookUrl: 'http://127.0.0.1:3100/webhooks/meta',
		})
		expect(verifyKapsoSignature(body, signKapsoBody(body, settings.webhookSecret), secret)).toBe(
			true,
		)
		expect(verifyMetaSignature(body, signMetaBody(body, settings.metaAppSecret), metaSecret)).toBe(
			true,
		)

		for (const name of Object.values(SANDBOX_SECRET_FILES)) {
			expect(fs.statSync(path.join(dir, name)).mode & 0o777).toBe(0o600)
		}
		const restarted = launch({ PORT: '3100' }, dir)
		expect(restarted.app.KAPSO_WEBHOOK_SECRET).toBe(secret)
		expect(restarted.sandbox!.SANDBOX_WEBHOOK_SECRET).toBe(secret)
		expect(restarted.app.META_APP_SECRET).toBe(metaSecret)
		// Another installation gets its own.
		expect(launch({}, dataDir()).app.KAPSO_WEBHOOK_SECRET).not.toBe(secret)
	})

	test('secrets named in the environment are the ones shared, and nothing is written', () => {
		const dir = dataDir()
		const envs = launch({ KAPSO_WEBHOOK_SECRET: 'from-env', META_APP_SECRET: 'meta-from-env' }, dir)
		const settings = parseSettings(loadSandboxSettings(envs.sandbox!))
		expect(envs.app).toMatchObject({
			KAPSO_WEBHOOK_SECRET: 'from-env',
			META_APP_SECRET: 'meta-from-env',
		})
		expect(settings).toMatchObject({ webhookSecret: 'from-env', metaAppSecret: 'meta-from-env' })
		expect(fs.existsSync(dir)).toBe(false)
	})
})

test('with a Kapso API key there is no sandbox and no generated secret', () => {
	const dir = dataDir()
	const envs = launch({ KAPSO_API_KEY: 'live-key' }, dir)
	expect(envs.sandbox).toBeNull()
	expect(envs.app.KAPSO_WEBHOOK_SECRET).toBeUndefined()
	expect(envs.app.META_APP_SECRET).toBeUndefined()
	expect(envs.app.DATABASE_URL).toBe(DATABASE_URL)
	expect(fs.existsSync(dir)).toBe(false)
})
