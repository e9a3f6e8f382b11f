import { sql } from 'drizzle-orm'

/**
 * The ids of an import's accepted contacts (inserted, updated or unchanged), for `id in (…)`: its
 * one-per-contact links plus the blocks of ids it created (see `importContactRanges`). A range may
 * hold the id of a contact deleted since; it matches no contact any more.
 */
export function importContactIds(importId: string) {
	return sql`(
		select ic.contact_id from import_contacts ic where ic.import_id = ${importId}::uuid
		union all
		select created.id from import_contact_ranges r
			cross join generate_series(r.first_id, r.last_id) as created(id)
		where r.import_id = ${importId}::uuid
	)`
}
