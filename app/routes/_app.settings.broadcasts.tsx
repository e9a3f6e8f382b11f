import {
	type ActionFunctionArgs,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import {
	BroadcastSettingsSchema,
	getBroadcastSettings,
	updateBroadcastSettings,
} from '#app/lib/broadcasts/settings.server'
import { requireRole } from '#app/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Broadcast settings · Pregón' }]

export async function loader({ request }: LoaderFunctionArgs) {
	await requireRole(request, ['admin'])
	return { settings: await getBroadcastSettings() }
}

export async function action({ request }: ActionFunctionArgs) {
	const admin = await requireRole(request, ['admin'])
	const parsed = BroadcastSettingsSchema.safeParse(Object.fromEntries(await request.formData()))
	if (!parsed.success) {
		const errors: Record<string, string> = {}
		for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message
		return Response.json({ errors }, { status: 400 })
	}
	await updateBroadcastSettings(parsed.data, admin.id)
	return { message: 'Settings saved.' }
}

export default function BroadcastSettingsRoute() {
	const { settings } = useLoaderData<typeof loader>()
	const data = useActionData<{ errors?: Record<string, string>; message?: string }>()
	const errors = data?.errors ?? {}
	return (
		<div className="page">
			<div className="page-header">
				<h1>Broadcast settings</h1>
			</div>
			{data?.message ? <div className="alert alert-success">{data.message}</div> : null}
			<Form method="post" className="card stack">
				<label className="row" style={{ alignItems: 'flex-start' }}>
					<input
						type="checkbox"
						name="approvalRequired"
						defaultChecked={settings.approvalRequired}
						style={{ marginTop: '0.3rem' }}
					/>
					<span>
						<strong>Require an admin’s approval before a broadcast can be scheduled</strong>
						<br />
						<span className="muted">
							Applies to broadcasts created from now on. Any change to an approved broadcast sends
							it back for approval.
						</span>
					</span>
				</label>
				<div className="field" style={{ maxWidth: 320 }}>
					<label htmlFor="failure-pause">Pause a broadcast when recent failures reach (%)</label>
					<input
						id="failure-pause"
						name="failurePausePercent"
						type="number"
						min={1}
						max={100}
						defaultValue={settings.failurePausePercent}
						aria-invalid={Boolean(errors.failurePausePercent)}
					/>
					<span className="hint">
						Share of the last few hundred sends that failed for the recipient. 20% by default.
					</span>
					{errors.failurePausePercent ? (
						<p className="field-error">{errors.failurePausePercent}</p>
					) : null}
				</div>
				<div className="row">
					<button className="btn btn-primary" type="submit">
						Save
					</button>
				</div>
			</Form>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
