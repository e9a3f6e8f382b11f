import { type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Settings · Pregón' }]

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	return { isAdmin: user.role === 'admin' }
}

export default function SettingsRoute() {
	const { isAdmin } = useLoaderData<typeof loader>()
	return (
		<div className="page">
			<div className="page-header">
				<h1>Settings</h1>
			</div>
			<div className="card stack">
				<Link to="/account">Your account and timezone</Link>
				{isAdmin ? (
					<>
						<Link to="/settings/users">Users and roles</Link>
						<Link to="/settings/senders">Sender numbers</Link>
						<Link to="/settings/broadcasts">Broadcasts: approval and auto-pause</Link>
						<Link to="/settings/opt-out-keywords">Opt-out keywords</Link>
					</>
				) : (
					<p className="muted">
						Users, sender numbers and opt-out keywords are managed by an admin.
					</p>
				)}
			</div>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
