import {
	type ActionFunctionArgs,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { ConfirmButton } from '#app/components/ui/confirm-button'
import { DEFAULT_OPT_OUT_KEYWORDS } from '#app/lib/webhooks/events'
import {
	getOptOutKeywords,
	MAX_KEYWORD_LENGTH,
	OptOutKeywordsSchema,
	restoreDefaultOptOutKeywords,
	saveOptOutKeywords,
} from '#app/lib/webhooks/opt-out-keywords.server'
import { requireRole } from '#app/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Opt-out keywords · Pregón' }]

const IntentSchema = z.object({ intent: z.enum(['save', 'restore']) })

type ActionData = { errors?: Record<string, string>; message?: string }

export async function loader({ request }: LoaderFunctionArgs) {
	await requireRole(request, ['admin'])
	return {
		...(await getOptOutKeywords()),
		defaults: DEFAULT_OPT_OUT_KEYWORDS,
		maxLength: MAX_KEYWORD_LENGTH,
	}
}

export async function action({ request }: ActionFunctionArgs) {
	const admin = await requireRole(request, ['admin'])
	const form = Object.fromEntries(await request.formData())
	const intent = IntentSchema.safeParse(form)
	if (!intent.success)
		return Response.json({ errors: { form: 'Invalid request' } }, { status: 400 })
	if (intent.data.intent === 'restore') {
		await restoreDefaultOptOutKeywords(admin.id)
		return { message: 'Default keywords restored.' } satisfies ActionData
	}
	const parsed = OptOutKeywordsSchema.safeParse(form)
	if (!parsed.success) {
		const errors: Record<string, string> = {}
		for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message
		return Response.json({ errors }, { status: 400 })
	}
	const saved = await saveOptOutKeywords(parsed.data, admin.id)
	return { message: `Saved ${saved.length} keyword(s).` } satisfies ActionData
}

export default function OptOutKeywordsRoute() {
	const { keywords, isDefault, defaults, maxLength } = useLoaderData<typeof loader>()
	const data = useActionData<ActionData>()
	const errors = data?.errors ?? {}
	return (
		<div className="page">
			<div className="page-header">
				<h1>Opt-out keywords</h1>
			</div>
			{errors.form ? <div className="alert alert-error">{errors.form}</div> : null}
			{data?.message ? <div className="alert alert-success">{data.message}</div> : null}
			<Form method="post" className="card stack">
				<input type="hidden" name="intent" value="save" />
				<p className="muted">
					A contact who replies with exactly one of these words is opted out of broadcasts. Case,
					accents and punctuation are ignored: “baja.” matches BAJA.
				</p>
				<div className="field" style={{ maxWidth: 420 }}>
					<label htmlFor="opt-out-keywords">
						Keywords{' '}
						<span className={`badge badge-${isDefault ? 'gray' : 'blue'}`}>
							{isDefault ? 'Defaults' : 'Custom list'}
						</span>
					</label>
					<textarea
						id="opt-out-keywords"
						name="keywords"
						rows={12}
						// Remount after a save so the list shows what was stored (trimmed, without duplicates).
						key={keywords.join('\n')}
						defaultValue={keywords.join('\n')}
						aria-invalid={Boolean(errors.keywords)}
						aria-describedby="opt-out-keywords-hint"
					/>
					<span className="hint" id="opt-out-keywords-hint">
						One per line or separated by commas, up to {maxLength} characters each.
					</span>
					{errors.keywords ? <p className="field-error">{errors.keywords}</p> : null}
				</div>
				<div className="row">
					<button className="btn btn-primary" type="submit">
						Save
					</button>
				</div>
			</Form>
			{isDefault ? null : (
				<div className="card stack">
					<p className="muted">Defaults: {defaults.join(', ')}</p>
					<div className="row">
						<ConfirmButton
							fields={{ intent: 'restore' }}
							confirm="Replace your keyword list with the defaults? Your custom keywords are removed."
							className="btn"
						>
							Restore defaults
						</ConfirmButton>
					</div>
				</div>
			)}
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
