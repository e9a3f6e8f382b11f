import { type LoaderFunctionArgs } from '@remix-run/node'
import { Outlet, useLoaderData } from '@remix-run/react'
import { AppShell } from '#app/components/app-shell'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { isSandboxMode } from '#app/lib/env.server'
import { listSenderWarnings } from '#app/lib/senders/health.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	return {
		user: { name: user.name, email: user.email, role: user.role, timezone: user.timezone },
		sandbox: isSandboxMode(),
		senderWarnings: await listSenderWarnings(),
	}
}

export default function AppLayout() {
	const { user, sandbox, senderWarnings } = useLoaderData<typeof loader>()
	return (
		<AppShell user={user} sandbox={sandbox} senderWarnings={senderWarnings}>
			<Outlet />
		</AppShell>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
