import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sql } from '#db/client'
import { defaultColumns } from '#app/lib/imports/mapping'
import { FirstLineIndex } from '#app/lib/imports/first-line-index'
import { createImport, getImport } from '#app/lib/imports/imports.server'
import { encodePhoneResult, normalisePhone } from '#app/lib/imports/phone'
import { previewFile } from '#app/lib/imports/preview.server'
import { formatBatch, planRows } from '#app/lib/imports/row-format'
import { runImport } from '#app/lib/imports/run-import.server'
import {
	EmptyFileError,
	openImportBytes,
	readSample,
	resolveTextSettings,
	streamRows,
} from '#app/lib/imports/source.server'
import { EncodingError } from '#app/lib/imports/text-stream.server'
import { ZipError } from '#app/lib/imports/zip.server'
import { factsOf } from '#app/lib/webhooks/events'
import {
	createEventWriter,
	createWebhookIngest,
	kapsoEvents,
	metaEvents,
	type StoredEvent,
} from '#app/lib/webhooks/ingest.server'
import { processWebhookEvents } from '#app/lib/webhooks/process.server'
import { signKapsoBody, signMetaBody } from '#app/lib/kapso/signatures'
import {
	kapsoInboundPayload,
	kapsoStatusPayload,
	metaBody,
	metaMessagesValue,
	metaStatus,
} from '#app/lib/webhooks/test-fixtures'
import { startSecurityServer } from './server'

/**
 * Issue #9: 10,000 random and mutated CSV files and 10,000 webhook bodies fed to the parsers.
 * Each must end in a valid result or one of the parsers' own clear errors, never in a crash. The
 * bulk runs in-process through the functions the import job and the webhook endpoints use; a few
 * hundred go the whole way (the import job against PostgreSQL, signed POSTs to the real server).
 * The PRNG is seeded: FUZZ_SEED=<n> replays a run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2026)
const CSV_CASES = 10_000
const WEBHOOK_CASES = 10_000
const KAPSO_SECRET = 'fuzz-kapso-secret'
const META_SECRET = 'fuzz-meta-secret'
const fixturesDir = path.resolve(__dirname, '../fixtures')
let tmp: string
let server: Awaited<ReturnType<typeof startSecurityServer>>

beforeAll(async () => {
	console.log(`fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED})`)
	server = await startSecurityServer({
		KAPSO_WEBHOOK_SECRET: KAPSO_SECRET,
		META_APP_SECRET: META_SECRET,
	})
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pregon-fuzz-'))
})

afterAll(() => {
	server?.close()
	if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
	let state = seed >>> 0
	const next = () => {
		state = (state + 0x6d2b79f5) >>> 0
		let t = state
		t = Math.imul(t ^ (t >>> 15), t | 1)
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296
	}
	const int = (n: number) => Math.floor(next() * n)
	return { next, int, pick: <T>(items: ReadonlyArray<T>): T => items[int(items.length)] }
}
type Rng = ReturnType<typeof prng>

// ---------------------------------------------------------------------------------------------
// CSV

const CSV_NOISE = [
	',',
	';',
	'\t',
	'"',
	'""',
	'\n',
	'\r',
	'\r\n',
	'\0',
	'\ufeff',
	'é',
	'€',
	'\ud83d\ude00',
	' ',
	'+',
	'=',
]
const HEADERS = [
	'phone',
	'telefono',
	'celular',
	'name',
	'nombre',
	'email',
	'city',
	'opt_out',
	'baja',
	'',
	'phone',
	'x',
]
const PHONES = [
	'987654321',
	'+51 987 654 321',
	'+5511987654321',
	'(01) 612-3456',
	'12',
	'',
	'abc',
	'+999999999999999',
	'9'.repeat(40),
]

function csvFixtures() {
	const dir = path.join(fixturesDir, 'csv')
	return fs
		.readdirSync(dir)
		.filter((file) => !file.endsWith('.zip'))
		.map((file) => fs.readFileSync(path.join(dir, file)))
}

function randomBytes(rng: Rng, length: number) {
	const bytes = Buffer.alloc(length)
	for (let i = 0; i < length; i++) bytes[i] = rng.int(256)
	return bytes
}

function generatedCsv(rng: Rng) {
	const delimiter = rng.pick([',', ';', '\t', '|'])
	const columns = 1 + rng.int(6)
	const lines = [Array.from({ length: columns }, () => rng.pick(HEADERS)).join(delimiter)]
	for (let row = rng.int(60); row > 0; row--) {
		const cells = Array.from({ length: columns + rng.int(3) - 1 }, () => {
			const value = rng.next() < 0.5 ? rng.pick(PHONES) : rng.pick(CSV_NOISE).repeat(1 + rng.int(3))
			return rng.next() < 0.2
				? `"${value}`
				: rng.next() < 0.2
					? `"${value.replaceAll('"', '""')}"`
					: value
		})
		lines.push(cells.join(delimiter))
	}
	const text = lines.join(rng.pick(['\n', '\r\n', '\r']))
	const encoding = rng.int(4)
	if (encoding === 0) return Buffer.from(text, 'utf8')
	if (encoding === 1)
		return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
	if (encoding === 2) return Buffer.from(text, 'latin1')
	const le = Buffer.from(text, 'utf16le')
	return Buffer.concat([Buffer.from([0xfe, 0xff]), le.swap16()])
}

/**
 * Files are kept small (the edges are in the bytes, not in the size, and 10,000 must be quick),
 * except those given a cell longer than the import accepts.
 */
