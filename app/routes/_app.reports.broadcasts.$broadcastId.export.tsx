import { type LoaderFunctionArgs } from '@remix-run/node'
import { exportRecipientsCsv } from '#app/lib/reports/broadcast-report.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

/** CSV of a broadcast's recipient table (same state filter and search as the page), streamed. */
export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const query = Object.fromEntries(new URL(request.url).searchParams)
	const csv = await exportRecipientsCsv(params.broadcastId ?? '', query, user)
	if (!csv) throw new Response('Not found', { status: 404 })
	return new Response(csv.stream, {
		headers: {
			'Content-Type': 'text/csv; charset=utf-8',
			'Content-Disposition': `attachment; filename="${csv.filename}"`,
			'Cache-Control': 'no-store',
		},
	})
}
