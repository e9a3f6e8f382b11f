/**
 * Fixtures for the sending engine's DB tests, reliability suite and benchmarks: a real sandbox
 * server, real graphile-worker runners, and rows seeded with SQL. Not used by the product.
 */
import { run, type Runner } from 'graphile-worker'
import { createKapsoGateway, setKapsoGateway } from '#app/lib/kapso/gateway.server'
import { createSandboxServer } from '#app/sandbox/server'
import type { SandboxSettingsInput } from '#app/sandbox/settings'
import { createBroadcast } from '#app/lib/broadcasts/broadcasts.server'
import type { VariableMappingInput } from '#app/lib/broadcasts/audience'
import { db, sql } from '#db/client'
import { senders, templates } from '#db/schema/index'
import { taskList } from '#jobs/task-list'

export const SANDBOX_PHONE_ID = '100000000000001'
export const SANDBOX_WABA_ID = '200000000000001'

export const TEST_TEMPLATE = {
	name: 'promo_engine',
	language: 'es',
	category: 'MARKETING' as const,
	parameterFormat: 'POSITIONAL' as const,
	components: [
		{
			type: 'BODY',
			text: 'Hola {{1}}, tu código es {{2}}',
			example: { body_text: [['Ana', 'X1']] },
		},
	],
}

export const TEST_MAPPING: VariableMappingInput = {
	'body:1': { source: 'field', field: 'name', fallback: 'amigo' },
	'body:2': { source: 'attribute', key: 'code' },
}

export async function startTestSandbox(settings: SandboxSettingsInput = {}, timeoutMs = 3000) {
	const sandbox = await createSandboxServer({
		webhookUrl: null,
		templates: [TEST_TEMPLATE],
		...settings,
	})
	setKapsoGateway(createKapsoGateway({ baseUrl: sandbox.url, apiKey: 'sandbox', timeoutMs }))
	return sandbox
}

/** A sender on its own sandbox number (the sandbox creates numbers on first use). */
export async function seedSender(
	ratePerSecond: number,
	phoneNumberId = String(100_000_000_000_000 + Math.floor(Math.random() * 1e9)),
) {
	const [sender] = await db
		.insert(senders)
		.values({
			phoneNumberId,
			wabaId: SANDBOX_WABA_ID,
			displayNumber: '+1 555 010 0001',
			ratePerSecond,
		})
		.returning()
	return sender
}

export async function seedTemplate(metaStatus = 'APPROVED', name = TEST_TEMPLATE.name) {
	const [template] = await db
		.insert(templates)
		.values({
			wabaId: SANDBOX_WABA_ID,
			name,
			language: TEST_TEMPLATE.language,
			category: TEST_TEMPLATE.category,
			parameterFormat: TEST_TEMPLATE.parameterFormat,
			components: TEST_TEMPLATE.components,
			reviewState: 'submitted',
			metaStatus,
		})
		.onConflictDoUpdate({
			target: [templates.wabaId, templates.name, templates.language],
			set: { metaStatus },
		})
		.returning()
	return template
}

let phoneOffset = 0

/**
 * Inserts `count` contacts tagged `tag` with a name and a `code` attribute. Every
 * `optedOutEvery`-th is opted out, every `noCodeEvery`-th lacks the code (no fallback).
 */
export async function seedContacts(
	count: number,
	tag: string,
	options: { optedOutEvery?: number; noCodeEvery?: number; prefix?: string } = {},
) {
	const base = phoneOffset
	phoneOffset += count
	const prefix = options.prefix ?? '+5198'
	await sql`
		insert into contacts (phone_e164, name, attributes, tags, opted_out_at)
		select ${prefix} || lpad((${base}::bigint + i)::text, 7, '0'),
			'Contacto ' || i,
			case when ${options.noCodeEvery ?? 0} > 0 and i % ${options.noCodeEvery ?? 1} = 0 then '{}'::jsonb
				else jsonb_build_object('code', 'C' || i, 'city', case when i % 2 = 0 then 'Lima' else 'Cusco' end) end,
			array[${tag}],
			case when ${options.optedOutEvery ?? 0} > 0 and i % ${options.optedOutEvery ?? 1} = 0 then now() end
		from generate_series(1, ${count}) as i
	`
}

export async function seedBroadcast(input: {
	senderId: string
	templateId: string
	tag: string
	mapping?: VariableMappingInput
	dailyCap?: number
}) {
	return createBroadcast(
		{
			name: `Test ${input.tag}`,
			senderId: input.senderId,
			templateId: input.templateId,
			audience: { tagsAny: [input.tag] },
			variableMapping: input.mapping ?? TEST_MAPPING,
			dailyCap: input.dailyCap ?? null,
		},
		null,
	)
}

/** A real graphile-worker runner with the app's task list (no crontab: tests call sweeps directly). */
export async function startTestWorker(concurrency = 4): Promise<Runner> {
	return run({
		connectionString: process.env.DATABASE_URL!,
		concurrency,
		taskList,
		pollInterval: 100,
		noHandleSignals: true,
		logger: undefined,
	})
}

export async function waitFor<T>(
	probe: () => Promise<T | null | undefined | false>,
	timeoutMs = 20_000,
	everyMs = 50,
) {
	const deadline = Date.now() + timeoutMs
	while (Date.now() < deadline) {
		const value = await probe()
		if (value) return value
		await new Promise((resolve) => setTimeout(resolve, everyMs))
	}
	throw new Error(`Timed out after ${timeoutMs} ms`)
}

export async function recipientCounts(broadcastId: string) {
	const rows = await sql<Array<{ state: string; n: number }>>`
		select state, count(*)::int as n from broadcast_recipients where broadcast_id = ${broadcastId}::uuid group by state`
	return Object.fromEntries(rows.map((row) => [row.state, row.n])) as Record<string, number>
}

export async function broadcastStatus(broadcastId: string) {
	const [row] = await sql<Array<{ status: string; status_reason: string | null }>>`
		select status, status_reason from broadcasts where id = ${broadcastId}::uuid`
	return row
}

/**
 * How late the test suites' sandbox may stamp a send's arrival. It shares two loaded cores with
 * the workers and PostgreSQL, and a stall of its event loop stamps the calls that waited all at
 * once. If departures hold at most `rate` sends in any second and each arrives 0 to J ms after it
 * left, then any window of 1000 − J ms holds at most `rate` arrivals: that is what the suites
 * check. A sender that broke the rate (two workers not sharing the bucket, say) fails it by far.
 * The benchmark reports the strict one-second figure.
 */
export const RECEIVER_JITTER_MS = 100