const MAX_CASE_BYTES = 4 * 1024
const MAX_LONG_CASE_BYTES = 24 * 1024

function mutate(rng: Rng, input: Buffer): Buffer {
	let bytes = Buffer.from(input)
	let long = false
	for (let steps = 1 + rng.int(4); steps > 0; steps--) {
		const at = rng.int(bytes.length + 1)
		switch (rng.int(8)) {
			case 0: // byte flips
				for (let n = 1 + rng.int(8); n > 0 && bytes.length > 0; n--)
					bytes[rng.int(bytes.length)] = rng.int(256)
				break
			case 1: // truncation
				bytes = bytes.subarray(0, at)
				break
			case 2: // a delimiter, quote, line break, NUL or multi-byte character inserted
				bytes = Buffer.concat([
					bytes.subarray(0, at),
					Buffer.from(rng.pick(CSV_NOISE)),
					bytes.subarray(at),
				])
				break
			case 3: // NULs
				bytes = Buffer.concat([
					bytes.subarray(0, at),
					Buffer.alloc(1 + rng.int(4)),
					bytes.subarray(at),
				])
				break
			case 4: // a slice repeated
				bytes = Buffer.concat([
					bytes,
					...Array.from({ length: 1 + rng.int(5) }, () => bytes.subarray(at)),
				])
				break
			case 5: // random bytes inserted
				bytes = Buffer.concat([
					bytes.subarray(0, at),
					randomBytes(rng, 1 + rng.int(32)),
					bytes.subarray(at),
				])
				break
			case 6: // a BOM that does not match the content
				bytes = Buffer.concat([
					Buffer.from(
						rng.pick([
							[0xef, 0xbb, 0xbf],
							[0xff, 0xfe],
							[0xfe, 0xff],
						]),
					),
					bytes,
				])
				break
			default: // a very long cell
				long = true
				bytes = Buffer.concat([
					bytes.subarray(0, at),
					Buffer.alloc(5000 + rng.int(10_000), rng.pick([0x41, 0x22, 0x2c])),
					bytes.subarray(at),
				])
		}
		const max = Math.max(input.length, long ? MAX_LONG_CASE_BYTES : MAX_CASE_BYTES)
		if (bytes.length > max) bytes = bytes.subarray(0, max)
	}
	return bytes
}

function csvCase(rng: Rng, fixtures: Buffer[]) {
	const kind = rng.int(10)
	if (kind === 0) return randomBytes(rng, rng.int(2000))
	if (kind < 3) return generatedCsv(rng)
	if (kind < 4) return mutate(rng, generatedCsv(rng))
	// The large fixtures (a bad byte past the detection sample) are slow to parse: 1 case in 200.
	const small = fixtures.filter((fixture) => fixture.length <= MAX_LONG_CASE_BYTES)
	return mutate(rng, rng.next() < 0.01 ? rng.pick(fixtures) : rng.pick(small))
}

/** The clear errors the import reports to the user as they are. */
function isClearImportError(error: unknown) {
	return (
		error instanceof EmptyFileError || error instanceof EncodingError || error instanceof ZipError
	)
}

