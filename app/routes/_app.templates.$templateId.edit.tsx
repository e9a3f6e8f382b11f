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
import {
	editorAction,
	templateEditPage,
	type EditorActionData,
} from '#app/lib/templates/editor.server'
import { EDIT_LIMITS_EXPLANATION } from '#app/lib/templates/status'
import { updateTemplate } from '#app/lib/templates/templates.server'
import templateStyles from '#app/styles/templates.css?url'
import { requireRole } from '#app/utils/auth.server'
import { db } from '#db/client'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
	{ title: `Edit ${data?.template.name ?? 'template'} · Pregón` },
]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: templateStyles }]

export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const page = await templateEditPage(db, params.templateId ?? '', user.role)
	if (!page) throw new Response('Not found', { status: 404 })
	return page
}

export async function action({ request, params }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const id = params.templateId ?? ''
	const result = await editorAction(request, (_state, definition) =>
		updateTemplate(db, user, id, { definition }),
	)
	if ('saved' in result) return redirect(`/templates/${result.saved.id}`)
	if (result.status === 404) throw new Response('Not found', { status: 404 })
	return Response.json(result, { status: result.status })
}

export default function EditTemplateRoute() {
	const { template, editable, unsupported, lockIdentity, initial, wabaIds } =
		useLoaderData<typeof loader>()
	const data = useActionData<EditorActionData>()
	return (
		<div className="page">
			<div className="page-header">
				<h1>Edit {template.name}</h1>
				<Link to={`/templates/${template.id}`} className="btn btn-ghost">
					Back to the template
				</Link>
			</div>
			{unsupported.length > 0 ? (
				<div className="alert alert-warn">
					This template uses parts the editor cannot show ({unsupported.join(', ')}). Edit it in
					WhatsApp Manager, then sync.
				</div>
			) : !editable ? (
				<div className="alert alert-warn">
					This template cannot be edited while it is {template.metaStatus ?? template.reviewState}{' '}
					on WhatsApp. Duplicate it to make a new one.
				</div>
			) : template.reviewState === 'submitted' ? (
				<div className="alert alert-warn">
					Saving starts a new version that goes through review again.{' '}
					{template.metaStatus === 'APPROVED' ? EDIT_LIMITS_EXPLANATION : ''}
				</div>
			) : null}
			{editable ? (
				<TemplateEditor
					key={data?.version ?? 0}
					initial={data?.state ?? initial}
					wabaIds={wabaIds}
					lockIdentity={lockIdentity}
					serverErrors={data?.serverErrors}
					formError={data?.formError}
					submitLabel="Save"
				/>
			) : null}
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
