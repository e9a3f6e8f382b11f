import { type LoaderFunctionArgs } from '@remix-run/node'
import { openMessageMedia } from '#app/lib/messages/media.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

// Types a browser may show inline; anything else is offered as a download.
const INLINE =
	/^(image\/(png|jpeg|gif|webp)|video\/(mp4|3gpp)|audio\/(mpeg|mp4|aac|ogg|amr)(;.*)?|application\/pdf)$/i

/** A message's media, streamed from Kapso through the app (the API key stays on the server). */
export async function loader({ request, params }: LoaderFunctionArgs) {
	await requireRole(request, ALL_ROLES)
	const media = await openMessageMedia(params.messageId ?? '')
	if (!media.ok)
		throw new Response(media.status === 404 ? 'Not found' : 'Media unavailable', {
			status: media.status,
		})
	const download =
		new URL(request.url).searchParams.has('download') || !INLINE.test(media.contentType)
	const name = media.filename ?? 'media'
	const headers = new Headers({
		'Content-Type': INLINE.test(media.contentType) ? media.contentType : 'application/octet-stream',
		'Content-Disposition': `${download ? 'attachment' : 'inline'}; filename*=UTF-8''${encodeURIComponent(name)}`,
		'Cache-Control': 'private, max-age=3600',
		'X-Content-Type-Options': 'nosniff',
		// Whatever the file holds, it cannot run script in the app's origin.
		'Content-Security-Policy': "default-src 'none'; sandbox",
	})
	if (media.contentLength) headers.set('Content-Length', String(media.contentLength))
	return new Response(media.body, { status: 200, headers })
}