// The same few phone values recur across mutated files; each distinct one is validated once.
const phoneResults = new Map<string, string>()
function phoneResult(raw: string) {
	let result = phoneResults.get(raw)
	if (result === undefined) {
		result = encodePhoneResult(normalisePhone(raw, 'PE'))
		phoneResults.set(raw, result)
	}
	return result
}

/**
 * Detection, streaming, column plan, phone validation and COPY formatting: what the import job
 * does with a file before PostgreSQL sees it. Returns rows seen, or throws.
 */
async function parseCsv(bytes: Buffer | Readable, sample: Buffer) {
	const settings = resolveTextSettings(sample, {})
	let plan: ReturnType<typeof planRows> | undefined
	const seen = new FirstLineIndex()
	let rows = 0
	await streamRows(bytes instanceof Readable ? bytes : Readable.from([bytes]), settings, {
		header: (headers) => {
			const columns = defaultColumns(headers)
			// No phone column is a clear error of the mapping step; the first column stands in, so
			// the rows are still validated.
			if (!columns.some((column) => column.target === 'phone'))
				columns[0] = { ...columns[0], target: 'phone' }
			plan = planRows(columns, headers.length)
		},
		batch: (batch) => {
			const results = batch.map((row) => phoneResult(row.fields[plan!.phoneIndex] ?? ''))
			const formatted = formatBatch(batch, results, plan!, seen)
			const lines = formatted.text.split('\n').slice(0, -1)
			if (
				lines.length !== batch.length ||
				formatted.accepted + formatted.rejected !== batch.length
			) {
				throw new Error(`COPY text has ${lines.length} lines for ${batch.length} rows`)
			}
			for (const line of lines) {
				if (line.split('\t').length !== 9)
					throw new Error(`COPY line with ${line.split('\t').length} fields: ${line.slice(0, 80)}`)
			}
			rows += batch.length
		},
	})
	return rows
}

describe('fuzz: CSV files', () => {
	test(`${CSV_CASES.toLocaleString('en')} random and mutated CSV files through the import parsing path`, async () => {
		const rng = prng(SEED)
		const fixtures = csvFixtures()
		const crashes: string[] = []
		const outcomes = { parsed: 0, clearError: 0, rows: 0 }
		let next = 0
		// Sixteen files in flight: the stream stages wait on the event loop more than on the CPU.
		// Cases are drawn in order, so a seed always yields the same files.
		const lane = async () => {
			while (next < CSV_CASES) {
				const i = next++
				await fuzzOne(i, csvCase(rng, fixtures))
			}
		}
		const fuzzOne = async (i: number, bytes: Buffer) => {
			try {
				const rows = await parseCsv(bytes, bytes.subarray(0, 64 * 1024))
				outcomes.rows += rows
				outcomes.parsed++
			} catch (error) {
				if (isClearImportError(error)) outcomes.clearError++
				else crashes.push(`case ${i}: ${String(error).slice(0, 200)}`)
			}
			// Every 50th file also goes through the mapping step's preview, from disk.
			if (i % 50 === 0) {
				const file = path.join(tmp, `case-${i}.csv`)
				fs.writeFileSync(file, bytes)
				try {
					await previewFile(file)
				} catch (error) {
					if (!isClearImportError(error))
						crashes.push(`preview of case ${i}: ${String(error).slice(0, 200)}`)
				}
				fs.rmSync(file)
			}
		}
		await Promise.all(Array.from({ length: 16 }, lane))
		console.log(`CSV fuzz: ${JSON.stringify(outcomes)}, ${crashes.length} crashes`)
		expect(crashes).toEqual([])
		// Both outcomes occur, or the generator is not reaching the parser's edges.
		expect(outcomes.parsed).toBeGreaterThan(CSV_CASES / 4)
		expect(outcomes.clearError).toBeGreaterThan(0)
	}, 120_000)

	test('mutated .zip files through the import byte source', async () => {
		const rng = prng(SEED + 1)
		const zips = ['one-csv.zip', 'two-csv.zip'].map((name) =>
			fs.readFileSync(path.join(fixturesDir, 'csv', name)),
		)
		const crashes: string[] = []
		let clearErrors = 0
		for (let i = 0; i < 200; i++) {
			const file = path.join(tmp, `zip-${i}.zip`)
			fs.writeFileSync(file, mutate(rng, rng.pick(zips)))
			try {
				const sample = await readSample(file)
				const { stream } = await openImportBytes(file)
				await parseCsv(stream, sample)
			} catch (error) {
				if (isClearImportError(error)) clearErrors++
				else crashes.push(`zip case ${i}: ${String(error).slice(0, 200)}`)
			}
			fs.rmSync(file)
		}
		expect(crashes).toEqual([])
		expect(clearErrors).toBeGreaterThan(0)
	}, 60_000)

	test('60 of them through the real import job, against PostgreSQL', async () => {
		const rng = prng(SEED + 2)
		const fixtures = csvFixtures()
		const unclear: string[] = []
		const statuses: Record<string, number> = {}
		for (let i = 0; i < 60; i++) {
			const file = path.join(tmp, `import-${i}.csv`)
			fs.writeFileSync(file, csvCase(rng, fixtures))
			const row = await createImport({
				fileName: `fuzz-${i}.csv`,
				existingPath: file,
				options: { defaultCountry: 'PE' },
				enqueue: false,
			})
			await runImport(row.id)
			const done = await getImport(row.id)
			statuses[done!.status] = (statuses[done!.status] ?? 0) + 1
			// A failure the import knows how to explain is fine; "The import failed: <raw error>" is not.
			if (
				done!.status !== 'completed' &&
				(done!.status !== 'failed' || done!.error?.startsWith('The import failed'))
			) {
				unclear.push(`import case ${i}: ${done!.status} ${done!.error}`)
			}
		}
		console.log(`import job fuzz: ${JSON.stringify(statuses)}`)
		expect(unclear).toEqual([])
		expect(statuses.completed).toBeGreaterThan(0)
	}, 120_000)
})

