import { Form, NavLink } from '@remix-run/react'
import type { ReactNode } from 'react'

export type ShellUser = { name: string; email: string; role: string }

const NAV = [
	{ to: '/', label: 'Dashboard', end: true },
	{ to: '/templates', label: 'Templates' },
	{ to: '/contacts', label: 'Contacts' },
	{ to: '/broadcasts', label: 'Broadcasts' },
	{ to: '/reports', label: 'Reports' },
	{ to: '/inbox', label: 'Inbox' },
	{ to: '/calls', label: 'Calls' },
	{ to: '/settings', label: 'Settings' },
]

/** A sender in use that is unhealthy or lost quality (see listSenderWarnings). */
export type ShellSenderWarning = { senderId: string; displayNumber: string; name: string; problems: string[] }

export function AppShell({
	user,
	sandbox,
	senderWarnings = [],
	children,
}: {
	user: ShellUser
	sandbox: boolean
	senderWarnings?: ShellSenderWarning[]
	children: ReactNode
}) {
	return (
		<div className="app">
			<a className="skip-link" href="#main">
				Skip to content
			</a>
			<aside className="sidebar">
				<a className="brand" href="/">
					Pregón
					{sandbox ? (
						<span className="badge badge-sandbox" title="No KAPSO_API_KEY: messages go to the built-in sandbox">
							Sandbox
						</span>
					) : null}
				</a>
				<nav className="nav" aria-label="Main">
					{NAV.map((item) => (
						<NavLink key={item.to} to={item.to} end={item.end} prefetch="intent">
							{item.label}
						</NavLink>
					))}
				</nav>
				<div className="sidebar-footer">
					<NavLink to="/account" data-testid="current-user">
						{user.name} · <span className="role">{user.role}</span>
					</NavLink>
					<Form method="post" action="/logout">
						<button type="submit" className="btn btn-small">
							Sign out
						</button>
					</Form>
				</div>
			</aside>
			<main className="main" id="main">
				{senderWarnings.length > 0 ? (
					<div className="alert alert-warn" role="alert" data-testid="sender-warnings" style={{ marginBottom: '1rem' }}>
						{senderWarnings.map((warning) => (
							<p key={warning.senderId} style={{ margin: 0 }}>
								<strong>Sender {warning.name || warning.displayNumber}</strong> ({warning.displayNumber}):{' '}
								{warning.problems.join('; ')}. Broadcasts that were sending on it were paused; check it before resuming.{' '}
								{user.role === 'admin' ? <a href="/settings/senders">Check the sender</a> : 'Ask an admin to check it.'}
							</p>
						))}
					</div>
				) : null}
				{children}
			</main>
		</div>
	)
}
