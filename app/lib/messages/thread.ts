/**
 * Reactions belong on the message they react to, as WhatsApp shows them, not as bubbles of their
 * own. Shared by the server (history) and the browser (the conversation view).
 */

type Reactable = {
	wamid?: string | null
	direction: 'inbound' | 'outbound'
	content: { kind: string; emoji?: string | null; targetWamid?: string | null }
}

export type Reaction = { emoji: string; from: 'inbound' | 'outbound' }

/**
 * Moves each reaction onto its target (in order; a later reaction from the same side replaces the
 * earlier one, and an empty emoji removes it, as in WhatsApp). A reaction whose target is not in
 * the list stays where it is, so nothing silently disappears.
 */
export function attachReactions<T extends Reactable>(
	items: T[],
): Array<T & { reactions: Reaction[] }> {
	const byWamid = new Map<string, Map<'inbound' | 'outbound', string | null>>()
	const present = new Set(
		items.map((item) => item.wamid).filter((wamid): wamid is string => Boolean(wamid)),
	)
	const kept: T[] = []
	for (const item of items) {
		const target = item.content.kind === 'reaction' ? item.content.targetWamid : null
		if (target && present.has(target)) {
			const sides = byWamid.get(target) ?? new Map()
			sides.set(item.direction, item.content.emoji || null)
			byWamid.set(target, sides)
			continue
		}
		kept.push(item)
	}
	return kept.map((item) => {
		const sides = item.wamid ? byWamid.get(item.wamid) : undefined
		const reactions: Reaction[] = []
		for (const [from, emoji] of sides ?? []) if (emoji) reactions.push({ emoji, from })
		return { ...item, reactions }
	})
}

/** `1.2 MB`, `834 KB`, `512 B`. */
export function formatBytes(bytes: number | null | undefined) {
	if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return null
	if (bytes < 1024) return `${bytes} B`
	if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`
	return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
}
