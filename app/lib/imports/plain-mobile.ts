import { Metadata, type CountryCode } from 'libphonenumber-js/max'

/**
 * The common case of an import, a well-formed mobile number, answered from libphonenumber-js's own
 * metadata with regular expressions compiled once. The library compiles every pattern again for
 * every number (`new RegExp` per check), which made phone validation the largest single cost of a
 * million-row import (~5 µs a number; this path takes a fraction of that).
 *
 * It only ever says "this is the mobile +E164" and only where the library's parse is plain: digits
 * with separators, an optional leading "+" or the country's international prefix, a calling code
 * that belongs to one country, no national prefix to strip. Anything else returns undefined and
 * goes through the library (rejections too, which need its detail). `plain-mobile.test.ts`
 * compares both on many formats and countries.
 */
export function plainMobileE164(value: string, defaultCountry: CountryCode): string | undefined {
	if (value.length > MAX_PLAIN_LENGTH || !PLAIN_CHARACTERS.test(value)) return undefined
	const plus = value.indexOf('+')
	let digits = value.replace(NON_DIGITS, '')
	if (plus !== -1) {
		// One "+", before every digit.
		if (value.indexOf('+', plus + 1) !== -1 || FIRST_DIGIT.exec(value)!.index < plus) return undefined
	} else {
		const home = planFor(defaultCountry)
		if (!home) return undefined
		const idd = home.internationalPrefix.exec(digits)
		if (idd) {
			digits = digits.slice(idd[0].length)
			if (digits.startsWith('0')) return undefined
		} else if (digits.startsWith(home.callingCode)) {
			// The library may read it as a calling code written without "+".
			return undefined
		} else {
			return home.mobileNationalNumber(digits) ? `+${home.callingCode}${digits}` : undefined
		}
	}
	for (let length = 1; length <= 3; length++) {
		const country = COUNTRY_BY_CALLING_CODE.get(digits.slice(0, length))
		if (country === undefined) continue
		// A calling code shared by several countries (+1, +7, +44…) needs the library's choice.
		if (country === null) return undefined
		const plan = planFor(country)
		const national = digits.slice(length)
		return plan?.mobileNationalNumber(national) ? `+${plan.callingCode}${national}` : undefined
	}
	return undefined
}

/** Longer input is unusual; the library's own limits apply to it. */
const MAX_PLAIN_LENGTH = 40
// Separators the library strips as punctuation; tabs and other spaces take its path.
const PLAIN_CHARACTERS = /^[\d +().-]*\d[\d +().-]*$/
const NON_DIGITS = /\D/g
const FIRST_DIGIT = /\d/

type MetadataPlan = {
	callingCode(): string
	IDDPrefix(): string
	nationalNumberPattern(): string
	nationalPrefixForParsing(): string | undefined
	type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined
}

type Plan = {
	callingCode: string
	internationalPrefix: RegExp
	/** Whether the library would call this national number MOBILE or FIXED_LINE_OR_MOBILE. */
	mobileNationalNumber: (national: string) => boolean
}

const COUNTRY_BY_CALLING_CODE = new Map<string, CountryCode | null>()
{
	const metadata = new Metadata() as unknown as {
		metadata: { country_calling_codes: Record<string, string[]> }
	}
	for (const [code, countries] of Object.entries(metadata.metadata.country_calling_codes)) {
		COUNTRY_BY_CALLING_CODE.set(code, countries.length === 1 ? (countries[0] as CountryCode) : null)
	}
}

const plans = new Map<CountryCode, Plan | undefined>()

function planFor(country: CountryCode): Plan | undefined {
	if (!plans.has(country)) plans.set(country, compilePlan(country))
	return plans.get(country)
}

function compilePlan(country: CountryCode): Plan | undefined {
	const metadata = new Metadata()
	try {
		metadata.selectNumberingPlan(country)
	} catch {
		return undefined
	}
	const plan = metadata.numberingPlan as unknown as MetadataPlan
	const callingCode = plan.callingCode()
	// Brazilian numbers get a ninth digit added by normalisePhone; they always take its path.
	if (COUNTRY_BY_CALLING_CODE.get(callingCode) !== country || callingCode === '55') return undefined
	const general = entirely(plan.nationalNumberPattern())
	const nationalPrefix = plan.nationalPrefixForParsing()
	const prefix = nationalPrefix ? new RegExp(`^(?:${nationalPrefix})`) : undefined
	const typeCheck = (name: string) => {
		const type = plan.type(name)
		if (!type || !type.pattern()) return undefined
		const pattern = entirely(type.pattern())
		const lengths = type.possibleLengths()
		return (national: string) =>
			(!lengths || lengths.includes(national.length)) && pattern.test(national)
	}
	const fixedLine = typeCheck('FIXED_LINE')
	const mobile = typeCheck('MOBILE')
	const mobileSameAsFixed = plan.type('MOBILE') === undefined || plan.type('MOBILE')?.pattern() === ''
	// The order of libphonenumber-js's getNumberType: general pattern, fixed line, then mobile.
	const mobileNationalNumber = (national: string) => {
		// A national prefix the library would strip (or transform) changes the number. An empty
		// match changes nothing (Argentina's pattern, for one, matches the empty string).
		if (prefix && prefix.exec(national)?.[0]) return false
		if (!general.test(national)) return false
		if (fixedLine?.(national)) return mobileSameAsFixed || (mobile?.(national) ?? false)
		return mobile?.(national) ?? false
	}
	return {
		callingCode,
		// Unanchored and searched at 0, as the library's stripIddPrefix does.
		internationalPrefix: new RegExp(`^(?:${plan.IDDPrefix()})`),
		mobileNationalNumber,
	}
}

function entirely(pattern: string) {
	return new RegExp(`^(?:${pattern})$`)
}
