import { type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import {
	getLastHistoryImports,
	requestHistoryImport,
	type ImportOutcome,
} from '#app/lib/inbox/import.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime, formatNumber } from '#app/utils/format'

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	return {
		canImport: user.role !== 'analyst',
		lastImports: await getLastHistoryImports(),
		timezone: user.timezone,
	}
}

export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	await requestHistoryImport(user.id)
	return {
		message:
			'History import started. Conversations from Kapso appear in the list as they are copied.',
	}
}

/** The import runs in the worker, so this is the only place a refused key or a Kapso outage shows. */
function ImportOutcomeNotice({
	label,
	outcome,
	timeZone,
}: {
	label: string
	outcome: ImportOutcome | null
	timeZone: string
}) {
	if (!outcome) return null
	const at = formatDateTime(outcome.finishedAt, timeZone)
	if (!outcome.ok)
		return (
			<div className="alert alert-error" role="alert">
				{label} failed at {at}: {outcome.message}
			</div>
		)
	return (
		<p className="muted" role="status">
			{label} finished at {at}: {formatNumber(outcome.conversations)} conversations,{' '}
			{formatNumber(outcome.inserted)} new messages ({formatNumber(outcome.skipped)} already
			stored).
		</p>
	)
}

export default function InboxIndex() {
	const { canImport, lastImports, timezone } = useLoaderData<typeof loader>()
	const result = useActionData<typeof action>()
	const navigation = useNavigation()
	return (
		<div className="inbox-placeholder">
			<div className="empty-state">
				<h2>Select a conversation</h2>
				<p>Pick a conversation on the left to read it and answer.</p>
			</div>
			{lastImports.full || lastImports.recent ? (
				<div className="stack inbox-import">
					<ImportOutcomeNotice
						label="Last full history import"
						outcome={lastImports.full}
						timeZone={timezone}
					/>
					<ImportOutcomeNotice
						label="Last scheduled copy of recent conversations"
						outcome={lastImports.recent}
						timeZone={timezone}
					/>
				</div>
			) : null}
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
