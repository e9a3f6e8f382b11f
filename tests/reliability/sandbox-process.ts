/**
 * The sandbox in its own process (so a killed worker or a busy orchestrator does not share its
 * event loop). Settings come as JSON in argv[2]; prints `{"url": …}` once listening. Tests read
 * its ledger and change its faults through the `/_sandbox/*` control endpoints.
 */
import { createSandboxServer } from '#app/sandbox/server'

const settings = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>
const sandbox = await createSandboxServer({ webhookUrl: null, ...settings })
process.once('SIGTERM', () => {
	void sandbox.close().then(() => process.exit(0))
})
console.log(JSON.stringify({ url: sandbox.url }))
