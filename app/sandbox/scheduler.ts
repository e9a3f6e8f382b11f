/**
 * One timer for everything the sandbox does later (statuses, replies, delayed or retried
 * webhooks): a binary min-heap on due time, drained by a single timeout. Thousands of sends per
 * second would otherwise mean thousands of timers.
 */
export type Job = { due: number; seq: number; run: () => void }

export function createScheduler() {
	const heap: Job[] = []
	let seq = 0
	let timer: NodeJS.Timeout | null = null
	let timerDue = Infinity
	let stopped = false

	function up(index: number) {
		const job = heap[index]
		while (index > 0) {
			const parent = (index - 1) >> 1
			if (!before(job, heap[parent])) break
			heap[index] = heap[parent]
			index = parent
		}
		heap[index] = job
	}

	function down(index: number) {
		const job = heap[index]
		const length = heap.length
		for (;;) {
			let child = index * 2 + 1
			if (child >= length) break
			if (child + 1 < length && before(heap[child + 1], heap[child])) child++
			if (!before(heap[child], job)) break
			heap[index] = heap[child]
			index = child
		}
		heap[index] = job
	}

	function before(a: Job, b: Job) {
		return a.due < b.due || (a.due === b.due && a.seq < b.seq)
	}

	function pop(): Job | undefined {
		const top = heap[0]
		const last = heap.pop()
		if (heap.length > 0 && last) {
			heap[0] = last
			down(0)
		}
		return top
	}

	function arm() {
		if (stopped || heap.length === 0) return
		const due = heap[0].due
		if (timer && due >= timerDue) return
		if (timer) clearTimeout(timer)
		timerDue = due
		timer = setTimeout(drain, Math.max(0, due - Date.now()))
	}

	function drain() {
		timer = null
		timerDue = Infinity
		const now = Date.now()
		// Bounded per tick so a huge backlog never starves the HTTP server.
		let budget = 5000
		while (heap.length > 0 && heap[0].due <= now && budget-- > 0) {
			const job = pop()!
			try {
				job.run()
			} catch (error) {
				console.error('[sandbox] scheduled job failed', error)
			}
		}
		if (heap.length > 0 && heap[0].due <= now) {
			timerDue = now
			timer = setTimeout(drain, 0)
		} else arm()
	}

	return {
		at(due: number, run: () => void) {
			heap.push({ due, seq: seq++, run })
			up(heap.length - 1)
			arm()
		},
		after(delayMs: number, run: () => void) {
			this.at(Date.now() + delayMs, run)
		},
		get size() {
			return heap.length
		},
		clear() {
			heap.length = 0
			if (timer) clearTimeout(timer)
			timer = null
			timerDue = Infinity
		},
		stop() {
			stopped = true
			this.clear()
		},
	}
}

export type Scheduler = ReturnType<typeof createScheduler>