// ---------------------------------------------------------------------------------------------
// Webhooks

const STRANGE_VALUES: ReadonlyArray<unknown> = [
	null,
	true,
	0,
	-1,
	1e308,
	'',
	'x'.repeat(10_000),
	'\u0000',
	'\ud800',
	'\udfff lone',
	'😀',
	'<script>alert(1)</script>',
	'2024-13-45T99:99:99Z',
	'9'.repeat(30),
	[],
	{},
	[[[[[[]]]]]],
	{ id: {} },
	{ __proto__: { polluted: true } },
	'constructor',
]

function webhookSeeds() {
	const now = Math.floor(Date.now() / 1000)
	const messages = fs
		.readdirSync(path.join(fixturesDir, 'messages'))
		.map(
			(file) =>
				JSON.parse(fs.readFileSync(path.join(fixturesDir, 'messages', file), 'utf8')) as unknown,
		)
	const kapso = [
		{
			event: 'whatsapp.message.received',
			body: kapsoInboundPayload({
				wamid: 'wamid.F1',
				from: '51987654321',
				timestamp: now,
				text: 'hola',
			}),
		},
		{
			event: 'whatsapp.message.delivered',
			body: kapsoStatusPayload('wamid.F2', [metaStatus('wamid.F2', 'delivered', now)]),
		},
		...messages.map((message) => ({ event: 'whatsapp.message.received', body: message })),
		{
			event: 'whatsapp.conversation.ended',
			body: { conversation: { id: 'c1', phone_number: '+51987654321' } },
		},
	]
	const meta = [
		JSON.parse(
			metaBody('messages', metaMessagesValue({ statuses: [metaStatus('wamid.F3', 'read', now)] })),
		) as unknown,
		JSON.parse(
			metaBody(
				'messages',
				metaMessagesValue({
					messages: [
						{
							id: 'wamid.F4',
							from: '51987654321',
							timestamp: String(now),
							type: 'text',
							text: { body: 'hola' },
						},
					],
					contacts: [{ wa_id: '51987654321', profile: { name: 'Rosa' } }],
				}),
			),
		) as unknown,
		JSON.parse(
			metaBody('message_template_status_update', {
				event: 'APPROVED',
				message_template_id: 1,
				message_template_name: 'x',
			}),
		) as unknown,
	]
	return { kapso, meta }
}

