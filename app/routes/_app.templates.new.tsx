import {
	type ActionFunctionArgs,
	type LinksFunction,
	type LoaderFunctionArgs,
	type MetaFunction,
	redirect,
} from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { TemplateEditor } from '#app/components/template-editor'
import { editorAction, type EditorActionData } from '#app/lib/templates/editor.server'
import { emptyFormState } from '#app/lib/templates/form'
import { createDraft, listWabaIds } from '#app/lib/templates/templates.server'
import templateStyles from '#app/styles/templates.css?url'
import { requireRole } from '#app/utils/auth.server'
import { db } from '#db/client'

export const meta: MetaFunction = () => [{ title: 'New template · Pregón' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: templateStyles }]

export async function loader({ request }: LoaderFunctionArgs) {
	await requireRole(request, ['admin', 'marketer'])
	const wabaIds = await listWabaIds(db)
	return { wabaIds, initial: emptyFormState(wabaIds[0] ?? '') }
}

export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const result = await editorAction(request, (state, definition) =>
		createDraft(db, user, { wabaId: state.wabaId, definition }),
	)
	if ('saved' in result) return redirect(`/templates/${result.saved.id}`)
	return Response.json(result, { status: result.status })
}

export default function NewTemplateRoute() {
	const { wabaIds, initial } = useLoaderData<typeof loader>()
	const data = useActionData<EditorActionData>()
	return (
		<div className="page">
			<div className="page-header">
				<h1>New template</h1>
				<Link to="/templates" className="btn btn-ghost">
					Back to templates
				</Link>
			</div>
			{wabaIds.length === 0 ? (
				<div className="alert alert-warn">
					Add a sender number first (Settings → Senders): templates belong to its WhatsApp account.
				</div>
			) : null}
			<TemplateEditor
				key={data?.version ?? 0}
				initial={data?.state ?? initial}
				wabaIds={wabaIds}
				lockIdentity={false}
				serverErrors={data?.serverErrors}
				formError={data?.formError}
				submitLabel="Save draft"
			/>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
