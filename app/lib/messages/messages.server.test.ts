import { readFileSync } from 'node:fs'
import path from 'node:path'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { auditLog, contacts, conversations, messages, senders, users } from '#db/schema/index'
import { createSession } from '#app/lib/auth/sessions.server'
import { createKapsoGateway } from '#app/lib/kapso/gateway.server'
import { applyMessageStatus } from '#app/lib/inbox/store.server'
import { setKapsoPlatform } from '#app/lib/kapso/platform.server'
import { loader as mediaLoader } from '#app/routes/_app.media.$messageId'
import { startSandboxWithExtras } from '#tests/support/sandbox'
import { canDeleteMessage, deleteMessage, MessageDeleteError } from './delete.server'
import { openMessageMedia } from './media.server'

const PHONE = '100000000000001'
let sandbox: Awaited<ReturnType<typeof startSandboxWithExtras>>
let conversationId: string
const marketer = { id: '', role: 'marketer' as const }
const analyst = { id: '', role: 'analyst' as const }

function fixture(name: string) {
	const file = path.resolve(__dirname, '../../../tests/fixtures/messages', `${name}.json`)
	return JSON.parse(readFileSync(file, 'utf8')) as {
		message: Record<string, unknown> & { type: string }
	}
}

beforeAll(async () => {
	sandbox = await startSandboxWithExtras()
	setKapsoPlatform(sandbox.platform)
	const [sender] = await db
		.insert(senders)
		.values({ phoneNumberId: PHONE, wabaId: '200000000000001', displayNumber: '+1 555 010 0001' })
		.returning()
	const [contact] = await db.insert(contacts).values({ phoneE164: '+5491155550101' }).returning()
	const [conversation] = await db
		.insert(conversations)
		.values({ senderId: sender.id, contactId: contact.id })
		.returning()
	conversationId = conversation.id
	const people = await db
		.insert(users)
		.values([
			{ email: 'm@messages.test', name: 'Marta', role: 'marketer', passwordHash: 'x' },
			{ email: 'a@messages.test', name: 'Ana', role: 'analyst', passwordHash: 'x' },
		])
		.returning()
	marketer.id = people[0].id
	analyst.id = people[1].id
})

afterAll(async () => {
	setKapsoPlatform(null)
	await sandbox.close()
})

async function storeMessage(values: {
	type: string
	payload: Record<string, unknown>
	direction?: 'inbound' | 'outbound'
	status?: string
	wamid?: string
	body?: string
}) {
	const [row] = await db
		.insert(messages)
		.values({
			conversationId,
			direction: values.direction ?? 'inbound',
			type: values.type,
			payload: values.payload,
			status: values.status ?? 'received',
			wamid: values.wamid ?? `wamid.test.${Math.random().toString(36).slice(2)}`,
			body: values.body ?? null,
		})
		.returning()
	return row
}

async function bytesOf(stream: ReadableStream<Uint8Array>) {
	return Buffer.from(await new Response(stream).arrayBuffer())
}

describe('media through the app', () => {
	test('a sandbox image is fetched by its media id with the server key and streamed back', async () => {
		const message = await sandbox.inboundMessage({
			type: 'image',
			from: '5491155550101',
			phoneNumberId: PHONE,
		})
		expect(message.type).toBe('image')
		const row = await storeMessage({ type: message.type, payload: message })
		const media = await openMessageMedia(row.id)
		expect(media.ok).toBe(true)
		if (!media.ok) return
		expect(media.contentType).toBe('image/png')
		const bytes = await bytesOf(media.body)
		expect(bytes.subarray(1, 4).toString()).toBe('PNG')
	})

	test('Kapso’s stored copy (kapso.media_data) is used first, with its filename', async () => {
		const sent = await sandbox.inboundMessage({
			type: 'document',
			from: '5491155550101',
			phoneNumberId: PHONE,
		})
		const document = fixture('document').message
		const mediaId = (sent.document as { id: string }).id
		const kapso = document.kapso as Record<string, unknown>
		const payload = {
			...document,
			// Nothing at Graph for this id: only the stored URL can answer.
			document: { ...(document.document as object), id: 'missing-at-graph' },
			kapso: {
				...kapso,
				media_data: {
					...(kapso.media_data as object),
					url: `${sandbox.url}/_sandbox/media/${mediaId}`,
				},
			},
		}
		const row = await storeMessage({ type: 'document', payload })
		const media = await openMessageMedia(row.id)
		expect(media).toMatchObject({
			ok: true,
			contentType: 'application/pdf',
			filename: 'Factura F001-2231.pdf',
		})
		if (media.ok) expect((await bytesOf(media.body)).subarray(0, 5).toString()).toBe('%PDF-')
	})

	test('the route answers with safe headers and never the API key; text messages and unknown ids are 404', async () => {
		const sticker = await sandbox.inboundMessage({
			type: 'sticker',
			from: '5491155550101',
			phoneNumberId: PHONE,
		})
		const row = await storeMessage({ type: 'sticker', payload: sticker })
		const session = await createSession(analyst.id, { ip: '127.0.0.1' })
		const request = (id: string) =>
			new Request(`http://localhost/media/${id}`, {
				headers: { cookie: `pregon_session=${session.token}` },
			})
		const response = (await mediaLoader({
			request: request(row.id),
			params: { messageId: row.id },
			context: {},
		})) as Response
		expect(response.status).toBe(200)
		expect(response.headers.get('content-type')).toBe('image/webp')
		expect(response.headers.get('x-content-type-options')).toBe('nosniff')
		expect(response.headers.get('content-security-policy')).toContain('sandbox')
		const all = [...response.headers.entries()].map(([k, v]) => `${k}:${v}`).join('\n')
		expect(all).not.toContain('sandbox:')
		expect(all.toLowerCase()).not.toContain('x-api-key')
		expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0)

		const text = await storeMessage({ type: 'text', payload: fixture('text').message })
		for (const id of [text.id, '00000000-0000-4000-8000-000000000000', 'nope']) {
			const thrown = await mediaLoader({
				request: request(id),
				params: { messageId: id },
				context: {},
			}).catch((error: unknown) => error)
			expect((thrown as Response).status).toBe(404)
		}
	})
})

