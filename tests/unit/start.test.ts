import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freePort } from '#tests/support/ports'

/**
 * `npm start` end to end: the embedded PostgreSQL, first-start credentials, signing in over HTTP,
 * a Ctrl-C that stops the web server, worker and sandbox before the database, and a second start
 * that reuses the same data.
 */
const root = path.resolve(__dirname, '../..')
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pregon-start-'))
// Run as root, PostgreSQL runs as the `postgres` user, which must be able to reach its folder.
fs.chmodSync(dataDir, 0o755)
const started: Array<ChildProcess> = []
const seenPids = new Set<number>()
let ports: { web: number; pg: number; sandbox: number }

beforeAll(async () => {
	if (!fs.existsSync(path.join(root, 'build/server/index.js'))) {
		throw new Error('No production build: run `npm run build` first')
	}
	ports = { web: await freePort(), pg: await freePort(), sandbox: await freePort() }
})

afterAll(() => {
	for (const child of started) {
		if (child.exitCode === null && child.signalCode === null)
			process.kill(-(child.pid as number), 'SIGKILL')
	}
	for (const pid of seenPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
	fs.rmSync(dataDir, { recursive: true, force: true })
})

/** Alive and not a zombie, read from /proc so an exited-but-unreaped child counts as gone. */
function isAlive(pid: number) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
	} catch {
		return false
	}
}

/** Every process below `pid`, with its command line. */
function descendants(pid: number) {
	const parents = new Map<number, number>()
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue
		try {
			const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
			parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
		} catch {
			// The process ended while we were listing.
		}
	}
	const found: Array<{ pid: number; command: string }> = []
	const queue = [pid]
	while (queue.length > 0) {
		const parent = queue.shift() as number
		for (const [child, ppid] of parents) {
			if (ppid !== parent) continue
			queue.push(child)
			let command = ''
			try {
				command = fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ')
			} catch {
				// Gone already.
			}
			found.push({ pid: child, command })
		}
	}
	return found
}

function startPregon() {
	const env: NodeJS.ProcessEnv = { ...process.env }
	for (const name of Object.keys(env)) {
		if (/^(DATABASE_URL|KAPSO_|META_|ADMIN_|APP_URL|SANDBOX_)/.test(name)) delete env[name]
	}
	Object.assign(env, {
		NODE_ENV: 'production',
		PREGON_DATA_DIR: dataDir,
		HOST: '127.0.0.1',
		PORT: String(ports.web),
		EMBEDDED_PG_PORT: String(ports.pg),
		SANDBOX_PORT: String(ports.sandbox),
		WORKER_CONCURRENCY: '2',
	})
	// Its own process group, as a shell gives a foreground job: a Ctrl-C goes to the whole group.
	const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/start.ts'], {
		cwd: root,
		env,
		detached: true,
		stdio: ['ignore', 'pipe', 'pipe'],
	})
	started.push(child)
	let output = ''
	child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
	child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
	const exited = new Promise<number | string>((resolve) =>
		child.once('exit', (code, signal) => resolve(code ?? (signal as string))),
	)
	return { child, exited, output: () => output }
}

async function waitFor<T>(
	what: string,
	check: () => T | Promise<T>,
	timeoutMs = 90_000,
): Promise<NonNullable<T>> {
	const deadline = Date.now() + timeoutMs
	for (;;) {
		const value = await check()
		if (value) return value as NonNullable<T>
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
		await new Promise((resolve) => setTimeout(resolve, 100))
	}
}

async function waitUntilReady(run: ReturnType<typeof startPregon>) {
	await waitFor('"Press Ctrl-C to stop."', () => {
		if (run.child.exitCode !== null) throw new Error(`npm start exited early:\n${run.output()}`)
		return run.output().includes('Press Ctrl-C to stop.')
	})
	await waitFor('the web server', () =>
		fetch(`http://127.0.0.1:${ports.web}/healthz`).then(
			(response) => response.ok,
			() => false,
		),
	)
	await waitFor('the sandbox', () => run.output().includes('[sandbox] Kapso sandbox on'))
	await waitFor('the worker', () => run.output().includes('Worker started'))
}

async function signIn(email: string, password: string) {
	const base = `http://127.0.0.1:${ports.web}`
	const response = await fetch(`${base}/login`, {
		method: 'POST',
		redirect: 'manual',
		headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
		body: new URLSearchParams({ email, password }),
	})
	if (response.status !== 302) return null
	const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]
	const home = await fetch(`${base}/`, { headers: { cookie }, redirect: 'manual' })
	return home.status === 200 ? await home.text() : null
}

