import { readFileSync } from 'node:fs'
import { z } from 'zod'

/**
 * What the sandbox signs webhooks with when neither the settings nor KAPSO_WEBHOOK_SECRET name a
 * secret; the app's webhook route verifies with the same value in sandbox mode.
 */
export const DEFAULT_SANDBOX_WEBHOOK_SECRET = 'sandbox-webhook-secret'

const share = z.number().min(0).max(1)
const ms = z.number().int().min(0)

const phoneNumberSchema = z.strictObject({
	wabaId: z.string().optional(),
	displayPhoneNumber: z.string().optional(),
	/** Messages per second this number may send (sliding one-second window), else 130429. */
	ratePerSecond: z.number().int().min(1).optional(),
})

const seedTemplateSchema = z.strictObject({
	wabaId: z.string().optional(),
	name: z.string(),
	language: z.string(),
	category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']).default('MARKETING'),
	status: z.string().default('APPROVED'),
	parameterFormat: z.enum(['NAMED', 'POSITIONAL']).default('POSITIONAL'),
	components: z.array(z.record(z.string(), z.unknown())),
})

/** Everything the sandbox can be told. Every field has a default, so `{}` is a valid file. */
export const SandboxSettingsSchema = z.strictObject({
	/** The `X-API-Key` clients must send; `null` accepts any non-empty key. */
	apiKey: z.string().nullable().default('sandbox'),
	defaultPhoneNumberId: z.string().default('100000000000001'),
	defaultWabaId: z.string().default('200000000000001'),
	defaultDisplayPhoneNumber: z.string().default('+1 555 010 0001'),
	/** Throughput of numbers without their own `ratePerSecond`. */
	defaultRatePerSecond: z.number().int().min(1).default(1000),
	phoneNumbers: z.record(z.string(), phoneNumberSchema).default({}),
	/** Templates present at start (and after a reset), in Meta's create format. */
	templates: z.array(seedTemplateSchema).optional(),
	/** Deterministic randomness for tests; random when unset. */
	seed: z.number().int().optional(),

	/** Where Kapso v2 webhooks go; `null` turns them off. Defaults to the app on `PORT`. */
	webhookUrl: z.string().nullable().optional(),
	webhookSecret: z.string().min(1).default(DEFAULT_SANDBOX_WEBHOOK_SECRET),
	/** Most webhook requests in flight at once (keep-alive sockets). */
	webhookConcurrency: z.number().int().min(1).max(512).default(32),
	webhookTimeoutMs: ms.default(10_000),
	/** Kapso retries a non-2xx answer after 10 s, 40 s and 90 s, then gives up. */
	webhookRetryDelaysMs: z.array(ms).default([10_000, 40_000, 90_000]),
	/** Deliveries waiting beyond this are dropped (and counted) instead of growing memory. */
	webhookQueueLimit: z.number().int().min(1).default(2_000_000),
	/**
	 * Messages older than this are forgotten: the ledger, message history and conversations whose
	 * messages are all gone (with their 24-hour window). Counters, including per-number accepted
	 * counts and duplicate counts, keep counting. `null` (default) keeps everything; long soaks set it.
	 */
	retentionMs: z.number().int().min(1).nullable().default(null),
	/**
	 * Where Meta-format `message_template_status_update` events go (Kapso forwarding Meta's
	 * webhooks), signed `X-Hub-Signature-256` with `metaAppSecret`; `null` (default) sends none.
	 */
	metaWebhookUrl: z.string().nullable().default(null),
	metaAppSecret: z.string().min(1).default('sandbox-meta-app-secret'),

	statuses: z
		.strictObject({
			sentDelayMs: ms.default(50),
			deliveredDelayMs: ms.default(300),
			readDelayMs: ms.default(1500),
			/** Random extra delay added to each status, 0..jitterMs. */
			jitterMs: ms.default(100),
			deliveredShare: share.default(0.95),
			/** Share of delivered messages that are then read. */
			readShare: share.default(0.6),
		})
		.prefault({}),

	/** Share of accepted sends that later fail by webhook, by Meta code, e.g. `{"131049": 0.02}`. */
	failures: z.record(z.string().regex(/^\d+$/), share).default({}),
	/** Numbers (digits only) starting with one of these are undeliverable (131026). */
	undeliverablePrefixes: z.array(z.string()).default([]),

	chaos: z
		.strictObject({
			/** Share of webhook deliveries sent twice. */
			duplicateShare: share.default(0),
			/** Deliver webhooks out of order (statuses of a message may arrive read-before-delivered). */
			shuffle: z.boolean().default(false),
			/** Share of webhook deliveries held back by `delayMs`. */
			delayShare: share.default(0),
			delayMs: ms.default(5000),
			/** Share of webhook deliveries never sent. */
			dropShare: share.default(0),
			/** Share of deliveries preceded by a forged copy with a wrong signature. */
			badSignatureShare: share.default(0),
		})
		.prefault({}),

	replies: z
		.strictObject({
			/** Share of delivered template messages whose recipient answers. */
			share: share.default(0),
			delayMs: ms.default(2000),
			/** Of the replies: share that tap a quick-reply button (when the template has one). */
			buttonShare: share.default(0.3),
			/** Of the replies: share that send an opt-out keyword. */
			optOutShare: share.default(0.1),
			optOutKeywords: z.array(z.string()).default(['STOP', 'BAJA']),
			texts: z.array(z.string()).min(1).default(['Gracias!', 'Thanks', '¿Cuándo llega?', 'OK']),
		})
		.prefault({}),

	review: z
		.strictObject({
			/** Time a new template stays PENDING; 0 decides in the create response. */
			delayMs: ms.default(1000),
			/** `auto` applies the format rules; `approve`/`reject` force the outcome. */
			mode: z.enum(['auto', 'approve', 'reject']).default('auto'),
		})
		.prefault({}),

	/** Enforce the 24-hour customer-service window for text sends (else 131047). */
	enforceServiceWindow: z.boolean().default(true),

	faults: z
		.strictObject({
			/** Shares of sends answered with an error before anything is accepted. */
			http429Share: share.default(0),
			retryAfterSeconds: z.number().int().min(0).nullable().default(60),
			http409Share: share.default(0),
			http500Share: share.default(0),
			http503Share: share.default(0),
			/** Share of sends whose connection is reset before anything is accepted. */
			resetShare: share.default(0),
			/** Share of sends answered after `slowMs`. */
			slowShare: share.default(0),
			slowMs: ms.default(2000),
			/** Share of sends never answered (not accepted); the socket closes after `timeoutHoldMs`. */
			timeoutShare: share.default(0),
			/** Share of sends accepted (ledger, webhooks) whose answer is never sent. */
			lostResponseShare: share.default(0),
			/** Share of sends accepted and then left hanging (the client times out). */
			acceptedTimeoutShare: share.default(0),
			timeoutHoldMs: ms.default(120_000),
		})
		.prefault({}),
})

