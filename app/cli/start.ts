/**
 * `npm start`: the whole product in one command. Starts an embedded PostgreSQL (unless
 * DATABASE_URL is set), applies migrations, creates the first admin, then runs the web server,
 * a worker and (without KAPSO_API_KEY) the Kapso sandbox as child processes. Ctrl-C stops all.
 */
import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '#db/embedded'
import { migrateDatabase } from '#db/migrate'
import { getEnv, isSandboxMode } from '#app/lib/env.server'
import { childEnvironments, WORKER_NODE_FLAGS } from '#app/lib/launcher.server'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const env = getEnv()
const dataDir = path.resolve(root, env.PREGON_DATA_DIR)
const children = new Map<string, ChildProcess>()
let embedded: EmbeddedDatabase | undefined
let stopping = false

function startChild(
	name: string,
	script: string,
	childEnv: NodeJS.ProcessEnv,
	nodeFlags: string[] = [],
) {
	const child = fork(path.join(root, script), [], {
		env: childEnv,
		execArgv: [...nodeFlags, '--import', 'tsx'],
		stdio: 'inherit',
		// Out of the terminal's process group, so a Ctrl-C reaches only this process, which stops
		// the children in order (stopAll) instead of all at once.
		detached: true,
	})
	children.set(name, child)
	child.on('exit', (code, signal) => {
		children.delete(name)
		if (stopping) return
		console.error(`${name} exited (${signal ?? code}); restarting in 1 s`)
		setTimeout(() => {
			if (!stopping) startChild(name, script, childEnv, nodeFlags)
		}, 1000)
	})
}

/**
 * The web server first, so no new work arrives; then the worker, which finishes or releases its
 * jobs while the sandbox (its Kapso) and the database are still there; the database last.
 */
const STOP_ORDER = ['web', 'worker', 'sandbox']

function stopChild(child: ChildProcess) {
	return new Promise<void>((resolve) => {
		child.once('exit', () => resolve())
		child.kill('SIGTERM')
		setTimeout(() => {
			child.kill('SIGKILL')
			resolve()
		}, 10_000).unref()
	})
}

async function stopAll(exitCode: number) {
	if (stopping) return
	stopping = true
	console.log('\nStopping Pregón…')
	for (const name of STOP_ORDER) {
		const child = children.get(name)
		if (child) await stopChild(child)
	}
	await embedded?.stop()
	process.exit(exitCode)
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
	process.on(signal, () => void stopAll(0))
// Detached children would outlive this process if it ended any other way than through stopAll.
process.on('exit', () => {
	for (const child of children.values()) child.kill('SIGTERM')
})

try {
	let databaseUrl = env.DATABASE_URL
	if (!databaseUrl) {
		console.log(
			`Starting the embedded PostgreSQL (data in ${path.relative(process.cwd(), dataDir) || '.'}/pg)…`,
		)
		embedded = await startEmbeddedPostgres({
			dataDir: path.join(dataDir, 'pg'),
			port: env.EMBEDDED_PG_PORT,
			database: 'pregon',
			callerHandlesSignals: true,
		})
		databaseUrl = embedded.url
	}
	process.env.DATABASE_URL = databaseUrl
	await migrateDatabase(databaseUrl)

	const sandbox = isSandboxMode(env)
	const { bootstrap } = await import('#app/lib/bootstrap.server')
	const result = await bootstrap({ sandbox })

	const envs = childEnvironments({ env, inherited: process.env, databaseUrl, dataDir })
	if (envs.sandbox) startChild('sandbox', 'app/sandbox/main.ts', envs.sandbox)
	startChild('worker', 'jobs/worker.ts', envs.app, WORKER_NODE_FLAGS)
	startChild('web', 'app/cli/web.ts', envs.app)

	const url = env.APP_URL ?? `http://localhost:${env.PORT}`
	console.log(`\nPregón is starting at ${url}`)
	console.log(
		sandbox
			? `Kapso: built-in sandbox on port ${env.SANDBOX_PORT} (set KAPSO_API_KEY to use real Kapso).`
			: `Kapso: ${env.KAPSO_BASE_URL}`,
	)
	if (result.admin) {
		console.log('\nFirst start: an admin account was created.')
		console.log(`  email:    ${result.admin.email}`)
		if (result.admin.generated)
			console.log(`  password: ${result.admin.password}   (shown once; change it after signing in)`)
	}
	console.log('Press Ctrl-C to stop.\n')
} catch (error) {
	console.error(error instanceof Error ? error.message : error)
	await stopAll(1)
}
