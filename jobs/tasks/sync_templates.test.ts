import { eq } from 'drizzle-orm'
import { runOnce } from 'graphile-worker'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createKapsoGateway, setKapsoGateway } from '#app/lib/kapso/gateway.server'
import { enqueueJob } from '#app/lib/jobs/enqueue.server'
import { requestFullSync } from '#app/lib/templates/templates.server'
import { createSandboxServer, type SandboxServer } from '#app/sandbox/server'
import { db } from '#db/client'
import { templates, templateSyncRuns } from '#db/schema/index'
import syncTemplates from './sync_templates'

const WABA = '200000000000001'
let sandbox: SandboxServer

beforeAll(async () => {
	sandbox = await createSandboxServer({ webhookUrl: null, review: { delayMs: 0 }, templates: [] })
	setKapsoGateway(createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 5000 }))
})

afterAll(async () => {
	setKapsoGateway(null)
	await sandbox?.close()
})

function work() {
	return runOnce(
		{ connectionString: process.env.DATABASE_URL, concurrency: 1 },
		{ sync_templates: syncTemplates },
	)
}

test('the scheduled run queues a full sync per WABA, and the worker imports what it finds', async () => {
	const created = await createKapsoGateway({
		baseUrl: sandbox.url,
		apiKey: 'sandbox',
		timeoutMs: 5000,
	}).createTemplate({
		wabaId: WABA,
		name: 'from_manager',
		language: 'pt_BR',
		category: 'UTILITY',
		components: [{ type: 'BODY', text: 'Olá, seu pedido chegou.' }],
	})
	expect(created.ok).toBe(true)
	await db.insert(templates).values({
		wabaId: WABA,
		name: 'local_draft',
		language: 'en',
		category: 'UTILITY',
		components: [],
	})

	await enqueueJob(db, 'sync_templates', { mode: 'scheduled' })
	await work()
	const runs = await db.select().from(templateSyncRuns)
	expect(runs.map((r) => [r.wabaId, r.status])).toEqual([[WABA, 'completed']])
	const [imported] = await db.select().from(templates).where(eq(templates.name, 'from_manager'))
	expect(imported).toMatchObject({ origin: 'external', metaStatus: 'APPROVED', language: 'pt_BR' })
	expect(await requestFullSync(db, null, WABA)).not.toEqual([runs[0].id])
})

test('a pending poll applies the decision WhatsApp has made', async () => {
	const gateway = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 5000 })
	sandbox.updateSettings({ review: { delayMs: 60_000 } })
	const created = await gateway.createTemplate({
		wabaId: WABA,
		name: 'awaiting',
		language: 'en',
		category: 'MARKETING',
		components: [{ type: 'BODY', text: 'News for you this week.' }],
	})
	if (!created.ok) throw new Error(created.title)
	await db.insert(templates).values({
		wabaId: WABA,
		name: 'awaiting',
		language: 'en',
		category: 'MARKETING',
		components: [{ type: 'BODY', text: 'News for you this week.' }],
		reviewState: 'submitted',
		metaStatus: 'PENDING',
		remoteId: created.id,
	})
	sandbox.setTemplateStatus({ id: created.id, status: 'APPROVED' })
	await enqueueJob(db, 'sync_templates', { mode: 'pending', round: 0 })
	await work()
	const [row] = await db.select().from(templates).where(eq(templates.name, 'awaiting'))
	expect(row.metaStatus).toBe('APPROVED')
})
