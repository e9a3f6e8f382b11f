import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import http from 'node:http'
import { type AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createKapsoGateway } from '#app/lib/kapso/gateway.server'
import { verifyKapsoSignature } from '#app/lib/kapso/signatures'
import { createSandboxServer, type SandboxServer } from './server'
import { loadSandboxSettings } from './settings'

const PHONE = '100000000000777'
const WABA = '200000000000777'
const OLD_PHONE = '100000000000001'
const OLD_WABA = '200000000000001'

const promo = {
	name: 'promo',
	language: 'es',
	category: 'MARKETING' as const,
	components: [
		{ type: 'BODY', text: 'Hola {{1}}, hoy 20% de descuento.', example: { body_text: [['Ana']] } },
	],
}

const fastStatuses = {
	sentDelayMs: 5,
	deliveredDelayMs: 10,
	readDelayMs: 20,
	jitterMs: 0,
	deliveredShare: 1,
	readShare: 1,
}

type Received = {
	event: string
	/** Which of SECRETS the body's signature verifies with; null when none does. */
	signedWith: string | null
	body: {
		phone_number_id?: string
		message?: { id: string; from?: string; text?: { body: string } }
	}
}

const SECRETS = ['file-secret', 'env-secret', 'child-secret']
let receiver: http.Server
let receiverUrl: string
let received: Received[] = []
let dir: string

