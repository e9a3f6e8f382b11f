import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql as q } from 'drizzle-orm'
import { Logger, run, type Runner } from 'graphile-worker'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createKapsoGateway, type KapsoGateway } from '#app/lib/kapso/gateway.server'
import { claimRows, writeResults } from '#app/lib/sending/ledger.server'
import { callbackData, outcomeOf } from '#app/lib/sending/outcome'
import { createSandboxServer, type SandboxServer } from '#app/sandbox/server'
import { db, sql } from '#db/client'
import processWebhookEventsTask from '#jobs/tasks/process_webhook_events'
import { createEventWriter, createWebhookIngest, serveWebhook } from './ingest.server'
import { applyPendingEventsForWamids } from './process.server'
import { reconcileStatuses } from './reconcile.server'
import { PHONE_NUMBER_ID, seedBroadcast, seedSender } from './test-fixtures'

/**
 * The whole path against the real sandbox: signed Kapso webhooks posted to the real endpoint
 * (node:http, as mounted in the web server), processed by a real graphile-worker.
 */

const SECRET = 'sandbox-shared-secret'
let endpoint: http.Server
let endpointUrl: string
let sandbox: SandboxServer
let gateway: KapsoGateway
let worker: Runner

const promo = {
	name: 'promo',
	language: 'es',
	category: 'MARKETING' as const,
	components: [
		{ type: 'BODY', text: 'Hola {{1}}, hoy 20% de descuento.', example: { body_text: [['Ana']] } },
		{ type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Me interesa' }, { type: 'QUICK_REPLY', text: 'Parar promociones' }] },
	],
}

beforeAll(async () => {
	const ingest = createWebhookIngest(createEventWriter(sql), { kapsoSecret: SECRET })
	endpoint = http.createServer((req, res) => void serveWebhook(req, res, ingest.kapso))
	await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
	endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/webhooks/kapso`
	sandbox = await createSandboxServer({
		seed: 7,
		webhookUrl: endpointUrl,
		webhookSecret: SECRET,
		webhookRetryDelaysMs: [200, 400, 800],
		templates: [{ ...promo, status: 'APPROVED' }],
	})
	gateway = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 5000 })
	worker = await run({
		connectionString: process.env.DATABASE_URL,
		concurrency: 2,
		pollInterval: 200,
		noHandleSignals: true,
		taskList: { process_webhook_events: processWebhookEventsTask },
		parsedCronItems: [],
		logger: new Logger(() => () => {}),
	})
})

afterAll(async () => {
	await worker?.stop()
	await sandbox?.close()
	endpoint?.closeAllConnections()
	await new Promise((resolve) => endpoint?.close(resolve))
})

/** Sends every queued row of the broadcast the way the dispatcher does: claim, send, write back. */
async function dispatch(broadcastId: string, options: { recordLate?: (id: number) => boolean } = {}) {
	const late: Array<Parameters<typeof writeResults>[0][number]> = []
	for (;;) {
		const rows = await claimRows(broadcastId, 50, null)
		if (rows.length === 0) break
		const results = await Promise.all(
			rows.map(async (row) => {
				const result = await gateway.sendTemplate({
					phoneNumberId: PHONE_NUMBER_ID,
					to: row.phoneE164,
					bizOpaqueCallbackData: callbackData(row.id, row.attemptId),
					template: {
						name: 'promo',
						language: 'es',
						components: [
							{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] },
							{ type: 'button', sub_type: 'quick_reply', index: '1', parameters: [{ type: 'payload', payload: 'OPT_OUT' }] },
						],
					},
				})
				return { row, outcome: outcomeOf(result, row.attempts), at: new Date() }
			}),
		)
		const now = results.filter((r) => !options.recordLate?.(r.row.id))
		late.push(...results.filter((r) => options.recordLate?.(r.row.id)))
		await writeResults(now)
		const wamids = now.flatMap((r) => (r.outcome.state === 'sent' ? [r.outcome.wamid] : []))
		await db.transaction((tx) => applyPendingEventsForWamids(tx, wamids))
	}
	return late
}

async function drained(timeoutMs = 30_000) {
	const deadline = Date.now() + timeoutMs
	while (Date.now() < deadline) {
		const [row] = await db.execute<{ unprocessed: number; jobs: number }>(q`
			select (select count(*)::int from webhook_events where processed_at is null) as unprocessed,
				(select count(*)::int from graphile_worker.jobs where task_identifier = 'process_webhook_events') as jobs
		`)
		if (row.unprocessed === 0 && row.jobs === 0) return true
		await new Promise((resolve) => setTimeout(resolve, 100))
	}
	return false
}

async function compareWithLedger(broadcastId: string) {
	const ours = await db.execute<{ id: string; state: string; error_code: number | null; wamid: string | null }>(
		q`select id, state, error_code, wamid from broadcast_recipients where broadcast_id = ${broadcastId}::uuid`,
	)
	const truth = new Map(
		sandbox
			.ledger()
			.filter((entry) => entry.callbackData)
			.map((entry) => [Number(entry.callbackData!.split(':')[1]), entry]),
	)
	const mismatches = ours.flatMap((row) => {
		const entry = truth.get(Number(row.id))
		const expected = entry ? entry.status : 'not sent'
		const same = entry && row.state === expected && row.wamid === entry.wamid && (expected !== 'failed' || row.error_code === entry.errorCode)
		return same ? [] : [{ id: row.id, ours: row.state, code: row.error_code, truth: expected, truthCode: entry?.errorCode }]
	})
	return { total: ours.length, mismatches }
}

describe('webhooks from the sandbox', () => {
	test(
		'chaos: duplicated, shuffled, delayed, dropped and forged webhooks end in the ledger truth',
		async () => {
			sandbox.reset()
			sandbox.updateSettings({
				webhookUrl: endpointUrl,
				statuses: { sentDelayMs: 20, deliveredDelayMs: 60, readDelayMs: 120, jitterMs: 40, deliveredShare: 0.9, readShare: 0.6 },
				failures: { '131049': 0.04, '131026': 0.02 },
				chaos: { duplicateShare: 0.3, shuffle: true, delayShare: 0.1, delayMs: 700, dropShare: 0.05, badSignatureShare: 0.05 },
			})
			const { broadcastId } = await seedBroadcast({ count: 400, state: 'queued', name: 'Chaos' })
			// One in ten sends is recorded only after its webhooks were processed (a slow dispatcher).
			const late = await dispatch(broadcastId, { recordLate: (id) => id % 10 === 0 })
			expect(await sandbox.idle(30_000)).toBe(true)
			expect(await drained()).toBe(true)
			await writeResults(late)
			await db.transaction((tx) =>
				applyPendingEventsForWamids(tx, late.flatMap((r) => (r.outcome.state === 'sent' ? [r.outcome.wamid] : []))),
			)

			// Dropped webhooks are what the reconcile job is for.
			await db.execute(q`update broadcast_recipients set sent_at = sent_at - interval '10 minutes' where broadcast_id = ${broadcastId}::uuid`)
			const summary = await reconcileStatuses({ gateway, olderThanMinutes: 5, includeDelivered: true })
			expect(summary.failedLookups).toBe(0)

			const { total, mismatches } = await compareWithLedger(broadcastId)
			expect(total).toBe(400)
			expect(mismatches).toEqual([])
			const stats = sandbox.stats()
			const webhooks = stats.webhooks as { forged: number; dropped: number; duplicated: number; byStatus: Record<string, number> }
			expect(webhooks.forged).toBeGreaterThan(0)
			expect(webhooks.dropped).toBeGreaterThan(0)
			expect(webhooks.duplicated).toBeGreaterThan(0)
			// Every forged copy was refused, and nothing else was; no 5xx.
			expect(webhooks.byStatus['401'] ?? 0).toBe(webhooks.forged)
			expect(Object.keys(webhooks.byStatus).filter((status) => status !== '200' && status !== '401')).toEqual([])
		},
		120_000,
	)

	test(
		'reconcile: statuses whose webhooks were lost in an outage are restored by lookup',
		async () => {
			sandbox.reset()
			// The endpoint is down: nothing reaches the app.
			sandbox.updateSettings({
				webhookUrl: null,
				statuses: { sentDelayMs: 10, deliveredDelayMs: 20, readDelayMs: 30, jitterMs: 0, deliveredShare: 0.8, readShare: 0.5 },
				failures: { '131026': 0.1 },
				chaos: { duplicateShare: 0, shuffle: false, delayShare: 0, dropShare: 0, badSignatureShare: 0 },
			})
			const { broadcastId } = await seedBroadcast({ count: 60, state: 'queued', name: 'Outage' })
			await dispatch(broadcastId)
			expect(await sandbox.idle(10_000)).toBe(true)
			const before = await compareWithLedger(broadcastId)
			expect(before.mismatches.length).toBeGreaterThan(0)

			// Too recent to reconcile: webhooks may still come.
			expect((await reconcileStatuses({ gateway, olderThanMinutes: 5 })).checked).toBe(0)
			await db.execute(q`update broadcast_recipients set sent_at = sent_at - interval '6 minutes' where broadcast_id = ${broadcastId}::uuid`)
			const summary = await reconcileStatuses({ gateway, olderThanMinutes: 5 })
			expect(summary.checked).toBe(60)
			expect((await compareWithLedger(broadcastId)).mismatches).toEqual([])
			// Looked up once per interval, not at every run.
			expect((await reconcileStatuses({ gateway, olderThanMinutes: 5 })).checked).toBe(0)
		},
		60_000,
	)

	test('a conversation ended through Kapso is ended in the inbox by its webhook', async () => {
		sandbox.reset()
		sandbox.updateSettings({
			webhookUrl: endpointUrl,
			chaos: { duplicateShare: 0, shuffle: false, delayShare: 0, dropShare: 0, badSignatureShare: 0 },
		})
		await seedSender()
		const { conversation } = sandbox.simulateReply({ from: '5491155550001', text: 'hola' })
		const status = async () => {
			const rows = await db.execute<{ status: string }>(
				q`select status from conversations where kapso_conversation_id = ${conversation.id}`,
			)
			return rows[0]?.status
		}
		expect(await sandbox.idle(10_000)).toBe(true)
		expect(await drained()).toBe(true)
		expect(await status()).toBe('active')

		const ended = await gateway.updateConversationStatus({ conversationId: conversation.id, status: 'ended' })
		expect(ended.ok).toBe(true)
		expect(await sandbox.idle(10_000)).toBe(true)
		expect(await drained()).toBe(true)
		expect(await status()).toBe('ended')
	}, 30_000)
})
