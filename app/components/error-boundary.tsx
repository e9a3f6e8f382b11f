import { isRouteErrorResponse, Link, useRouteError } from '@remix-run/react'

/** Shown inside the app shell when a page's loader or action fails. */
export function GeneralErrorBoundary() {
	const error = useRouteError()
	if (isRouteErrorResponse(error)) {
		const title =
			error.status === 403 ? 'You do not have access to this page' : error.status === 404 ? 'Not found' : `Error ${error.status}`
		return (
			<div className="page">
				<div className="card stack" role="alert">
					<h1>{title}</h1>
					<p className="muted">{typeof error.data === 'string' ? error.data : error.statusText}</p>
					<p>
						<Link to="/">Go to the dashboard</Link>
					</p>
				</div>
			</div>
		)
	}
	return (
		<div className="page">
			<div className="card stack" role="alert">
				<h1>Something went wrong</h1>
				<p className="muted">The error was logged. Try again, or go back to the dashboard.</p>
			</div>
		</div>
	)
}
