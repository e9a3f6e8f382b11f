/**
 * Cross-site request check for every state-changing request (OWASP CSRF cheat sheet: Fetch
 * Metadata with an Origin fallback). Browsers send at least one of the two headers on a POST; a
 * request carrying neither is refused too, since no page of ours produces one.
 */
export function isSameOriginRequest(headers: Headers, requestUrl: string) {
	const site = headers.get('sec-fetch-site')
	if (site) return site === 'same-origin' || site === 'none'
	const origin = headers.get('origin')
	if (!origin || origin === 'null') return false
	return origin === new URL(requestUrl).origin
}

export function isSafeMethod(method: string) {
	return method === 'GET' || method === 'HEAD' || method === 'OPTIONS'
}
