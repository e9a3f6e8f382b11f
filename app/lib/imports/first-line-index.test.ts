import { expect, test } from 'vitest'
import { FirstLineIndex } from './first-line-index'

test('remembers the first line of each number across growth', () => {
	const index = new FirstLineIndex(4)
	for (let i = 1; i <= 50_000; i++) expect(index.firstLine(`+51${900_000_000 + i}`, i + 1)).toBe(0)
	expect(index.firstLine('+51900000001', 999_999)).toBe(2)
	expect(index.firstLine('+51900050000', 999_999)).toBe(50_001)
	expect(index.firstLine('+447911123456', 7)).toBe(0)
	expect(index.firstLine('+447911123456', 9)).toBe(7)
})
