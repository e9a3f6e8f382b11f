import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { CountryCode } from 'libphonenumber-js/max'

export type PhonePool = {
	/** Results in input order, each "+E164" or "code\tmessage" (see encodePhoneResult). */
	normalise: (country: CountryCode, values: string[]) => Promise<string[]>
	close: () => Promise<void>
}

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * Phone validation is the costliest step of an import (about 140,000 numbers/s on one core), so big
 * files can hand it to worker threads while the main thread parses (IMPORT_PHONE_THREADS). Each
 * thread costs ~50 MB; on a 2-core machine one thread gained ~12% and 0 is the default. Workers load the TypeScript
 * source through tsx's loader, which works under tsx, vitest and the worker process alike.
 * `size` 0 runs inline (small files: no thread start-up).
 */
export function createPhonePool(size: number): PhonePool {
	if (size === 0) {
		// Loaded only here: with worker threads the main thread never needs the phone metadata.
		const phone = import('./phone')
		return {
			normalise: async (country, values) => {
				const { encodePhoneResult, normalisePhone } = await phone
				return values.map((value) => encodePhoneResult(normalisePhone(value, country)))
			},
			close: async () => {},
		}
	}
	const tsxApi = pathToFileURL(
		path.resolve(here, '../../../node_modules/tsx/dist/esm/api/index.mjs'),
	).href
	const entry = pathToFileURL(path.join(here, 'phone-worker.ts')).href
	const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}) })`
	const pending = new Map<
		number,
		{ resolve: (results: string[]) => void; reject: (error: Error) => void }
	>()
	let failure: Error | undefined
	const workers = Array.from({ length: size }, () => {
		const worker = new Worker(bootstrap, {
			eval: true,
			// Small heaps: a batch is a few thousand short strings, and every MB here counts against the
			// import's memory budget.
			resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
		})
		worker.on('message', (message: { id: number; results: string[] }) => {
			pending.get(message.id)?.resolve(message.results)
			pending.delete(message.id)
		})
		worker.on('error', (error) => {
			failure = error
			for (const waiter of pending.values()) waiter.reject(error)
			pending.clear()
		})
		return worker
	})
	let nextId = 0
	return {
		normalise(country, values) {
			if (failure) return Promise.reject(failure)
			const id = nextId++
			return new Promise<string[]>((resolve, reject) => {
				pending.set(id, { resolve, reject })
				workers[id % workers.length].postMessage({ id, country, values })
			})
		},
		async close() {
			await Promise.all(workers.map((worker) => worker.terminate()))
		},
	}
}
