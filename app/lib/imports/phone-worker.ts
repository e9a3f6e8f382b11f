import { parentPort } from 'node:worker_threads'
import type { CountryCode } from 'libphonenumber-js/max'
import { encodePhoneResult, normalisePhone } from './phone'

/** Worker thread of the phone pool: normalises one batch of raw values per message. */
parentPort?.on('message', (message: { id: number; country: CountryCode; values: string[] }) => {
	const results = message.values.map((value) =>
		encodePhoneResult(normalisePhone(value, message.country)),
	)
	parentPort?.postMessage({ id: message.id, results })
})
