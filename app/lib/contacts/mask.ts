/**
 * A phone number as analysts see it: the first three characters (the "+" and the start of the
 * country code) and the last three digits, the rest hidden: "+51••••••321". Enough to tell
 * contacts apart without exposing the number.
 */
export function maskPhone(phone: string | null | undefined) {
	if (!phone) return ''
	if (phone.length <= 6) return '•'.repeat(phone.length)
	return `${phone.slice(0, 3)}${'•'.repeat(phone.length - 6)}${phone.slice(-3)}`
}
