/**
 * The web server (`app/cli/web.ts`, production build) in its own process for the soak: the
 * sandbox posts its webhooks here. PORT comes from the orchestrator; prints `{"url", "pid"}` once
 * listening.
 */
import { startWeb } from '#app/cli/web'

const server = await startWeb()
process.once('SIGTERM', () => {
	server.close()
	server.closeAllConnections()
	void import('#db/client').then(({ closeDatabase }) => closeDatabase()).then(() => process.exit(0))
})
console.log(
	JSON.stringify({ url: `http://127.0.0.1:${process.env.PORT}`, pid: process.pid, ready: true }),
)
