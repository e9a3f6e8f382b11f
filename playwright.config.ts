import { defineConfig } from '@playwright/test'

const port = Number(process.env.E2E_PORT ?? 3100)

export default defineConfig({
	testDir: './tests/e2e',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	timeout: 60_000,
	expect: { timeout: 15_000 },
	reporter: [['list'], ['json', { outputFile: process.env.E2E_JSON_REPORT ?? 'test-results/e2e.json' }]],
	use: {
		baseURL: `http://localhost:${port}`,
		trace: 'retain-on-failure',
		launchOptions: {
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--disable-quic',
				'--no-first-run',
			],
		},
	},
	webServer: {
		command: 'npx tsx app/cli/start.ts',
		url: `http://localhost:${port}/healthz`,
		reuseExistingServer: false,
		timeout: 120_000,
		// SIGTERM lets the launcher stop its web, worker and sandbox children in order; the default
		// SIGKILL would leave them running on their ports (they live in their own process groups).
		gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
		stdout: 'ignore',
		stderr: 'pipe',
		env: {
			PORT: String(port),
			SANDBOX_PORT: String(Number(process.env.E2E_SANDBOX_PORT ?? 4399)),
			ADMIN_EMAIL: 'admin@pregon.test',
			ADMIN_PASSWORD: 'admin-password-123',
			NODE_ENV: 'production',
		},
	},
})
