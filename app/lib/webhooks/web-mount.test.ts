import fs from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { sql as q } from 'drizzle-orm'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { db } from '#db/client'
import { kapsoHeaders, kapsoStatusPayload, metaStatus } from './test-fixtures'

// The endpoints as the real web server mounts them (production build, secrets from the environment).
process.env.KAPSO_WEBHOOK_SECRET = 'mounted-kapso-secret'
process.env.META_VERIFY_TOKEN = 'mounted-verify-token'

const buildEntry = path.resolve(__dirname, '../../../build/server/index.js')
let server: Server
let base: string

beforeAll(async () => {
	if (!fs.existsSync(buildEntry)) throw new Error('No production build: run `npm run build` first')
	const { createWebServer } = await import('#app/cli/web')
	const webServer = await createWebServer()
	server = webServer.listen(0, '127.0.0.1')
	await new Promise((resolve) => server.once('listening', resolve))
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => {
	server?.closeAllConnections()
	server?.close()
})

test('the web server takes signed webhooks from another site, refuses unsigned ones, and answers Meta’s challenge', async () => {
	const body = JSON.stringify(kapsoStatusPayload('wamid.mounted', [metaStatus('wamid.mounted', 'sent', 1_700_000_000)]))
	const headers = kapsoHeaders(body, 'mounted-kapso-secret', 'whatsapp.message.sent', 'mounted-1', { origin: 'https://kapso.example' })
	const ok = await fetch(`${base}/webhooks/kapso`, { method: 'POST', headers, body })
	expect(ok.status).toBe(200)
	const refused = await fetch(`${base}/webhooks/kapso`, {
		method: 'POST',
		headers: { ...headers, 'x-webhook-signature': '0'.repeat(64), 'x-idempotency-key': 'mounted-2' },
		body,
	})
	expect(refused.status).toBe(401)
	const rows = await db.execute<{ dedupe_key: string }>(q`select dedupe_key from webhook_events order by id`)
	expect(rows.map((r) => r.dedupe_key)).toEqual(['kapso:mounted-1'])
	const challenge = await fetch(`${base}/webhooks/meta?hub.mode=subscribe&hub.challenge=42&hub.verify_token=mounted-verify-token`)
	expect(await challenge.text()).toBe('42')
})
