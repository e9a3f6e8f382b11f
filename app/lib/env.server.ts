import { z } from 'zod'

const optionalText = z
	.string()
	.trim()
	.transform((value) => (value === '' ? undefined : value))
	.optional()

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback)

/** Every environment variable the product reads. `.env.example` documents each one. */
export const EnvSchema = z.object({
	NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
	DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
	// An import holds two connections at once: its transaction and the one that stages chunks.
	DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
	PORT: port(3000),
	HOST: z.string().default('0.0.0.0'),
	APP_URL: optionalText.pipe(z.url().optional()),
	TRUST_PROXY: z.enum(['true', 'false']).default('false'),
	PREGON_DATA_DIR: z.string().default('.data'),
	EMBEDDED_PG_PORT: port(54329),
	ADMIN_EMAIL: optionalText.pipe(z.email().optional()),
	ADMIN_PASSWORD: optionalText.pipe(
		z.string().min(12, 'must be at least 12 characters').optional(),
	),
	SESSION_IDLE_MINUTES: z.coerce
		.number()
		.int()
		.min(5)
		.max(24 * 60)
		.default(60),
	SESSION_ABSOLUTE_HOURS: z.coerce
		.number()
		.int()
		.min(1)
		.max(24 * 30)
		.default(12),
	KAPSO_API_KEY: optionalText,
	KAPSO_BASE_URL: z.url().default('https://api.kapso.ai'),
	KAPSO_WEBHOOK_SECRET: optionalText,
	META_APP_SECRET: optionalText,
	META_VERIFY_TOKEN: optionalText,
	/** Raw webhook events older than this are pruned. */
	WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
	/** A message still only `sent` after this many minutes is looked up through Kapso. */
	STATUS_RECONCILE_MINUTES: z.coerce
		.number()
		.int()
		.min(1)
		.max(24 * 60)
		.default(5),
	KAPSO_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
	SANDBOX_PORT: port(4300),
	SANDBOX_SETTINGS: optionalText,
	WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
	UPLOAD_MAX_BYTES: z.coerce
		.number()
		.int()
		.min(1)
		.default(100 * 1024 * 1024),
	/** Worker threads validating phone numbers during an import (0: on the import's own thread). */
	IMPORT_PHONE_THREADS: z.coerce.number().int().min(0).max(8).default(0),
})

export type Env = z.infer<typeof EnvSchema>

/** Parses an environment; a wrong value throws an error naming each wrong variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
	const result = EnvSchema.safeParse(source)
	if (!result.success) {
		const lines = result.error.issues.map(
			(issue) => `  ${issue.path.join('.') || '(environment)'}: ${issue.message}`,
		)
		throw new Error(`Invalid environment configuration:\n${lines.join('\n')}`)
	}
	return result.data
}

let parsed: Env | undefined

/** Parses the environment once; a wrong value stops the process naming the variable. */
export function getEnv(): Env {
	parsed ??= parseEnv(process.env)
	return parsed
}

/** True when no Kapso key is configured and the built-in sandbox stands in for Kapso. */
export function isSandboxMode(env: Env = getEnv()) {
	return !env.KAPSO_API_KEY
}
