/**
 * WhatsApp's inline formatting (*bold*, _italic_, ~strike~, ```monospace```), parsed into a tree
 * so the preview renders it as elements rather than as HTML strings.
 */

export type FormatStyle = 'bold' | 'italic' | 'strike' | 'mono'
export type FormattedNode = string | { style: FormatStyle; children: FormattedNode[] }

const MARKERS: Record<string, FormatStyle> = { '*': 'bold', _: 'italic', '~': 'strike' }
// A marker opens after a start/space/punctuation and closes before an end/space/punctuation, with
// no space just inside it, as WhatsApp does: "a_b_c" stays plain, "_a b_" is italic.
const INLINE = /(^|[\s([{"'.,!?;:-])([*_~])([^\s*_~](?:[^\n]*?[^\s])?)\2(?=$|[\s)\]}"'.,!?;:-])/

export function parseWhatsAppFormatting(text: string): FormattedNode[] {
	const nodes: FormattedNode[] = []
	const mono = text.split('```')
	mono.forEach((part, i) => {
		// Odd parts sit between a pair of ``` fences; an unpaired trailing fence stays literal.
		if (i % 2 === 1 && i < mono.length - 1) nodes.push({ style: 'mono', children: [part] })
		else nodes.push(...parseInline(i % 2 === 1 ? '```' + part : part))
	})
	return merge(nodes)
}

function parseInline(text: string): FormattedNode[] {
	const match = INLINE.exec(text)
	if (!match) return text ? [text] : []
	const start = match.index + match[1].length
	const end = match.index + match[0].length
	return [
		...(text.slice(0, start) ? [text.slice(0, start)] : []),
		{ style: MARKERS[match[2]], children: parseInline(match[3]) },
		...parseInline(text.slice(end)),
	]
}

function merge(nodes: FormattedNode[]) {
	const out: FormattedNode[] = []
	for (const node of nodes) {
		const last = out[out.length - 1]
		if (typeof node === 'string' && typeof last === 'string') out[out.length - 1] = last + node
		else out.push(node)
	}
	return out
}

/** Replaces each `{{key}}` whose example is known; unknown ones stay visible as written. */
export function fillExamples(text: string, examples: Record<string, string>) {
	return text.replace(/\{\{([^{}]*)\}\}/g, (token, key: string) => {
		const value = examples[key]
		return value != null && value !== '' ? value : token
	})
}
