import { type LinksFunction, type MetaFunction } from '@remix-run/node'
import {
	isRouteErrorResponse,
	Links,
	Meta,
	Outlet,
	Scripts,
	ScrollRestoration,
	useRouteError,
} from '@remix-run/react'
import type { ReactNode } from 'react'
import appStyles from '#app/styles/app.css?url'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: appStyles }]

export const meta: MetaFunction = () => [{ title: 'Pregón' }]

export function Layout({ children }: { children: ReactNode }) {
	return (
		<html lang="en">
			<head>
				<meta charSet="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<Meta />
				<Links />
			</head>
			<body>
				{children}
				<ScrollRestoration />
				<Scripts />
			</body>
		</html>
	)
}

export default function App() {
	return <Outlet />
}

export function ErrorBoundary() {
	const error = useRouteError()
	const status = isRouteErrorResponse(error) ? error.status : 500
	const message = isRouteErrorResponse(error)
		? typeof error.data === 'string'
			? error.data
			: error.statusText
		: 'Something went wrong on our side. Try again in a moment.'
	return (
		<main className="login-page">
			<div className="card login-card stack">
				<h1>{status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Error'}</h1>
				<p>{message}</p>
				<a href="/">Back to Pregón</a>
			</div>
		</main>
	)
}
