import { type LoaderFunctionArgs } from '@remix-run/node'
import { exportContactsCsv } from '#app/lib/contacts/contacts.server'
import { filterFromSearchParams } from '#app/lib/contacts/filters'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

/** The filtered contact list as a CSV download, streamed; analysts get masked phone numbers. */
export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const filter = filterFromSearchParams(new URL(request.url).searchParams)
	const lines = exportContactsCsv(filter, { maskPhones: user.role === 'analyst' })
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
	const stamp = new Date().toISOString().slice(0, 10)
	return new Response(body, {
		headers: {
			'Content-Type': 'text/csv; charset=utf-8',
			'Content-Disposition': `attachment; filename="contacts-${stamp}.csv"`,
			'Cache-Control': 'no-store',
		},
	})
}
