import { createKapsoPlatform } from '#app/lib/kapso/platform.server'
import { createSandboxServer } from '#app/sandbox/server'

/**
 * A real sandbox on a random port (it routes health, calls, assignments, media and deletes to
 * its extras) and a platform client pointed at it, plus helpers for its control endpoints.
 */
export async function startSandboxWithExtras() {
	const sandbox = await createSandboxServer({ webhookUrl: null }, { port: 0 })
	const platform = createKapsoPlatform({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 5000 })

	async function control(path: string, body: Record<string, unknown>) {
		const response = await fetch(`${sandbox.url}/_sandbox/${path}`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify(body),
		})
		if (!response.ok)
			throw new Error(`sandbox ${path}: ${response.status} ${await response.text()}`)
		return (await response.json()) as Record<string, unknown>
	}

	/** A contact sends a message of `type`; answers the message as Kapso's history returns it. */
	async function inboundMessage(input: { type: string; from: string; phoneNumberId: string }) {
		const { wamid } = (await control('simulate/message', input)) as { wamid: string }
		const response = await fetch(
			`${sandbox.url}/meta/whatsapp/v24.0/${input.phoneNumberId}/messages/${encodeURIComponent(wamid)}`,
			{ headers: { 'X-API-Key': 'sandbox' } },
		)
		if (!response.ok) throw new Error(`sandbox message ${wamid}: ${response.status}`)
		return (await response.json()) as Record<string, unknown> & { type: string; id: string }
	}

	return {
		url: sandbox.url,
		sandbox,
		platform,
		control,
		inboundMessage,
		close: () => sandbox.close(),
	}
}
