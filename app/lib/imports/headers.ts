/**
 * Header handling for the mapping step: comparison keys that ignore case, accents, spaces and
 * punctuation; unique names when a file repeats a header; and the phone column guess.
 */

/** "Teléfono Móvil " → "telefonomovil". */
export function headerKey(header: string) {
	return header
		.normalize('NFD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^a-z0-9]/g, '')
}

/** A custom attribute key usable as a template variable: "Fecha de alta" → "fecha_de_alta". */
export function attributeKey(header: string) {
	const key = header
		.normalize('NFD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.trim()
		.replace(/[^a-z0-9]+/g, '_')
		.replace(/^_+|_+$/g, '')
	return key === '' ? 'column' : key.slice(0, 60)
}

/**
 * Trims header names, names empty ones after their position ("column_3") and makes repeats
 * unique by suffixing " (2)", " (3)", … so every column can be mapped on its own.
 */
export function uniqueHeaders(raw: ReadonlyArray<string>) {
	const seen = new Map<string, number>()
	return raw.map((value, index) => {
		const base = value.trim() === '' ? `column_${index + 1}` : value.trim()
		const key = base.toLowerCase()
		const count = (seen.get(key) ?? 0) + 1
		seen.set(key, count)
		return count === 1 ? base : `${base} (${count})`
	})
}

const PHONE_KEYS = [
	'phone',
	'phonenumber',
	'telefono',
	'numerodetelefono',
	'tel',
	'celular',
	'cel',
	'mobile',
	'mobilephone',
	'mobilenumber',
	'movil',
	'cellphone',
	'cell',
	'whatsapp',
	'whatsappnumber',
	'numerowhatsapp',
	'wa',
	'waid',
	'msisdn',
	'number',
	'numero',
	'telefone',
	'contactnumber',
]
const PHONE_FRAGMENTS = ['phone', 'telef', 'celular', 'mobile', 'movil', 'whatsapp', 'msisdn']

/** Index of the column that most likely holds the phone number, or -1. Exact names win over partial ones. */
export function detectPhoneColumn(headers: ReadonlyArray<string>) {
	const keys = headers.map(headerKey)
	for (const candidate of PHONE_KEYS) {
		const index = keys.indexOf(candidate)
		if (index !== -1) return index
	}
	return keys.findIndex((key) => PHONE_FRAGMENTS.some((fragment) => key.includes(fragment)))
}

const NAME_KEYS = [
	'name',
	'nombre',
	'fullname',
	'nombrecompleto',
	'nombres',
	'contactname',
	'customername',
	'cliente',
]
const EMAIL_KEYS = ['email', 'correo', 'mail', 'emailaddress', 'correoelectronico', 'email1']
const OPT_OUT_KEYS = [
	'optout',
	'optedout',
	'unsubscribed',
	'baja',
	'donotcontact',
	'noenviar',
	'stop',
]

/** What a column most likely is, for the mapping step's defaults. */
export function guessColumnTarget(header: string): 'name' | 'email' | 'opt_out' | undefined {
	const key = headerKey(header)
	if (NAME_KEYS.includes(key)) return 'name'
	if (EMAIL_KEYS.includes(key)) return 'email'
	if (OPT_OUT_KEYS.includes(key)) return 'opt_out'
	return undefined
}