describe('deleting a sent message', () => {
	async function sentMessage() {
		const gateway = createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs: 5000 })
		const sent = await gateway.sendTemplate({
			phoneNumberId: PHONE,
			to: '+5491155550101',
			template: { name: 'hello_world', language: 'en_US' },
		})
		if (!sent.ok) throw new Error(sent.title)
		return storeMessage({
			type: 'template',
			direction: 'outbound',
			status: 'delivered',
			wamid: sent.wamid,
			body: 'Hello World',
			payload: { template: { name: 'hello_world' } },
		})
	}

	test('a sent message is deleted in Kapso, marked deleted, its text removed, and audited', async () => {
		const row = await sentMessage()
		expect(canDeleteMessage(marketer, row)).toBe(true)
		expect(await deleteMessage(marketer, row.id)).toEqual({ deleted: true })
		const [after] = await db.select().from(messages).where(eq(messages.id, row.id))
		expect(after.status).toBe('deleted')
		expect(after.body).toBeNull()
		expect(after.payload).toMatchObject({
			template: { name: 'hello_world' },
			deleted: { by: marketer.id },
		})
		const audits = await db
			.select()
			.from(auditLog)
			.where(and(eq(auditLog.action, 'message.delete'), eq(auditLog.objectId, row.id)))
		expect(audits).toHaveLength(1)
		// Asking again is harmless.
		expect(await deleteMessage(marketer, row.id)).toEqual({ deleted: true })
		// A late status webhook does not bring it back.
		await applyMessageStatus(db, { wamid: row.wamid as string, status: 'read' })
		const [later] = await db.select().from(messages).where(eq(messages.id, row.id))
		expect(later.status).toBe('deleted')
	})

	test('Kapso refusing is reported as a reason and nothing changes', async () => {
		const row = await storeMessage({
			type: 'text',
			direction: 'outbound',
			status: 'sent',
			wamid: 'wamid.never-sent-by-the-sandbox',
			body: 'Oops',
			payload: { text: { body: 'Oops' } },
		})
		const outcome = await deleteMessage(marketer, row.id)
		expect(outcome.deleted).toBe(false)
		if (!outcome.deleted) expect(outcome.reason).toMatch(/did not allow/)
		const [after] = await db.select().from(messages).where(eq(messages.id, row.id))
		expect(after).toMatchObject({ status: 'sent', body: 'Oops' })
	})

	test('analysts, inbound messages and failed sends cannot be deleted', async () => {
		const row = await sentMessage()
		await expect(deleteMessage(analyst, row.id)).rejects.toMatchObject({ status: 403 })
		expect(canDeleteMessage(analyst, row)).toBe(false)
		const inbound = await storeMessage({ type: 'text', payload: fixture('text').message })
		await expect(deleteMessage(marketer, inbound.id)).rejects.toBeInstanceOf(MessageDeleteError)
		const failed = await storeMessage({
			type: 'text',
			direction: 'outbound',
			status: 'failed',
			payload: {},
		})
		await expect(deleteMessage(marketer, failed.id)).rejects.toMatchObject({ status: 400 })
		await expect(
			deleteMessage(marketer, '00000000-0000-4000-8000-000000000000'),
		).rejects.toMatchObject({
			status: 404,
		})
	})
})
