import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequestHandler } from '@remix-run/express'
import type { ServerBuild } from '@remix-run/node'
import express from 'express'
import { isSafeMethod, isSameOriginRequest } from '#app/lib/auth/csrf'
import { getEnv } from '#app/lib/env.server'
import {
	getWebhookIngest,
	serveMetaVerification,
	serveWebhook,
	type WebhookIngest,
} from '#app/lib/webhooks/ingest.server'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Paths that other systems POST to; they authenticate with signatures, not cookies. */
const CSRF_EXEMPT = /^\/webhooks\//

function toHeaders(req: express.Request) {
	const headers = new Headers()
	for (const name of ['origin', 'sec-fetch-site']) {
		const value = req.get(name)
		if (value) headers.set(name, value)
	}
	return headers
}

/**
 * The web server. Webhook POSTs never reach Express: they arrive by the thousand per second and
 * authenticate with signatures on the raw body, not with cookies, and Express's request setup and
 * router cost about a tenth of the web process's CPU per webhook. Everything else is the Express
 * app with Remix. Returned unstarted: `listen` it.
 */
export async function createWebServer() {
	const webhooks = await getWebhookIngest()
	const app = await createWebApp(webhooks)
	return http.createServer((req, res) => {
		if (req.method === 'POST') {
			const path = req.url?.split('?', 1)[0]
			if (path === '/webhooks/kapso') return void serveWebhook(req, res, webhooks.kapso)
			if (path === '/webhooks/meta') return void serveWebhook(req, res, webhooks.meta)
		}
		app(req, res)
	})
}

async function createWebApp(webhooks: WebhookIngest) {
	const env = getEnv()
	const app = express()
	app.disable('x-powered-by')
	app.set('trust proxy', env.TRUST_PROXY === 'true')

	app.get('/webhooks/meta', (req, res) => serveMetaVerification(req, res, webhooks))

	app.use((req, res, next) => {
		res.setHeader('X-Content-Type-Options', 'nosniff')
		res.setHeader('X-Frame-Options', 'DENY')
		res.setHeader('Referrer-Policy', 'same-origin')
		// Only this server may say who the client is: a header sent by the client is dropped.
		req.headers['x-pregon-client-ip'] = req.ip ?? req.socket.remoteAddress ?? 'unknown'
		next()
	})

	app.get('/healthz', (_req, res) => {
		res.json({ ok: true })
	})

	app.use((req, res, next) => {
		if (isSafeMethod(req.method) || CSRF_EXEMPT.test(req.path)) return next()
		const url = `${req.protocol}://${req.get('host')}${req.originalUrl}`
		if (isSameOriginRequest(toHeaders(req), url)) return next()
		res.status(403).type('text/plain').send('Cross-site request refused.')
	})

	if (env.NODE_ENV === 'development') {
		const vite = await import('vite')
		const viteServer = await vite.createServer({ server: { middlewareMode: true } })
		app.use(viteServer.middlewares)
		app.all(
			'*',
			createRequestHandler({
				build: () => viteServer.ssrLoadModule('virtual:remix/server-build') as Promise<ServerBuild>,
			}),
		)
	} else {
		const buildDir = path.join(root, 'build')
		app.use(
			'/assets',
			express.static(path.join(buildDir, 'client/assets'), { immutable: true, maxAge: '1y' }),
		)
		app.use(express.static(path.join(buildDir, 'client'), { maxAge: '1h' }))
		const build = (await import(path.join(buildDir, 'server/index.js'))) as ServerBuild
		app.all('*', createRequestHandler({ build }))
	}
	return app
}

export async function startWeb() {
	const env = getEnv()
	if (!env.DATABASE_URL) throw new Error('DATABASE_URL must be set to start the web server')
	const server = (await createWebServer()).listen(env.PORT, env.HOST)
	await new Promise<void>((resolve, reject) => {
		server.once('listening', resolve)
		server.once('error', reject)
	})
	return server
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	try {
		const server = await startWeb()
		const env = getEnv()
		console.log(`Web server listening on http://localhost:${env.PORT} (pid ${process.pid}).`)
		const stop = async () => {
			server.close()
			server.closeAllConnections()
			const { closeDatabase } = await import('#db/client')
			await closeDatabase()
			process.exit(0)
		}
		process.once('SIGTERM', stop)
		process.once('SIGINT', stop)
	} catch (error) {
		console.error(error instanceof Error ? error.message : error)
		process.exit(1)
	}
}
