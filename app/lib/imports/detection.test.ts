import { expect, test } from 'vitest'
import { detectDelimiter } from './delimiter'
import { detectEncoding } from './encoding'
import { detectPhoneColumn, uniqueHeaders } from './headers'
import { defaultColumns } from './mapping'
import { normalisePhone } from './phone'

test('encoding: BOMs, valid UTF-8, UTF-16 without BOM, else Windows-1252', () => {
	expect(detectEncoding(Buffer.from('\ufeffphone\n', 'utf8'))).toEqual({
		encoding: 'utf-8',
		bomLength: 3,
	})
	expect(detectEncoding(Buffer.from([0xff, 0xfe, 0x70, 0x00]))).toEqual({
		encoding: 'utf-16le',
		bomLength: 2,
	})
	expect(detectEncoding(Buffer.from([0xfe, 0xff, 0x00, 0x70]))).toEqual({
		encoding: 'utf-16be',
		bomLength: 2,
	})
	expect(detectEncoding(Buffer.from('teléfono;ñ\n', 'utf8')).encoding).toBe('utf-8')
	expect(detectEncoding(Buffer.from('phone,name\n', 'utf16le')).encoding).toBe('utf-16le')
	expect(detectEncoding(Buffer.from('tel\xe9fono;Pe\xf1a\n', 'latin1')).encoding).toBe(
		'windows-1252',
	)
	// A multi-byte character cut by the end of the sample is still UTF-8.
	expect(detectEncoding(Buffer.from('abc é', 'utf8').subarray(0, 5)).encoding).toBe('utf-8')
})

test('delimiter: the one that splits lines consistently, ignoring quoted ones', () => {
	expect(detectDelimiter('phone,name\n1,a\n2,b\n')).toBe(',')
	expect(detectDelimiter('phone;name;city\n1;"Pérez, Ana";Lima\n2;b;c\n')).toBe(';')
	expect(detectDelimiter('phone\tname\n1\ta, b\n2\tc\n')).toBe('\t')
	expect(detectDelimiter('phone\n1\n2\n')).toBe(',')
})

test('headers: phone column found whatever the case, accents and spaces; repeats made unique', () => {
	expect(detectPhoneColumn(['Nombre', ' TELÉFONO '])).toBe(1)
	expect(detectPhoneColumn(['name', 'Número de WhatsApp'])).toBe(1)
	expect(detectPhoneColumn(['name', 'Celular'])).toBe(1)
	expect(detectPhoneColumn(['mobile number', 'phone'])).toBe(1)
	expect(detectPhoneColumn(['name', 'city'])).toBe(-1)
	expect(uniqueHeaders(['Name', 'name', '', 'NAME'])).toEqual([
		'Name',
		'name (2)',
		'column_3',
		'NAME (3)',
	])
	expect(defaultColumns(['Teléfono', 'Nombre', 'E-mail', 'Fecha de alta', 'Nombre (2)'])).toEqual([
		{ index: 0, header: 'Teléfono', target: 'phone' },
		{ index: 1, header: 'Nombre', target: 'name' },
		{ index: 2, header: 'E-mail', target: 'email' },
		{ index: 3, header: 'Fecha de alta', target: 'attribute', key: 'fecha_de_alta' },
		{ index: 4, header: 'Nombre (2)', target: 'attribute', key: 'nombre_2' },
	])
})

test.each([
	['987654321', 'PE', { ok: true, e164: '+51987654321' }],
	['+51 987-654-321', 'PE', { ok: true, e164: '+51987654321' }],
	['0051987654321', 'PE', { ok: true, e164: '+51987654321' }],
	['+55 11 8765-4321', 'PE', { ok: true, e164: '+5511987654321' }],
	['(212) 555-0123', 'US', { ok: true, e164: '+12125550123' }],
	['   ', 'PE', { ok: false, code: 'empty_phone', message: 'Empty phone' }],
	[
		'014567890',
		'PE',
		{ ok: false, code: 'not_mobile', message: 'Not a mobile number: a fixed line' },
	],
	[
		'98765432a',
		'PE',
		{ ok: false, code: 'invalid_phone', message: 'Invalid phone number: contains letters' },
	],
	['1234', 'PE', { ok: false, code: 'invalid_phone', message: 'Invalid phone number: too short' }],
] as const)('normalisePhone(%j, %s)', (raw, country, expected) => {
	expect(normalisePhone(raw, country)).toEqual(expected)
})
