/**
 * Remembers, for every accepted phone number of an import, the line it first appeared on, so a
 * later row with the same number is refused as "duplicate of line N". E.164 numbers have at most
 * 15 digits, so each fits exactly in a float64: an open-addressing table of two typed arrays holds
 * a million numbers in about 24 MB, where a Map of strings would take several times that.
 */
export class FirstLineIndex {
	private keys: Float64Array
	private lines: Int32Array
	private mask: number
	private size = 0

	constructor(capacity = 1 << 16) {
		this.keys = new Float64Array(capacity)
		this.lines = new Int32Array(capacity)
		this.mask = capacity - 1
	}

	/** Records `line` for `e164` unless seen before; returns the earlier line, or 0 when new. */
	firstLine(e164: string, line: number) {
		const key = Number(e164.slice(1))
		let slot = this.slotOf(key)
		while (this.keys[slot] !== 0) {
			if (this.keys[slot] === key) return this.lines[slot]
			slot = (slot + 1) & this.mask
		}
		this.keys[slot] = key
		this.lines[slot] = line
		if (++this.size * 2 > this.keys.length) this.grow()
		return 0
	}

	private slotOf(key: number) {
		const low = key % 4294967296
		const high = Math.floor(key / 4294967296)
		return (Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b) >>> 0) & this.mask
	}

	private grow() {
		const { keys, lines } = this
		this.keys = new Float64Array(keys.length * 2)
		this.lines = new Int32Array(keys.length * 2)
		this.mask = this.keys.length - 1
		for (let i = 0; i < keys.length; i++) {
			if (keys[i] === 0) continue
			let slot = this.slotOf(keys[i])
			while (this.keys[slot] !== 0) slot = (slot + 1) & this.mask
			this.keys[slot] = keys[i]
			this.lines[slot] = lines[i]
		}
	}
}
