import { type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { requestHistoryImport } from '#app/lib/inbox/import.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	return { canImport: user.role !== 'analyst' }
}

export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	await requestHistoryImport(user.id)
	return {
		message:
			'History import started. Conversations from Kapso appear in the list as they are copied.',
	}
}

export default function InboxIndex() {
	const { canImport } = useLoaderData<typeof loader>()
	const result = useActionData<typeof action>()
	const navigation = useNavigation()
	return (
		<div className="inbox-placeholder">
			<div className="empty-state">
				<h2>Select a conversation</h2>
				<p>Pick a conversation on the left to read it and answer.</p>
			</div>
			{canImport ? (
				<Form method="post" className="stack inbox-import">
					<p className="muted">
						Messages from before Pregón are copied from Kapso every 10 minutes for recent
						conversations. Copy the whole history now:
					</p>
					<button className="btn" type="submit" disabled={navigation.state === 'submitting'}>
						Import history from Kapso
					</button>
					{result?.message ? (
						<div className="alert alert-success" role="status">
							{result.message}
						</div>
					) : null}
				</Form>
			) : null}
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