/** Replaces, removes or adds one value somewhere in a JSON tree. */
function mutateJson(rng: Rng, value: unknown, depth = 0): unknown {
	if (depth > 6 || value === null || typeof value !== 'object') {
		return rng.next() < 0.5 ? rng.pick(STRANGE_VALUES) : value
	}
	if (Array.isArray(value)) {
		const copy = [...value]
		const roll = rng.int(4)
		if (roll === 0 || copy.length === 0) copy.push(rng.pick(STRANGE_VALUES))
		else if (roll === 1) copy.splice(rng.int(copy.length), 1)
		else if (roll === 2) copy.push(...Array.from({ length: rng.int(50) }, () => copy[0]))
		else {
			const at = rng.int(copy.length)
			copy[at] = mutateJson(rng, copy[at], depth + 1)
		}
		return copy
	}
	const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) }
	const keys = Object.keys(copy)
	const roll = rng.int(4)
	if (roll === 0 || keys.length === 0)
		copy[
			rng.pick(['id', 'type', 'status', 'message', 'entry', 'changes', 'statuses', 'text', 'x'])
		] = rng.pick(STRANGE_VALUES)
	else if (roll === 1) delete copy[rng.pick(keys)]
	else {
		const key = rng.pick(keys)
		copy[key] = mutateJson(rng, copy[key], depth + 1)
	}
	return copy
}

function webhookCase(rng: Rng, seeds: ReturnType<typeof webhookSeeds>) {
	const toKapso = rng.next() < 0.5
	let event = toKapso ? rng.pick(seeds.kapso).event : ''
	let value: unknown = toKapso ? rng.pick(seeds.kapso).body : rng.pick(seeds.meta)
	for (let n = 1 + rng.int(4); n > 0; n--) value = mutateJson(rng, value)
	const batched = toKapso && rng.next() < 0.2
	if (batched)
		value = {
			type: event,
			batch: true,
			data: rng.next() < 0.8 ? [value, mutateJson(rng, value)] : value,
		}
	if (toKapso && rng.next() < 0.1)
		event = rng.pick(['', 'whatsapp.message.failed', 'whatsapp.unknown', 'x'.repeat(300)])
	let body: Buffer = Buffer.from(JSON.stringify(value) ?? 'null')
	const roll = rng.int(10)
	if (roll === 0) body = mutate(rng, body)
	else if (roll === 1) body = randomBytes(rng, rng.int(500))
	const headers: Record<string, string> = { 'x-webhook-event': event }
	if (batched) headers['x-webhook-batch'] = 'true'
	if (rng.next() < 0.5) headers['x-idempotency-key'] = `fuzz-${rng.int(1e9)}`
	return { toKapso, body, headers }
}

