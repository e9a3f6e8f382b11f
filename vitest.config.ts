import { defineConfig } from 'vitest/config'
import tsconfigPaths from 'vite-tsconfig-paths'

export default defineConfig({
	plugins: [tsconfigPaths()],
	test: {
		include: [
			'app/**/*.test.{ts,tsx}',
			'db/**/*.test.ts',
			'jobs/**/*.test.ts',
			'tests/unit/**/*.test.ts',
			'tests/reliability/**/*.test.ts',
			'tests/security/**/*.test.ts',
		],
		globalSetup: ['./tests/setup/global-setup.ts'],
		setupFiles: ['./tests/setup/setup-db.ts'],
		// One test file at a time: the engine and reliability tests assert a per-second send cap
		// measured at the sandbox, and a second file competing for the two cores adds jitter
		// that the cap's 25 ms margin was not sized for.
		fileParallelism: false,
		pool: 'forks',
		poolOptions: { forks: { maxForks: 2, minForks: 1 } },
		testTimeout: 30_000,
		hookTimeout: 60_000,
		environment: 'node',
	},
})
