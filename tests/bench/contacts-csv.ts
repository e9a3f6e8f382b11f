import fs from 'node:fs'
import { once } from 'node:events'

export type GeneratedCsv = {
	path: string
	bytes: number
	rows: number
	/** Rows the import must accept (unique valid mobiles). */
	accepted: number
	invalid: number
	duplicates: number
}

const cities = ['Lima', 'Arequipa', 'Trujillo', 'Cusco', 'Piura', 'Iquitos', 'Chiclayo', 'Tacna']
const plans = ['gold', 'silver', 'bronze', 'free']

/**
 * Writes a Peruvian contact list in the mix of phone formats real exports contain. Every 200th row
 * carries a too-short number and every 500th repeats the previous row's number in another format,
 * so the expected counts are known exactly.
 */
export async function generateContactsCsv(path: string, rows: number): Promise<GeneratedCsv> {
	const out = fs.createWriteStream(path)
	let invalid = 0
	let duplicates = 0
	let chunk = 'phone,name,email,city,plan\n'
	for (let i = 1; i <= rows; i++) {
		const national = String(900_000_000 + i)
		let phone: string
		if (i % 200 === 0) {
			phone = `12${i % 1000}`
			invalid++
		} else if (i % 500 === 1 && i > 1 && (i - 1) % 200 !== 0) {
			phone = `+51 ${String(900_000_000 + i - 1)}`
			duplicates++
		} else {
			switch (i % 4) {
				case 0:
					phone = national
					break
				case 1:
					phone = `+51 ${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`
					break
				case 2:
					phone = `0051${national}`
					break
				default:
					phone = `${national.slice(0, 3)}-${national.slice(3)}`
			}
		}
		chunk += `${phone},Cliente ${i},c${i}@mail.pe,${cities[i % cities.length]},${plans[i % plans.length]}\n`
		if (chunk.length > 65_536) {
			if (!out.write(chunk)) await once(out, 'drain')
			chunk = ''
		}
	}
	out.end(chunk)
	await once(out, 'finish')
	return {
		path,
		bytes: fs.statSync(path).size,
		rows,
		accepted: rows - invalid - duplicates,
		invalid,
		duplicates,
	}
}
