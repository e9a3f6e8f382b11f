import type { BroadcastStatus } from '#db/schema/index'
import type { Audience } from './audience'

/** How the builder's audience step is answered: by filters, by an import, or everyone. */
export const AUDIENCE_MODES = ['filters', 'import', 'everyone'] as const
export type AudienceMode = (typeof AUDIENCE_MODES)[number]

/** The builder's audience mode for a stored audience, to prefill the form. */
export function audienceMode(audience: Audience | null): AudienceMode {
	if (audience?.importId) return 'import'
	if (audience?.everyone) return 'everyone'
	return 'filters'
}

/** The statuses the broadcast list can be filtered by. */
export const LIST_STATUSES = [
	'draft',
	'scheduled',
	'sending',
	'paused',
	'completed',
	'cancelled',
	'failed',
] as const satisfies readonly BroadcastStatus[]
