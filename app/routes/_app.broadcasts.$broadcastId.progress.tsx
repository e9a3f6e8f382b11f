import { type LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { broadcastProgress } from '#app/lib/broadcasts/queries.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

/** The live counters the broadcast page polls every 2 seconds while it sends. */
export async function loader({ request, params }: LoaderFunctionArgs) {
	await requireRole(request, ALL_ROLES)
	const id = z.uuid().safeParse(params.broadcastId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const progress = await broadcastProgress(id.data)
	if (!progress) throw new Response('Not found', { status: 404 })
	return Response.json(progress, { headers: { 'Cache-Control': 'no-store' } })
}
