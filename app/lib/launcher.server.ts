import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { isSandboxMode, type Env } from '#app/lib/env.server'

/**
 * The environments `npm start` gives its child processes. In sandbox mode the app verifies the
 * webhooks the sandbox signs, so both get the same Kapso webhook secret and the same Meta app
 * secret (template status events): the ones the environment names, else secrets generated into
 * the data folder once and read back on every start, so that a webhook the sandbox retries
 * across a restart still verifies.
 */

/**
 * Node flags for the processes that run imports (the worker, `npm run import`). V8's default young
 * generation (16 MB semi-spaces) let a million-row import peak at ~280 MB RSS; with 4 MB it peaks
 * at ~240 MB for no more CPU (measured: docs/decisions/018-import-merge-in-chunks-without-link-foreign-keys.md).
 * Also in package.json's start:worker and import scripts, which cannot import this.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=4']

export const SANDBOX_SECRET_FILES = {
	kapsoWebhook: 'sandbox-webhook-secret',
	metaApp: 'sandbox-meta-app-secret',
} as const

/** The secret kept in `dataDir/name`, generated the first time: 32 random bytes in hex, owner-only. */
export function persistedSecret(dataDir: string, name: string) {
	const file = path.join(dataDir, name)
	fs.mkdirSync(dataDir, { recursive: true })
	try {
		fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' })
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
	}
	return fs.readFileSync(file, 'utf8').trim()
}

export type ChildEnvironments = {
	/** The web server and the worker. */
	app: NodeJS.ProcessEnv
	/** The Kapso sandbox; null when a Kapso API key is set. */
	sandbox: NodeJS.ProcessEnv | null
}

/** Every child inherits `inherited`, with the database URL and the secrets above set. */
export function childEnvironments(input: {
	env: Env
	inherited: NodeJS.ProcessEnv
	databaseUrl: string
	dataDir: string
}): ChildEnvironments {
	const { env, dataDir } = input
	const sandbox = isSandboxMode(env)
	const webhookSecret =
		env.KAPSO_WEBHOOK_SECRET ??
		(sandbox ? persistedSecret(dataDir, SANDBOX_SECRET_FILES.kapsoWebhook) : undefined)
	const metaAppSecret =
		env.META_APP_SECRET ??
		(sandbox ? persistedSecret(dataDir, SANDBOX_SECRET_FILES.metaApp) : undefined)
	const app: NodeJS.ProcessEnv = {
		...input.inherited,
		DATABASE_URL: input.databaseUrl,
		...(webhookSecret ? { KAPSO_WEBHOOK_SECRET: webhookSecret } : {}),
		...(metaAppSecret ? { META_APP_SECRET: metaAppSecret } : {}),
	}
	if (!sandbox) return { app, sandbox: null }
	return {
		app,
		sandbox: {
			...app,
			SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${env.PORT}/webhooks/kapso`,
			SANDBOX_WEBHOOK_SECRET: webhookSecret,
			// Template status events go, in Meta's format as Kapso forwards them, to the Meta endpoint.
			SANDBOX_META_WEBHOOK_URL: `http://127.0.0.1:${env.PORT}/webhooks/meta`,
		},
	}
}