describe('fuzz: webhook bodies', () => {
	test(`${WEBHOOK_CASES.toLocaleString('en')} random and mutated bodies through the webhook parsers`, () => {
		const rng = prng(SEED + 3)
		const seeds = webhookSeeds()
		const crashes: string[] = []
		const outcomes = { stored: 0, refused: 0, facts: 0 }
		const receivedAt = new Date()
		for (let i = 0; i < WEBHOOK_CASES; i++) {
			const { toKapso, body, headers } = webhookCase(rng, seeds)
			let events: StoredEvent[] | string
			try {
				events = toKapso ? kapsoEvents(body, headers) : metaEvents(body)
			} catch (error) {
				crashes.push(`case ${i} (parse): ${String(error).slice(0, 200)}`)
				continue
			}
			if (typeof events === 'string') {
				if (events.length === 0) crashes.push(`case ${i}: an empty error message`)
				outcomes.refused++
				continue
			}
			outcomes.stored++
			// What processing later does with each stored row.
			for (const event of events) {
				try {
					const facts = factsOf({
						source: event.source,
						eventType: event.eventType,
						payload: JSON.parse(event.payload),
						receivedAt,
					})
					outcomes.facts += facts.length
				} catch (error) {
					crashes.push(`case ${i} (facts): ${String(error).slice(0, 200)}`)
				}
			}
		}
		console.log(`webhook fuzz: ${JSON.stringify(outcomes)}, ${crashes.length} crashes`)
		expect(crashes).toEqual([])
		expect(outcomes.stored).toBeGreaterThan(WEBHOOK_CASES / 10)
		expect(outcomes.refused).toBeGreaterThan(WEBHOOK_CASES / 10)
	}, 60_000)

	test('2,000 through the ingest endpoints into PostgreSQL, written together: each stored or refused with 400', async () => {
		const rng = prng(SEED + 4)
		const seeds = webhookSeeds()
		// The production writer, grouping concurrent requests into one statement.
		const ingest = createWebhookIngest(createEventWriter(sql, { maxBatchEvents: 200 }), {
			kapsoSecret: KAPSO_SECRET,
			metaAppSecret: META_SECRET,
		})
		const statuses: Record<number, number> = {}
		const failures: string[] = []
		for (let start = 0; start < 2000; start += 50) {
			const results = await Promise.all(
				Array.from({ length: 50 }, () => {
					const { toKapso, body, headers } = webhookCase(rng, seeds)
					return toKapso
						? ingest.kapso(body, {
								...headers,
								'x-webhook-signature': signKapsoBody(body, KAPSO_SECRET),
							})
						: ingest.meta(body, { 'x-hub-signature-256': signMetaBody(body, META_SECRET) })
				}).map((pending, offset) =>
					pending.then((result) => {
						statuses[result.status] = (statuses[result.status] ?? 0) + 1
						if (result.status !== 200 && result.status !== 400)
							failures.push(`case ${start + offset}: ${result.status} ${result.body}`)
					}),
				),
			)
			void results
		}
		console.log(`webhook ingest fuzz: ${JSON.stringify(statuses)}`)
		expect(failures).toEqual([])
		expect(statuses[200]).toBeGreaterThan(100)
		// And processed: every stored event ends processed, with or without a recorded error.
		const result = await processWebhookEvents({ budgetMs: 60_000 })
		expect(result.more).toBe(false)
		const [{ left }] = await sql<
			Array<{ left: number }>
		>`select count(*)::int as left from webhook_events where processed_at is null`
		expect(left).toBe(0)
	}, 120_000)

	test('a lone surrogate is stored as U+FFFD, and a value jsonb refuses fails only its own request', async () => {
		const ingest = createWebhookIngest(createEventWriter(sql), { kapsoSecret: KAPSO_SECRET })
		const send = (value: string, key: string) => {
			const body = Buffer.from(value)
			return ingest.kapso(body, {
				'x-webhook-event': 'whatsapp.message.received',
				'x-idempotency-key': key,
				'x-webhook-signature': signKapsoBody(body, KAPSO_SECRET),
			})
		}
		const [lone, huge, fine] = await Promise.all([
			send('{"message":{"id":"wamid.LONE","text":{"body":"half \\ud83d of a smile"}}}', 'lone'),
			send('{"message":{"id":"wamid.HUGE"},"n":1e1000000}', 'huge'),
			send('{"message":{"id":"wamid.FINE"}}', 'fine'),
		])
		expect(lone.status).toBe(200)
		expect(huge).toMatchObject({ status: 400 })
		expect(fine.status).toBe(200)
		const [stored] = await sql<Array<{ body: string }>>`
			select payload->'message'->'text'->>'body' as body from webhook_events where dedupe_key = 'kapso:lone'`
		expect(stored.body).toBe('half \ufffd of a smile')
	})

	test('200 signed through the real server are answered 200 or 400, never a server error', async () => {
		const rng = prng(SEED + 5)
		const seeds = webhookSeeds()
		const statuses: Record<number, number> = {}
		for (let i = 0; i < 200; i++) {
			const { toKapso, body, headers } = webhookCase(rng, seeds)
			// Signed over the raw bytes, so the signature is never the reason for an answer.
			const signed: Record<string, string> = toKapso
				? { ...headers, 'x-webhook-signature': signKapsoBody(body, KAPSO_SECRET) }
				: { 'x-hub-signature-256': signMetaBody(body, META_SECRET) }
			const response = await fetch(`${server.base}/webhooks/${toKapso ? 'kapso' : 'meta'}`, {
				method: 'POST',
				headers: signed,
				body: new Uint8Array(body),
			})
			await response.arrayBuffer()
			statuses[response.status] = (statuses[response.status] ?? 0) + 1
		}
		console.log(`webhook HTTP fuzz: ${JSON.stringify(statuses)}`)
		expect(Object.keys(statuses).filter((status) => status !== '200' && status !== '400')).toEqual(
			[],
		)
	}, 60_000)
})