beforeAll(async () => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-settings-'))
	receiver = http.createServer((req, res) => {
		const chunks: Buffer[] = []
		req.on('data', (chunk: Buffer) => chunks.push(chunk))
		req.on('end', () => {
			const raw = Buffer.concat(chunks)
			const signature = req.headers['x-webhook-signature'] as string
			received.push({
				event: String(req.headers['x-webhook-event']),
				signedWith: SECRETS.find((secret) => verifyKapsoSignature(raw, signature, secret)) ?? null,
				body: JSON.parse(raw.toString('utf8')),
			})
			res.writeHead(200).end('ok')
		})
	})
	await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()))
	receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/kapso`
})

afterAll(async () => {
	await new Promise((resolve) => receiver.close(resolve))
	fs.rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
	received = []
})

/** An environment with only these variables (NODE_ENV is required by the app's env typing). */
function env(vars: Record<string, string>): NodeJS.ProcessEnv {
	return { NODE_ENV: 'test', ...vars }
}

function writeSettings(name: string, content: unknown) {
	const file = path.join(dir, name)
	fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
	return file
}

function gatewayFor(sandbox: SandboxServer, apiKey = 'sandbox') {
	return createKapsoGateway({ baseUrl: sandbox.url, apiKey, timeoutMs: 2000 })
}

function sendPromo(sandbox: SandboxServer, phoneNumberId: string, to: string, apiKey?: string) {
	return gatewayFor(sandbox, apiKey).sendTemplate({
		phoneNumberId,
		to,
		template: {
			name: 'promo',
			language: 'es',
			components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }],
		},
	})
}

async function phoneNumbers(url: string, apiKey = 'sandbox') {
	const response = await fetch(`${url}/platform/v1/whatsapp/phone_numbers`, {
		headers: { 'X-API-Key': apiKey },
	})
	return { status: response.status, body: (await response.json()) as { data?: unknown[] } }
}

const validBody = {
	type: 'BODY',
	text: 'Hola {{1}}, llegó tu pedido.',
	example: { body_text: [['Ana']] },
}

describe('settings from a file (SANDBOX_SETTINGS) and the environment', () => {
	const started: SandboxServer[] = []
	async function start(vars: Record<string, string>) {
		const sandbox = await createSandboxServer(loadSandboxSettings(env(vars)))
		started.push(sandbox)
		return sandbox
	}
	afterEach(async () => {
		await Promise.all(started.splice(0).map((sandbox) => sandbox.close()))
	})

	test('a settings file sets the sender, the review delay, the throughput and the webhooks', async () => {
		const file = writeSettings('file.json', {
			defaultPhoneNumberId: PHONE,
			defaultWabaId: WABA,
			defaultRatePerSecond: 2,
			review: { delayMs: 0 },
			templates: [promo],
			webhookUrl: receiverUrl,
			webhookSecret: 'file-secret',
			statuses: fastStatuses,
		})
		const sandbox = await start({ SANDBOX_SETTINGS: file })

		expect((await phoneNumbers(sandbox.url)).body.data).toEqual([
			expect.objectContaining({ id: PHONE, business_account_id: WABA }),
		])
		// Review delay 0: decided in the create answer (the default keeps it PENDING for a second).
		expect(
			await gatewayFor(sandbox).createTemplate({
				wabaId: WABA,
				name: 'pedido',
				language: 'es',
				category: 'UTILITY',
				components: [validBody],
			}),
		).toMatchObject({ ok: true, status: 'APPROVED' })
		// Two sends per second, then Meta's throughput error.
		const first = await sendPromo(sandbox, PHONE, '+5491122334455')
		expect((await sendPromo(sandbox, PHONE, '+5491122334466')).ok).toBe(true)
		expect(await sendPromo(sandbox, PHONE, '+5491122334477')).toMatchObject({
			ok: false,
			code: 130429,
		})
		if (!first.ok) throw new Error('send failed')
		expect(await sandbox.idle(5000)).toBe(true)
		const events = received.filter((r) => r.body.message?.id === first.wamid)
		expect(events.map((r) => r.event)).toEqual([
			'whatsapp.message.sent',
			'whatsapp.message.delivered',
			'whatsapp.message.read',
		])
		expect(
			events.every((r) => r.signedWith === 'file-secret' && r.body.phone_number_id === PHONE),
		).toBe(true)
	})

	test('environment variables win over the file; the file’s other keys in a group stay', async () => {
		const file = writeSettings('overridden.json', {
			apiKey: 'from-file',
			defaultPhoneNumberId: '100000000000888',
			defaultWabaId: '200000000000888',
			review: { delayMs: 0, mode: 'reject' },
			templates: [promo],
			statuses: fastStatuses,
		})
		const sandbox = await start({
			SANDBOX_SETTINGS: file,
			SANDBOX_API_KEY: 'env-key',
			SANDBOX_PHONE_NUMBER_ID: PHONE,
			SANDBOX_WABA_ID: WABA,
			SANDBOX_REVIEW_DELAY_MS: '150',
			SANDBOX_RATE_PER_SECOND: '1',
			SANDBOX_WEBHOOK_URL: receiverUrl,
			KAPSO_WEBHOOK_SECRET: 'env-secret',
		})

		expect((await phoneNumbers(sandbox.url, 'from-file')).status).toBe(401)
		expect((await phoneNumbers(sandbox.url, 'env-key')).body.data).toEqual([
			expect.objectContaining({ id: PHONE, business_account_id: WABA }),
		])
		const gateway = gatewayFor(sandbox, 'env-key')
		const created = await gateway.createTemplate({
			wabaId: WABA,
			name: 'pedido',
			language: 'es',
			category: 'UTILITY',
			components: [validBody],
		})
		// The env's 150 ms delay replaced the file's 0; the file's `reject` mode still applies.
		expect(created).toMatchObject({ ok: true, status: 'PENDING' })
		if (!created.ok) throw new Error('create failed')
		const sent = await sendPromo(sandbox, PHONE, '+5491122334455', 'env-key')
		expect(await sendPromo(sandbox, PHONE, '+5491122334466', 'env-key')).toMatchObject({
			ok: false,
			code: 130429,
		})
		expect(await sandbox.idle(5000)).toBe(true)
		expect(await gateway.getTemplate({ wabaId: WABA, templateId: created.id })).toMatchObject({
			ok: true,
			template: { status: 'REJECTED', rejectedReason: 'INCORRECT_CATEGORY' },
		})
		if (!sent.ok) throw new Error('send failed')
		const events = received.filter((r) => r.body.message?.id === sent.wamid)
		expect(events).toHaveLength(3)
		expect(
			events.every((r) => r.signedWith === 'env-secret' && r.body.phone_number_id === PHONE),
		).toBe(true)
	})

	test('SANDBOX_WEBHOOK_URL=off sends no webhooks', async () => {
		const sandbox = await start({ SANDBOX_WEBHOOK_URL: 'off' })
		sandbox.updateSettings({ statuses: fastStatuses })
		const sent = await gatewayFor(sandbox).sendTemplate({
			phoneNumberId: OLD_PHONE,
			to: '+5491122334455',
			template: { name: 'hello_world', language: 'en_US' },
		})
		expect(sent.ok).toBe(true)
		expect(await sandbox.idle(5000)).toBe(true)
		expect(sandbox.stats().webhooks).toMatchObject({ url: null, enqueued: 0 })
		expect(received).toEqual([])
	})

	test('an invalid file or value is refused with an error naming each wrong field', () => {
		const file = writeSettings('invalid.json', {
			defaultRatePerSecond: 0,
			replies: { share: 2 },
			statuses: { deliveredShare: 'most' },
		})
		const refusal = (settingsFile: string) => {
			try {
				loadSandboxSettings(env({ SANDBOX_SETTINGS: settingsFile }))
			} catch (caught) {
				return (caught as Error).message
			}
			return 'no error'
		}
		const error = refusal(file)
		expect(error).toMatch(/^Invalid sandbox settings/)
		expect(error).toMatch(/^ {2}defaultRatePerSecond: /m)
		expect(error).toMatch(/^ {2}replies\.share: /m)
		expect(error).toMatch(/^ {2}statuses\.deliveredShare: /m)

		const misspelt = writeSettings('misspelt.json', {
			defaultRatePerSeconds: 50,
			faults: { failureShare: 0.1 },
		})
		const refused = refusal(misspelt)
		expect(refused).toMatch(/^ {2}defaultRatePerSeconds: not a sandbox setting$/m)
		expect(refused).toMatch(/^ {2}faults\.failureShare: not a sandbox setting$/m)

		expect(() => loadSandboxSettings(env({ SANDBOX_REVIEW_DELAY_MS: 'soon' }))).toThrow(
			/review\.delayMs/,
		)
		expect(() => loadSandboxSettings(env({ SANDBOX_RATE_PER_SECOND: '0' }))).toThrow(
			/defaultRatePerSecond/,
		)
		const broken = writeSettings('broken.json', '{ "seed": 1,')
		expect(() => loadSandboxSettings(env({ SANDBOX_SETTINGS: broken }))).toThrow(
			new RegExp(`^SANDBOX_SETTINGS \\(${broken}\\): .*JSON`),
		)
		const missing = path.join(dir, 'missing.json')
		expect(() => loadSandboxSettings(env({ SANDBOX_SETTINGS: missing }))).toThrow(
			new RegExp(`^SANDBOX_SETTINGS \\(${missing}\\): ENOENT`),
		)
		for (const content of ['[{"seed": 1}]', '"defaults"', 'null']) {
			const notObject = writeSettings('not-object.json', content)
			expect(() => loadSandboxSettings(env({ SANDBOX_SETTINGS: notObject }))).toThrow(
				new RegExp(`^SANDBOX_SETTINGS \\(${notObject}\\): .*JSON object`),
			)
		}
	})
})

describe('another default sender', () => {
	let sandbox: SandboxServer

	beforeAll(async () => {
		sandbox = await createSandboxServer({
			defaultPhoneNumberId: PHONE,
			defaultWabaId: WABA,
			templates: [promo],
			webhookUrl: receiverUrl,
			webhookSecret: 'file-secret',
			statuses: fastStatuses,
		})
	})
	afterAll(async () => {
		await sandbox.close()
	})
	beforeEach(async () => {
		await fetch(`${sandbox.url}/_sandbox/reset`, { method: 'POST' })
	})

	test('sends, history, conversations and templates live on the configured ids', async () => {
		const gateway = gatewayFor(sandbox)
		const since = new Date(Date.now() - 1000)
		const sent = await sendPromo(sandbox, PHONE, '+5491122334455')
		if (!sent.ok) throw new Error('send failed')
		expect(sandbox.ledger()).toEqual([
			expect.objectContaining({ wamid: sent.wamid, phoneNumberId: PHONE }),
		])

		expect(await gateway.getMessage({ phoneNumberId: PHONE, wamid: sent.wamid })).toMatchObject({
			ok: true,
			message: { wamid: sent.wamid, templateName: 'promo', phoneNumber: '+5491122334455' },
		})
		expect(
			await gateway.lookupMessages({ phoneNumberId: PHONE, recipient: '+5491122334455', since }),
		).toMatchObject({ ok: true, messages: [{ wamid: sent.wamid }] })
		// The built-in default is just another number now: it holds none of this.
		expect(await gateway.getMessage({ phoneNumberId: OLD_PHONE, wamid: sent.wamid })).toEqual({
			ok: true,
			message: null,
		})

		const templates = await gateway.listTemplates({ wabaId: WABA })
		expect(templates.ok && templates.items.map((t) => t.name)).toEqual(['promo'])
		expect(await gateway.listTemplates({ wabaId: OLD_WABA })).toMatchObject({ ok: true, items: [] })

		const number = await fetch(`${sandbox.url}/meta/whatsapp/v24.0/${PHONE}`, {
			headers: { 'X-API-Key': 'sandbox' },
		})
		expect(await number.json()).toMatchObject({
			id: PHONE,
			business_account_id: WABA,
			display_phone_number: '+1 555 010 0001',
		})

		// A contact who writes without naming a number writes to the default sender; the answer goes out.
		const reply = sandbox.simulateReply({ from: '+5491122334466', text: 'Hola' })
		const answer = await gateway.sendText({
			phoneNumberId: PHONE,
			to: '+5491122334466',
			body: 'Hola!',
		})
		expect(answer.ok).toBe(true)
		const conversations = await gateway.listConversations({ phoneNumberId: PHONE })
		expect(conversations.ok && conversations.items.map((c) => c.phoneNumber).sort()).toEqual([
			'+5491122334455',
			'+5491122334466',
		])
		expect(conversations.ok && conversations.items.map((c) => c.id)).toContain(
			reply.conversation.id,
		)
		expect(await sandbox.idle(5000)).toBe(true)
		const inbound = received.find((r) => r.body.message?.id === reply.wamid)
		expect(inbound).toMatchObject({
			event: 'whatsapp.message.received',
			signedWith: 'file-secret',
			body: { phone_number_id: PHONE },
		})
		if (!answer.ok) throw new Error('send failed')
		expect(received.filter((r) => r.body.message?.id === answer.wamid).map((r) => r.event)).toEqual(
			['whatsapp.message.sent', 'whatsapp.message.delivered', 'whatsapp.message.read'],
		)
	})

	test('a reset with other ids moves the default sender; new numbers join the new WABA', async () => {
		const reset = await fetch(`${sandbox.url}/_sandbox/reset`, {
			method: 'POST',
			body: JSON.stringify({
				settings: { defaultPhoneNumberId: '100000000000999', defaultWabaId: '200000000000999' },
			}),
		})
		expect(reset.status).toBe(200)
		try {
			expect((await phoneNumbers(sandbox.url)).body.data).toEqual([
				expect.objectContaining({ id: '100000000000999', business_account_id: '200000000000999' }),
			])
			expect((await sendPromo(sandbox, '100000000000999', '+5491122334455')).ok).toBe(true)
			// A number the sandbox has not seen joins the default WABA and finds its templates.
			expect((await sendPromo(sandbox, '100000000000123', '+5491122334455')).ok).toBe(true)
			expect(sandbox.stats().phoneNumbers).toEqual({
				'100000000000999': expect.objectContaining({ wabaId: '200000000000999', accepted: 1 }),
				'100000000000123': expect.objectContaining({ wabaId: '200000000000999', accepted: 1 }),
			})
			// The start templates were seeded into the new WABA, none into the old one.
			const gateway = gatewayFor(sandbox)
			expect(await gateway.listTemplates({ wabaId: WABA })).toMatchObject({ ok: true, items: [] })
			const moved = await gateway.listTemplates({ wabaId: '200000000000999' })
			expect(moved.ok && moved.items.map((t) => t.name)).toEqual(['promo'])
		} finally {
			await fetch(`${sandbox.url}/_sandbox/reset`, {
				method: 'POST',
				body: JSON.stringify({ settings: {} }),
			})
		}
	})
})

describe('npm run sandbox', () => {
	async function freePort() {
		const probe = http.createServer()
		await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()))
		const port = (probe.address() as AddressInfo).port
		await new Promise((resolve) => probe.close(resolve))
		return port
	}

	function runSandbox(env: Record<string, string>) {
		const child = spawn(process.execPath, ['--import', 'tsx', 'app/sandbox/main.ts'], {
			cwd: path.resolve(import.meta.dirname, '../..'),
			env: { ...process.env, ...env },
			stdio: ['ignore', 'pipe', 'pipe'],
		})
		let stdout = ''
		let stderr = ''
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
		return { child, output: () => ({ stdout, stderr }) }
	}

	test('starts with the file’s sender and the environment’s webhook settings', async () => {
		const port = await freePort()
		const file = writeSettings('main.json', {
			defaultPhoneNumberId: PHONE,
			defaultWabaId: WABA,
			templates: [promo],
			statuses: fastStatuses,
		})
		const { child, output } = runSandbox({
			SANDBOX_PORT: String(port),
			SANDBOX_SETTINGS: file,
			SANDBOX_WEBHOOK_URL: receiverUrl,
			SANDBOX_WEBHOOK_SECRET: 'child-secret',
		})
		try {
			const url = `http://127.0.0.1:${port}`
			for (let i = 0; i < 300 && !output().stdout.includes('Kapso sandbox on'); i++)
				await new Promise((resolve) => setTimeout(resolve, 50))
			expect(output().stdout).toContain(`phone number id ${PHONE}, WABA ${WABA}`)
			expect((await phoneNumbers(url)).body.data).toEqual([
				expect.objectContaining({ id: PHONE, business_account_id: WABA }),
			])
			const sent = await createKapsoGateway({
				baseUrl: url,
				apiKey: 'sandbox',
				timeoutMs: 2000,
			}).sendTemplate({
				phoneNumberId: PHONE,
				to: '+5491122334455',
				template: {
					name: 'promo',
					language: 'es',
					components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }],
				},
			})
			if (!sent.ok) throw new Error('send failed')
			const events = () => received.filter((r) => r.body.message?.id === sent.wamid)
			for (let i = 0; i < 100 && events().length < 3; i++)
				await new Promise((resolve) => setTimeout(resolve, 50))
			expect(events().map((r) => r.event)).toEqual([
				'whatsapp.message.sent',
				'whatsapp.message.delivered',
				'whatsapp.message.read',
			])
			expect(events().every((r) => r.signedWith === 'child-secret')).toBe(true)
		} finally {
			child.kill('SIGTERM')
			await once(child, 'exit')
		}
	})

	test('refuses to start on an invalid settings file, naming the field', async () => {
		const file = writeSettings('main-invalid.json', { review: { delayMs: -5 } })
		const { child, output } = runSandbox({
			SANDBOX_PORT: String(await freePort()),
			SANDBOX_SETTINGS: file,
		})
		const exited = once(child, 'exit') as Promise<[number | null]>
		const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))
		const result = await Promise.race([exited, timeout])
		if (!result) {
			child.kill('SIGKILL')
			await exited
		}
		expect(result?.[0]).toBe(1)
		expect(output().stderr).toMatch(
			/failed to start: Invalid sandbox settings:\n {2}review\.delayMs: /,
		)
	})
})
