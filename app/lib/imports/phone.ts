import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max'
import { plainMobileE164 } from './plain-mobile'

/** Why a row was refused. Codes are stable (stored, exported, tested); messages are for people. */
export const REJECT_CODES = [
	'empty_phone',
	'invalid_phone',
	'not_mobile',
	'duplicate',
	'too_many_fields',
	'malformed_row',
] as const
export type RejectCode = (typeof REJECT_CODES)[number]

export type PhoneResult =
	{ ok: true; e164: string } | { ok: false; code: RejectCode; message: string }

/** Types WhatsApp numbers can have; FIXED_LINE_OR_MOBILE is what plans like the US/CA use for all. */
const MESSAGEABLE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE'])

const TYPE_LABELS: Record<string, string> = {
	FIXED_LINE: 'a fixed line',
	TOLL_FREE: 'a toll-free number',
	PREMIUM_RATE: 'a premium-rate number',
	SHARED_COST: 'a shared-cost number',
	VOIP: 'a VoIP number',
	PERSONAL_NUMBER: 'a personal number',
	PAGER: 'a pager',
	UAN: 'a company number',
	VOICEMAIL: 'a voicemail number',
}

/**
 * Turns what a spreadsheet holds ("987 654 321", "0051 987654321", "+51-987-654-321") into E.164,
 * using `country` for numbers written without a country code. Refuses empty values, values with
 * letters, numbers that are not valid in their country, and numbers known not to be mobiles.
 * Brazilian mobiles written in the pre-2016 eight-digit form get their ninth digit, so both forms
 * of one number count as the same contact.
 */
export function normalisePhone(raw: string, country: CountryCode): PhoneResult {
	const value = raw.trim()
	const plain = plainMobileE164(value, country)
	return plain ? { ok: true, e164: plain } : normaliseWithLibrary(value, country)
}

/** The whole of libphonenumber-js's parse and type check, for whatever the fast path leaves. */
export function normaliseWithLibrary(value: string, country: CountryCode): PhoneResult {
	if (value === '') return { ok: false, code: 'empty_phone', message: 'Empty phone' }
	if (/[a-z]/i.test(value.replace(/\s*(ext\.?|x|#)\s*\d+$/i, ''))) {
		return { ok: false, code: 'invalid_phone', message: 'Invalid phone number: contains letters' }
	}
	let phone = parsePhoneNumberFromString(value, country)
	if (phone?.country === 'BR' || (!phone?.country && phone?.countryCallingCode === '55')) {
		const fixed = addBrazilianNinthDigit(phone.nationalNumber)
		if (fixed) phone = parsePhoneNumberFromString(`+55${fixed}`) ?? phone
	}
	if (!phone) return { ok: false, code: 'invalid_phone', message: 'Invalid phone number' }
	// The type first: with the max metadata a number is valid exactly when it has one, and
	// isValid() would work the type out a second time (a tenth of an import's phone time).
	const type = phone.getType()
	if (type === undefined && !phone.isValid()) {
		const digits = phone.nationalNumber.length
		const detail =
			digits < 6
				? 'too short'
				: digits > 13
					? 'too long'
					: `not a valid number for +${phone.countryCallingCode}`
		return { ok: false, code: 'invalid_phone', message: `Invalid phone number: ${detail}` }
	}
	if (type && !MESSAGEABLE_TYPES.has(type)) {
		return {
			ok: false,
			code: 'not_mobile',
			message: `Not a mobile number: ${TYPE_LABELS[type] ?? type.toLowerCase()}`,
		}
	}
	return { ok: true, e164: phone.number }
}

/** Area code (2 digits) + 8-digit subscriber starting 6–9 is an old-style mobile. */
function addBrazilianNinthDigit(national: string) {
	if (national.length !== 10) return undefined
	const subscriber = national.slice(2)
	return /^[6-9]/.test(subscriber) ? `${national.slice(0, 2)}9${subscriber}` : undefined
}

/** Compact form for passing results between threads: "+…" or "code\tmessage". */
export function encodePhoneResult(result: PhoneResult) {
	return result.ok ? result.e164 : `${result.code}\t${result.message}`
}
