import { getEnv } from '#app/lib/env.server'
import { createSandboxServer } from './server'
import { loadSandboxSettings } from './settings'

/** `npm run sandbox`: the Kapso stand-in on SANDBOX_PORT, settings from SANDBOX_SETTINGS then env. */
async function main() {
	const env = getEnv()
	const sandbox = await createSandboxServer(loadSandboxSettings(process.env), {
		port: env.SANDBOX_PORT,
		host: '127.0.0.1',
	})
	const { defaultPhoneNumberId, defaultWabaId } = sandbox.settings
	console.log(
		`[sandbox] Kapso sandbox on ${sandbox.url} (phone number id ${defaultPhoneNumberId}, WABA ${defaultWabaId}); webhooks to ${sandbox.stats().webhooks.url ?? 'nowhere'}`,
	)
	const stop = async () => {
		await sandbox.close()
		process.exit(0)
	}
	process.once('SIGINT', stop)
	process.once('SIGTERM', stop)
}

main().catch((error) => {
	console.error('[sandbox] failed to start:', error instanceof Error ? error.message : error)
	process.exit(1)
})
