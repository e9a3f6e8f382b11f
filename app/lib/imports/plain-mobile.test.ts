import { getCountries, getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max'
import examples from 'libphonenumber-js/mobile/examples'
import { describe, expect, test } from 'vitest'
import { normalisePhone, normaliseWithLibrary } from './phone'
import { plainMobileE164 } from './plain-mobile'

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
	let state = seed
	return () => {
		state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
		return state / 2_147_483_648
	}
}

const separators = ['', ' ', '-', '.', ' - ']

function spaced(digits: string, next: () => number) {
	const separator = separators[Math.floor(next() * separators.length)]
	let out = ''
	for (let i = 0; i < digits.length; i++) {
		out += digits[i]
		if (i < digits.length - 1 && next() < 0.3) out += separator
	}
	return next() < 0.15 ? `(${out.slice(0, 3)}) ${out.slice(3)}` : out
}

/** Numbers near each country's example mobile, written the ways spreadsheets write them. */
function* candidates(seed: number) {
	const next = random(seed)
	const countries = getCountries()
	for (const country of countries) {
		const example = (examples as Record<string, string>)[country]
		if (!example) continue
		const code = getCountryCallingCode(country)
		for (let variant = 0; variant < 30; variant++) {
			let national = example
			const changed = Math.floor(next() * Math.min(5, national.length))
			national =
				national.slice(0, national.length - changed) +
				Array.from({ length: changed }, () => Math.floor(next() * 10)).join('')
			if (next() < 0.1) national = national.slice(0, -1)
			if (next() < 0.1) national += String(Math.floor(next() * 10))
			if (next() < 0.1) national = `0${national}`
			const writings = [
				spaced(national, next),
				`+${code} ${spaced(national, next)}`,
				`+${code}${national}`,
				`00${code}${national}`,
				`011 ${code} ${national}`,
				`${code}${national}`,
				`+ ${code} (0) ${national}`,
				`${national}+`,
			]
			const defaults: CountryCode[] = [country, 'PE', 'US', 'GB', 'BR', 'MX', 'AR', 'DE', 'IN']
			for (const writing of writings) {
				yield { writing, country: defaults[Math.floor(next() * defaults.length)] }
			}
		}
	}
}

describe('the fast path for plain mobile numbers', () => {
	test('never disagrees with libphonenumber-js, in any country or format', () => {
		let answered = 0
		let total = 0
		const disagreements: string[] = []
		for (const { writing, country } of candidates(20261203)) {
			total++
			const fast = plainMobileE164(writing, country)
			if (fast === undefined) continue
			answered++
			const library = normaliseWithLibrary(writing, country)
			if (!library.ok || library.e164 !== fast) {
				disagreements.push(`${country} ${JSON.stringify(writing)}: fast ${fast}, library ${JSON.stringify(library)}`)
			}
		}
		expect(disagreements).toEqual([])
		// The comparison means something only if the fast path answers a good share of them.
		expect(answered).toBeGreaterThan(total / 5)
	})

	test('answers the formats a Peruvian export contains, as the library would', () => {
		const writings = ['987654321', '+51 987 654 321', '0051987654321', '987-654321', ' (987) 654.321 ']
		for (const writing of writings) {
			expect(plainMobileE164(writing.trim(), 'PE')).toBe('+51987654321')
			expect(normaliseWithLibrary(writing.trim(), 'PE')).toEqual({ ok: true, e164: '+51987654321' })
		}
	})

	test('leaves to the library what needs its judgement', () => {
		const left = [
			['', 'PE'],
			['12345', 'PE'],
			['0987654321', 'PE'], // a national prefix to strip
			['51987654321', 'PE'], // a calling code without "+"
			['+1 415 555 2671', 'US'], // a calling code shared by several countries
			['+55 11 98765 4321', 'BR'], // Brazil's ninth digit
			['014 567890', 'PE'], // a fixed line
			['987654321 ext 5', 'PE'],
			['987\t654321', 'PE'],
			['98765432１', 'PE'], // a full-width digit
			['51+987654321', 'PE'],
		] as const
		for (const [writing, country] of left) expect(plainMobileE164(writing, country)).toBeUndefined()
	})

	test('normalisePhone gives the same answers with or without it', () => {
		for (const { writing, country } of candidates(7)) {
			expect(normalisePhone(writing, country)).toEqual(normaliseWithLibrary(writing.trim(), country))
		}
	})
})
