import { type LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { getImport, importErrorsCsv } from '#app/lib/imports/imports.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

/** The rejected rows of an import as a CSV download (line, value, code, reason), streamed. */
export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const id = z.uuid().safeParse(params.importId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const row = await getImport(id.data)
	if (!row) throw new Response('Not found', { status: 404 })
	const lines = importErrorsCsv(row.id, { maskValues: user.role === 'analyst' })
	const encoder = new TextEncoder()
	const body = new ReadableStream<Uint8Array>({
		async pull(controller) {
			const next = await lines.next()
			if (next.done) controller.close()
			else controller.enqueue(encoder.encode(next.value))
		},
		async cancel() {
			await lines.return(undefined)
		},
	})
	const base = row.fileName.replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_') || 'import'
	return new Response(body, {
		headers: {
			'Content-Type': 'text/csv; charset=utf-8',
			'Content-Disposition': `attachment; filename="${base}-rejected-rows.csv"`,
			'Cache-Control': 'no-store',
		},
	})
}
