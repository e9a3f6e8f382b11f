import {
	redirect,
	type ActionFunctionArgs,
	type LinksFunction,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import { useActionData, useLoaderData } from '@remix-run/react'
import { BasicsForm, StepNav } from '#app/components/broadcast-builder'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { createFromBasics } from '#app/lib/broadcasts/builder.server'
import { senderOptions } from '#app/lib/broadcasts/queries.server'
import broadcastStyles from '#app/styles/broadcasts.css?url'
import { requireRole } from '#app/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'New broadcast · Pregón' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: broadcastStyles }]

export async function loader({ request }: LoaderFunctionArgs) {
	await requireRole(request, ['admin', 'marketer'])
	return { senders: await senderOptions() }
}

export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const result = await createFromBasics(await request.formData(), user.id)
	if (!result.ok) return Response.json({ errors: result.errors }, { status: 400 })
	return redirect(`/broadcasts/${result.data.id}/edit?step=template`)
}

export default function NewBroadcastRoute() {
	const { senders } = useLoaderData<typeof loader>()
	const data = useActionData<{ errors?: Record<string, string> }>()
	return (
		<div className="page">
			<div className="page-header">
				<h1>New broadcast</h1>
			</div>
			<StepNav broadcastId={null} current="basics" done={[]} />
			<BasicsForm
				senders={senders}
				defaults={{ name: '', senderId: senders.length === 1 ? senders[0].id : null }}
				errors={data?.errors ?? {}}
			/>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
