import { expect, test } from 'vitest'
import { csvLine, neutraliseCell } from './neutralise'

test.each([
	['=SUM(A1)', "'=SUM(A1)"],
	['+51987654321', "'+51987654321"],
	['-2+3', "'-2+3"],
	['@cmd', "'@cmd"],
	['\tTabbed', "'\tTabbed"],
	['\rReturn', `"'\rReturn"`],
	['plain', 'plain'],
	['a,b', '"a,b"'],
	['say "hi"', '"say ""hi"""'],
])('neutraliseCell(%j) → %j', (input, output) => {
	expect(neutraliseCell(input)).toBe(output)
})

test('numbers, null and undefined', () => {
	expect(neutraliseCell(-5)).toBe('-5')
	expect(neutraliseCell(null)).toBe('')
	expect(csvLine(['=1', 2, undefined])).toBe("'=1,2,\r\n")
})
