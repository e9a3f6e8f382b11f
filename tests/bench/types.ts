/** One measured figure, as written to docs/benchmarks.json. */
export type BenchFigure = {
	name: string
	value: number
	unit: string
	/** Human-readable target, e.g. ">= 950" or "< 10". */
	target: string
	/** The in-run baseline the figure is compared with (null when the issue names none). */
	baseline: number | null
	/** value / baseline (null without a baseline). */
	ratio: number | null
	ok: boolean
	note?: string
}

export type Bench = (options: { quick: boolean }) => Promise<Array<BenchFigure>>
