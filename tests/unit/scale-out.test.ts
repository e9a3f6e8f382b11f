import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { db } from '#db/client'
import { createUser } from '#app/lib/auth/users.server'
import { freePort } from '#tests/support/ports'

/**
 * Scaling out: two `npm run start:web` and two `npm run start:worker` processes against one
 * DATABASE_URL (this file's test database), as docs/decisions/001-process-layout.md promises.
 */
const root = path.resolve(__dirname, '../..')
const processes: Array<{ child: ChildProcess; output: () => string; exited: Promise<unknown> }> = []
let webPorts: Array<number>

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000) {
	const deadline = Date.now() + timeoutMs
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
		await new Promise((resolve) => setTimeout(resolve, 100))
	}
}

function run(script: string, env: Record<string, string>) {
	const child = spawn(process.execPath, ['--import', 'tsx', script], {
		cwd: root,
		env: { ...process.env, NODE_ENV: 'production', ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	})
	let output = ''
	child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
	child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
	const exited = new Promise((resolve) => child.once('exit', resolve))
	const started = { child, output: () => output, exited }
	processes.push(started)
	return started
}

beforeAll(async () => {
	if (!fs.existsSync(path.join(root, 'build/server/index.js'))) {
		throw new Error('No production build: run `npm run build` first')
	}
	await createUser(
		{ email: 'ann@scale.test', name: 'Ann', role: 'marketer', password: 'scale-out-password' },
		null,
	)
	webPorts = [await freePort(), await freePort()]
	// Cron jobs talk to the sandbox: a port nobody listens on keeps them off anyone else's.
	const isolated = {
		HOST: '127.0.0.1',
		SANDBOX_PORT: String(await freePort()),
		WORKER_CONCURRENCY: '4',
	}
	for (const port of webPorts) run('app/cli/web.ts', { ...isolated, PORT: String(port) })
	for (let i = 0; i < 2; i++) run('jobs/worker.ts', isolated)
	for (const started of processes) {
		await waitFor('web servers and workers', () => {
			if (started.child.exitCode !== null) throw new Error(`exited early:\n${started.output()}`)
			return /Web server listening|Worker connected and looking for jobs/.test(started.output())
		})
	}
}, 120_000)

afterAll(async () => {
	for (const { child } of processes) child.kill('SIGTERM')
	await Promise.all(processes.map(({ exited }) => exited))
})

describe('more than one web server and worker on one database', () => {
	test('both web servers answer /healthz and share sessions', async () => {
		for (const port of webPorts) {
			const response = await fetch(`http://127.0.0.1:${port}/healthz`)
			expect(response.status).toBe(200)
			expect(await response.json()).toEqual({ ok: true })
		}
		const [first, second] = webPorts.map((port) => `http://127.0.0.1:${port}`)
		const login = await fetch(`${first}/login`, {
			method: 'POST',
			redirect: 'manual',
			headers: { 'content-type': 'application/x-www-form-urlencoded', origin: first },
			body: new URLSearchParams({ email: 'ann@scale.test', password: 'scale-out-password' }),
		})
		expect(login.status).toBe(302)
		const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
		const page = await fetch(`${second}/`, { headers: { cookie }, redirect: 'manual' })
		expect(page.status).toBe(200)
		expect(await page.text()).toContain('Ann')
	})

	test('every job enqueued runs exactly once across the workers', async () => {
		const rows = await db.execute<{ id: string }>(
			sql`select (graphile_worker.add_job('prune_sessions', '{}'::json)).id::text as id from generate_series(1, 40)`,
		)
		const ids = rows.map((row) => row.id)
		await waitFor('the jobs to finish', async () => {
			const [{ left }] = await db.execute<{ left: number }>(
				sql`select count(*)::int as left from graphile_worker.jobs where id = any(${`{${ids.join(',')}}`}::bigint[])`,
			)
			return left === 0
		})
		const workers = processes.filter(({ output }) => output().includes('Worker connected'))
		const runsBy = () =>
			workers.map(({ output }) =>
				[...output().matchAll(/Completed task (\d+) \(prune_sessions/g)]
					.map((match) => match[1])
					.filter((id) => ids.includes(id)),
			)
		// graphile-worker logs each successful run once, in the process that ran it.
		await waitFor('the runs to be logged', () => runsBy().flat().length >= ids.length, 10_000)
		const runs = runsBy().flat()
		expect(runs.sort()).toEqual([...ids].sort())
	}, 60_000)
})
