import { describe, expect, test } from 'vitest'
import { attachReactions, formatBytes } from './thread'

const text = (wamid: string, direction: 'inbound' | 'outbound' = 'outbound') => ({
	id: wamid,
	wamid,
	direction,
	content: { kind: 'text' },
})
const reaction = (
	id: string,
	target: string,
	emoji: string | null,
	direction: 'inbound' | 'outbound' = 'inbound',
) => ({
	id,
	wamid: id,
	direction,
	content: { kind: 'reaction', emoji, targetWamid: target },
})

describe('attachReactions', () => {
	test('a reaction is shown on the message it reacts to, not as its own bubble', () => {
		const result = attachReactions([text('w1'), text('w2', 'inbound'), reaction('r1', 'w1', '❤️')])
		expect(result.map((item) => item.id)).toEqual(['w1', 'w2'])
		expect(result[0].reactions).toEqual([{ emoji: '❤️', from: 'inbound' }])
		expect(result[1].reactions).toEqual([])
	})

	test('a later reaction replaces the earlier one from the same side; an empty one removes it', () => {
		const replaced = attachReactions([
			text('w1'),
			reaction('r1', 'w1', '👍'),
			reaction('r2', 'w1', '😂'),
		])
		expect(replaced[0].reactions).toEqual([{ emoji: '😂', from: 'inbound' }])
		const both = attachReactions([
			text('w1'),
			reaction('r1', 'w1', '👍'),
			reaction('r2', 'w1', '🙏', 'outbound'),
		])
		expect(both[0].reactions).toHaveLength(2)
		const removed = attachReactions([
			text('w1'),
			reaction('r1', 'w1', '👍'),
			reaction('r2', 'w1', null),
		])
		expect(removed[0].reactions).toEqual([])
		expect(removed).toHaveLength(1)
	})

	test('a reaction to a message not in view stays visible', () => {
		const result = attachReactions([text('w1'), reaction('r1', 'elsewhere', '👍')])
		expect(result.map((item) => item.id)).toEqual(['w1', 'r1'])
	})
})

test('formatBytes', () => {
	expect(formatBytes(512)).toBe('512 B')
	expect(formatBytes(28640)).toBe('28 KB')
	expect(formatBytes(1288490)).toBe('1.2 MB')
	expect(formatBytes(null)).toBeNull()
})
