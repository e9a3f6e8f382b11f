/**
 * Contacts list benchmark: 1,000,000 contacts (100,000 with --quick) with names, emails, tags,
 * attributes and some opt-outs, search text indexed the way the index_contact_search job does it,
 * then the list's own queries (listContacts) timed: substring searches (rare and common), phone
 * digits, attribute values, tag and opt-out filters, and a deep keyset page. Median of 7 runs each;
 * the figure is the slowest median. Baseline: the same searches without the trigram index
 * (an ILIKE scan), the approach it replaces.
 *
 * Usage: DATABASE_URL=<fresh migrated db> npx tsx tests/bench/run-one.ts tests/bench/contacts-search.ts benchContactsSearch [--quick]
 */
import type { BenchFigure } from './types'

export async function benchContactsSearch({
	quick,
}: {
	quick: boolean
}): Promise<Array<BenchFigure>> {
	if (!process.env.DATABASE_URL)
		throw new Error('DATABASE_URL must point at a fresh migrated database')
	const { sql, closeDatabase } = await import('#db/client')
	const { listContacts } = await import('#app/lib/contacts/contacts.server')
	const { ContactFilterSchema } = await import('#app/lib/contacts/filters')
	const { indexPendingContacts } = await import('#app/lib/contacts/search-index.server')
	const total = quick ? 100_000 : 1_000_000
	try {
		let started = performance.now()
		await sql`
			insert into contacts (phone_e164, name, email, attributes, tags, opted_out_at, opt_out_source)
			select '+519' || lpad(g::text, 8, '0'),
				(array['María','José','Luis','Ana','Jorge','Rosa','Carlos','Lucía'])[1 + g % 8] || ' ' ||
					(array['Quispe','Flores','Sánchez','Rojas','Díaz','Torres','Mamani','Vargas'])[1 + (g / 8) % 8] || ' ' || g,
				'user' || g || '@mail.pe',
				jsonb_build_object('city', (array['Lima','Arequipa','Cusco','Piura'])[1 + g % 4], 'code', 'C' || (g::bigint * 7919) % 1000003),
				case when g % 10 = 0 then array['vip'] when g % 3 = 0 then array['newsletter'] else array[]::text[] end,
				case when g % 50 = 0 then now() end,
				case when g % 50 = 0 then 'keyword'::opt_out_source end
			from generate_series(1, ${total}) g
		`
		console.log(
			`seeded ${total.toLocaleString('en')} contacts in ${((performance.now() - started) / 1000).toFixed(1)} s`,
		)
		started = performance.now()
		await indexPendingContacts({ batchSize: 50_000 })
		await sql`vacuum analyze contacts`
		console.log(`indexed search text in ${((performance.now() - started) / 1000).toFixed(1)} s`)

		const deep = await sql<
			Array<{ id: number }>
		>`select id from contacts order by id desc offset ${Math.floor(total / 2)} limit 1`
		const cases: Array<{ name: string; filter: Record<string, string>; before?: number }> = [
			{ name: 'no filter, first page', filter: {} },
			{ name: 'deep keyset page', filter: {}, before: deep[0].id },
			{ name: 'rare name substring', filter: { q: 'quispe 12345' } },
			{ name: 'common name', filter: { q: 'maria' } },
			{ name: 'phone digits', filter: { q: '987 654' } },
			{ name: 'attribute value', filter: { q: 'c424242' } },
			{ name: 'no match', filter: { q: 'zzqxw' } },
			{ name: 'tag filter (10%)', filter: { tag: 'vip' } },
			{ name: 'opted out (2%)', filter: { optOut: 'opted_out' } },
			{ name: 'tag + search', filter: { tag: 'vip', q: 'rosa' } },
		]
		// Warm the pool's connections so the first case does not pay for connecting.
		await Promise.all(Array.from({ length: 4 }, () => listContacts(ContactFilterSchema.parse({}))))
		const medians: Array<{ name: string; ms: number }> = []
		for (const item of cases) {
			const filter = ContactFilterSchema.parse(item.filter)
			const times: number[] = []
			for (let i = 0; i < 7; i++) {
				const t = performance.now()
				await listContacts(filter, { before: item.before })
				times.push(performance.now() - t)
			}
			times.sort((a, b) => a - b)
			medians.push({ name: item.name, ms: times[3] })
			console.log(`${item.name}: median ${times[3].toFixed(1)} ms (max ${times[6].toFixed(1)})`)
		}
		const baselineTimes: number[] = []
		for (let i = 0; i < 3; i++) {
			const t = performance.now()
			await sql`select id from contacts where name ilike '%quispe 12345%' or email ilike '%quispe 12345%' or attributes::text ilike '%quispe 12345%' order by id desc limit 51`
			baselineTimes.push(performance.now() - t)
		}
		const baseline = baselineTimes.sort((a, b) => a - b)[1]
		const worst = medians.reduce((a, b) => (b.ms > a.ms ? b : a))
		const label = quick ? '100k' : '1M'
		return [
			{
				name: `contacts_list_${label}_slowest_median_ms`,
				value: Math.round(worst.ms * 10) / 10,
				unit: 'ms',
				target: '< 100',
				baseline: Math.round(baseline),
				ratio: Math.round((worst.ms / baseline) * 1000) / 1000,
				ok: worst.ms < 100,
				note: `slowest: ${worst.name}; baseline = ILIKE scan without the trigram index`,
			},
			...medians.map((m) => ({
				name: `contacts_list_${label}_${m.name.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_ms`,
				value: Math.round(m.ms * 10) / 10,
				unit: 'ms',
				target: '< 100',
				baseline: null,
				ratio: null,
				ok: m.ms < 100,
			})),
		]
	} finally {
		await closeDatabase()
	}
}
