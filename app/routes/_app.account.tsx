import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { setUserTimezone } from '#app/lib/auth/users.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Your account · Pregón' }]

const zones = Intl.supportedValuesOf('timeZone')
const AccountSchema = z.object({
	timezone: z.string().refine((zone) => zone === 'UTC' || zones.includes(zone), 'Choose a timezone from the list'),
})

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	return { user: { name: user.name, email: user.email, role: user.role, timezone: user.timezone }, zones }
}

export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const parsed = AccountSchema.safeParse(Object.fromEntries(await request.formData()))
	if (!parsed.success) {
		return Response.json({ ok: false, error: parsed.error.issues[0]?.message }, { status: 400 })
	}
	await setUserTimezone(user.id, parsed.data.timezone)
	return { ok: true, error: undefined }
}

export default function AccountRoute() {
	const { user, zones } = useLoaderData<typeof loader>()
	const result = useActionData<{ ok: boolean; error?: string }>()
	return (
		<div className="page">
			<div className="page-header">
				<h1>Your account</h1>
			</div>
			<div className="card stack">
				<p>
					{user.name} · {user.email} · <span className="badge badge-blue">{user.role}</span>
				</p>
				<Form method="post" className="stack" style={{ maxWidth: 360 }}>
					<div className="field">
						<label htmlFor="timezone">Timezone (times across Pregón are shown in it)</label>
						<select id="timezone" name="timezone" defaultValue={user.timezone} aria-invalid={Boolean(result?.error)}>
							<option value="UTC">UTC</option>
							{zones.map((zone) => (
								<option key={zone} value={zone}>
									{zone}
								</option>
							))}
						</select>
						{result?.error ? <p className="field-error">{result.error}</p> : null}
					</div>
					<div>
						<button className="btn btn-primary" type="submit">
							Save
						</button>
					</div>
					{result?.ok ? <p className="alert alert-success">Saved.</p> : null}
				</Form>
			</div>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