type StopTimeline = {
	exitedAt: Map<string, number>
	databaseDownAt: number
	exit: number | string
	output: string
}

/**
 * Stops Pregón with a Ctrl-C (SIGINT to the whole process group, as the terminal sends it) or
 * with SIGTERM to the launcher alone (what `kill` or a service manager sends), and records when
 * each of web, worker and sandbox exited and when the database started shutting down: the moment
 * PostgreSQL ends a connection this test holds open.
 */
async function stop(
	run: ReturnType<typeof startPregon>,
	how: 'ctrl-c' | 'sigterm',
): Promise<StopTimeline> {
	const roles: Record<string, RegExp> = {
		web: /app\/cli\/web\.ts/,
		worker: /jobs\/worker\.ts/,
		sandbox: /app\/sandbox\/main\.ts/,
	}
	const pids = new Map<string, number>()
	for (const { pid, command } of descendants(run.child.pid as number)) {
		seenPids.add(pid)
		for (const [role, pattern] of Object.entries(roles))
			if (pattern.test(command)) pids.set(role, pid)
	}
	expect([...pids.keys()].sort()).toEqual(['sandbox', 'web', 'worker'])

	const sql = postgres(`postgres://pregon:pregon@127.0.0.1:${ports.pg}/pregon`, {
		max: 1,
		onnotice: () => {},
	})
	await sql`select 1`
	const databaseDown = sql`select pg_sleep(600)`.then(
		() => Infinity,
		() => performance.now(),
	)

	const exitedAt = new Map<string, number>()
	const output = run.output().length
	if (how === 'ctrl-c') process.kill(-(run.child.pid as number), 'SIGINT')
	else process.kill(run.child.pid as number, 'SIGTERM')
	const watch = setInterval(() => {
		for (const [role, pid] of pids)
			if (!exitedAt.has(role) && !isAlive(pid)) exitedAt.set(role, performance.now())
	}, 2)
	const exit = await run.exited
	clearInterval(watch)
	const databaseDownAt = await databaseDown
	await sql.end({ timeout: 1 })
	return { exitedAt, databaseDownAt, exit, output: run.output().slice(output) }
}

function expectOrderlyStop(stop: StopTimeline) {
	expect(stop.exit, stop.output).toBe(0)
	expect([...stop.exitedAt.keys()].sort()).toEqual(['sandbox', 'web', 'worker'])
	const at = (role: string) => stop.exitedAt.get(role) as number
	expect(at('web'), 'web stops before the worker').toBeLessThan(at('worker'))
	expect(at('worker'), 'the worker stops before the sandbox').toBeLessThan(at('sandbox'))
	expect(at('sandbox'), 'the database goes down last').toBeLessThan(stop.databaseDownAt)
	// Nothing complained about a vanished database or connection while stopping.
	expect(stop.output).not.toMatch(
		/error|ECONNREFUSED|terminating connection|Connection (closed|terminated)|57P0/i,
	)
	for (const pid of seenPids) expect(isAlive(pid), `process ${pid} still running`).toBe(false)
	// PostgreSQL removes its lock file only on a clean shutdown.
	expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false)
}

describe('npm start', () => {
	test('first start prints credentials that sign in; Ctrl-C or SIGTERM stops everything, the database last; a restart reuses the data', async () => {
		const first = startPregon()
		await waitUntilReady(first)
		const email = /email:\s+(\S+)/.exec(first.output())?.[1]
		const password = /password:\s+(\S+)/.exec(first.output())?.[1]
		expect(email, first.output()).toBe('admin@pregon.local')
		expect(password?.length).toBeGreaterThanOrEqual(12)
		expect(await signIn(email as string, password as string)).toContain('Administrator')
		expect(await signIn(email as string, 'not-the-password')).toBeNull()
		expectOrderlyStop(await stop(first, 'ctrl-c'))

		seenPids.clear()
		const second = startPregon()
		await waitUntilReady(second)
		expect(second.output()).not.toContain('First start')
		expect(second.output()).not.toMatch(/password:/)
		expect(await signIn(email as string, password as string)).toContain('Administrator')
		expectOrderlyStop(await stop(second, 'sigterm'))
	}, 240_000)
})
