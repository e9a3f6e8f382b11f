import { describe, expect, test } from 'vitest'
import { fillExamples, parseWhatsAppFormatting } from './format'

describe('parseWhatsAppFormatting', () => {
	test('bold, italic, strike, monospace', () => {
		expect(parseWhatsAppFormatting('Hi *Ann*, _soon_ ~old~ ```x = 1```')).toEqual([
			'Hi ',
			{ style: 'bold', children: ['Ann'] },
			', ',
			{ style: 'italic', children: ['soon'] },
			' ',
			{ style: 'strike', children: ['old'] },
			' ',
			{ style: 'mono', children: ['x = 1'] },
		])
	})
	test('nested styles', () => {
		expect(parseWhatsAppFormatting('*big _deal_*')).toEqual([
			{ style: 'bold', children: ['big ', { style: 'italic', children: ['deal'] }] },
		])
	})
	test('markers inside words or with inner spaces stay literal', () => {
		expect(parseWhatsAppFormatting('snake_case_name')).toEqual(['snake_case_name'])
		expect(parseWhatsAppFormatting('2 * 3 * 4')).toEqual(['2 * 3 * 4'])
		expect(parseWhatsAppFormatting('unclosed *bold')).toEqual(['unclosed *bold'])
	})
})

test('fillExamples replaces known variables and keeps unknown ones', () => {
	expect(fillExamples('Hi {{1}}, order {{2}}.', { '1': 'Ann' })).toBe('Hi Ann, order {{2}}.')
	expect(fillExamples('Hi {{first_name}}.', { first_name: 'Ann' })).toBe('Hi Ann.')
})
