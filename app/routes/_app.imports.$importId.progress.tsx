import { type LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { importProgress } from '#app/lib/imports/imports.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

/** The counters the import page polls every second while the import runs. */
export async function loader({ request, params }: LoaderFunctionArgs) {
	await requireRole(request, ALL_ROLES)
	const id = z.uuid().safeParse(params.importId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const progress = await importProgress(id.data)
	if (!progress) throw new Response('Not found', { status: 404 })
	return Response.json(progress, { headers: { 'Cache-Control': 'no-store' } })
}