export type SandboxSettings = z.infer<typeof SandboxSettingsSchema>
export type SandboxSettingsInput = z.input<typeof SandboxSettingsSchema>

function isPlain(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Groups of switches merge key by key; maps such as `failures` and `phoneNumbers` are replaced
// whole, so a patch can also remove an entry.
const MERGED_GROUPS = new Set(['statuses', 'chaos', 'replies', 'review', 'faults'])

/** Applies a settings patch: the groups above merge, everything else is replaced. */
export function mergeSettings(
	base: Record<string, unknown>,
	patch: Record<string, unknown>,
): Record<string, unknown> {
	const result: Record<string, unknown> = { ...base }
	for (const [key, value] of Object.entries(patch)) {
		const current = base[key]
		result[key] =
			MERGED_GROUPS.has(key) && isPlain(value) && isPlain(current)
				? { ...current, ...value }
				: value
	}
	return result
}

export function parseSettings(input: unknown): SandboxSettings {
	return SandboxSettingsSchema.parse(input ?? {})
}

/** Settings from environment variables, for `npm run sandbox` (file first, env wins). */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
	const result: Record<string, unknown> = {}
	if (env.SANDBOX_API_KEY) result.apiKey = env.SANDBOX_API_KEY
	if (env.SANDBOX_WEBHOOK_URL)
		result.webhookUrl = env.SANDBOX_WEBHOOK_URL === 'off' ? null : env.SANDBOX_WEBHOOK_URL
	const secret = env.SANDBOX_WEBHOOK_SECRET ?? env.KAPSO_WEBHOOK_SECRET
	if (secret) result.webhookSecret = secret
	if (env.SANDBOX_META_WEBHOOK_URL) result.metaWebhookUrl = env.SANDBOX_META_WEBHOOK_URL
	if (env.META_APP_SECRET) result.metaAppSecret = env.META_APP_SECRET
	if (env.SANDBOX_PHONE_NUMBER_ID) result.defaultPhoneNumberId = env.SANDBOX_PHONE_NUMBER_ID
	if (env.SANDBOX_WABA_ID) result.defaultWabaId = env.SANDBOX_WABA_ID
	if (env.SANDBOX_RATE_PER_SECOND) result.defaultRatePerSecond = Number(env.SANDBOX_RATE_PER_SECOND)
	if (env.SANDBOX_REVIEW_DELAY_MS) result.review = { delayMs: Number(env.SANDBOX_REVIEW_DELAY_MS) }
	if (env.SANDBOX_SEED) result.seed = Number(env.SANDBOX_SEED)
	return result
}

/**
 * The settings `npm run sandbox` and the launcher use: the JSON file named by SANDBOX_SETTINGS,
 * then environment variables on top. Throws naming the problem when the file or a value is wrong.
 */
export function loadSandboxSettings(env: NodeJS.ProcessEnv = process.env): SandboxSettingsInput {
	let fromFile: Record<string, unknown> = {}
	if (env.SANDBOX_SETTINGS) {
		let parsed: unknown
		try {
			parsed = JSON.parse(readFileSync(env.SANDBOX_SETTINGS, 'utf8'))
		} catch (error) {
			throw new Error(`SANDBOX_SETTINGS (${env.SANDBOX_SETTINGS}): ${(error as Error).message}`)
		}
		// Spread into the settings, an array or a string would be silently ignored.
		if (!isPlain(parsed))
			throw new Error(
				`SANDBOX_SETTINGS (${env.SANDBOX_SETTINGS}): the file must hold a JSON object`,
			)
		fromFile = parsed
	}
	const merged = mergeSettings(fromFile, settingsFromEnv(env))
	const checked = SandboxSettingsSchema.safeParse(merged)
	if (!checked.success) {
		const lines = checked.error.issues.flatMap((issue) =>
			// A misspelt name would otherwise leave its setting at the default without a word.
			issue.code === 'unrecognized_keys'
				? issue.keys.map((key) => `  ${[...issue.path, key].join('.')}: not a sandbox setting`)
				: [`  ${issue.path.join('.')}: ${issue.message}`],
		)
		throw new Error(`Invalid sandbox settings:\n${lines.join('\n')}`)
	}
	return merged as SandboxSettingsInput
}
