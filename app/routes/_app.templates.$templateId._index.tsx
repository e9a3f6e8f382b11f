import {
	type ActionFunctionArgs,
	type LinksFunction,
	type LoaderFunctionArgs,
	type MetaFunction,
	redirect,
} from '@remix-run/node'
import {
	Form,
	Link,
	useActionData,
	useLoaderData,
	useNavigation,
	useRevalidator,
} from '@remix-run/react'
import { useEffect } from 'react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { TemplatePreview } from '#app/components/template-preview'
import { ConfirmButton } from '#app/components/ui/confirm-button'
import { getKapsoGateway } from '#app/lib/kapso/gateway.server'
import type { TemplateComponent } from '#app/lib/templates/definition'
import { languageName } from '#app/lib/templates/languages'
import {
	EDIT_LIMITS_EXPLANATION,
	metaStatusInfo,
	REVIEW_STATE_LABEL,
	reviewStateTone,
} from '#app/lib/templates/status'
import {
	approveTemplate,
	deleteTemplate,
	duplicateTemplate,
	requestChanges,
	sendForReview,
	TemplateError,
	templatePage,
} from '#app/lib/templates/templates.server'
import templateStyles from '#app/styles/templates.css?url'
import { requireRole } from '#app/utils/auth.server'
import { formatDateTime } from '#app/utils/format'
import { db } from '#db/client'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
	{ title: `${data?.template.name ?? 'Template'} · Pregón` },
]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: templateStyles }]

export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer', 'analyst'])
	const page = await templatePage(db, params.templateId ?? '', user.role)
	if (!page) throw new Response('Not found', { status: 404 })
	return { ...page, timezone: user.timezone }
}

const ActionSchema = z.discriminatedUnion('intent', [
	z.object({ intent: z.literal('send_for_review'), comment: z.string().max(2000).optional() }),
	z.object({ intent: z.literal('approve') }),
	z.object({ intent: z.literal('request_changes'), comment: z.string().max(2000) }),
	z.object({ intent: z.literal('duplicate') }),
	z.object({ intent: z.literal('delete') }),
])

const STATUS: Record<TemplateError['kind'], number> = {
	invalid: 400,
	forbidden: 403,
	not_found: 404,
	conflict: 409,
	provider: 502,
}

export async function action({ request, params }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()))
	if (!parsed.success) return Response.json({ error: 'Unknown action.' }, { status: 400 })
	const id = params.templateId ?? ''
	const input = parsed.data
	try {
		switch (input.intent) {
			case 'send_for_review':
				await sendForReview(db, user, id, input.comment)
				return { message: 'Sent for review. An admin will approve it or ask for changes.' }
			case 'approve': {
				const row = await approveTemplate(db, user, id, { gateway: getKapsoGateway() })
				return { message: `Approved and submitted to WhatsApp (status ${row.metaStatus}).` }
			}
			case 'request_changes':
				await requestChanges(db, user, id, input.comment)
				return { message: 'Sent back to the author with your comment.' }
			case 'duplicate': {
				const copy = await duplicateTemplate(db, user, id)
				return redirect(`/templates/${copy.id}/edit`)
			}
			case 'delete':
				await deleteTemplate(db, user, id, { gateway: getKapsoGateway() })
				return redirect('/templates')
		}
	} catch (error) {
		if (!(error instanceof TemplateError)) throw error
		if (error.kind === 'not_found') throw new Response('Not found', { status: 404 })
		const detail = error.errors.map((e) => e.message)
		return Response.json({ error: error.message, errors: detail }, { status: STATUS[error.kind] })
	}
}

const EVENT_LABEL: Record<string, string> = {
	created: 'Drafted',
	updated: 'Edited',
	new_version: 'Started a new version',
	sent_for_review: 'Sent for review',
	changes_requested: 'Asked for changes',
	approved: 'Approved',
	submitted: 'Submitted to WhatsApp',
	edit_submitted: 'Submitted the edit to WhatsApp',
	submit_failed: 'Submission to WhatsApp failed',
	status_changed: 'WhatsApp status changed',
	quality_changed: 'Quality rating changed',
	imported: 'Found on the WhatsApp account',
	duplicated: 'Duplicated from another template',
	deleted: 'Deleted on WhatsApp',
	flagged: 'Flagged by WhatsApp',
}

export default function TemplateRoute() {
	const { template, events, usedBy, actions, rejection, editAllowance, timezone } =
		useLoaderData<typeof loader>()
	const data = useActionData<{ message?: string; error?: string; errors?: string[] }>()
	const navigation = useNavigation()
	const revalidator = useRevalidator()
	const busy = navigation.state !== 'idle'
	const waiting = template.metaStatus === 'PENDING' || template.reviewState === 'approved_internal'
	useEffect(() => {
		if (!waiting) return
		const timer = setInterval(() => {
			if (revalidator.state === 'idle') revalidator.revalidate()
		}, 2000)
		return () => clearInterval(timer)
	}, [waiting, revalidator])
	const status = metaStatusInfo(template.metaStatus)
	const newVersion = template.remoteId !== null && template.reviewState !== 'submitted'
	const can = (action: string) => actions.includes(action as (typeof actions)[number])

	return (
		<div className="page">
			<div className="page-header">
				<div className="stack" style={{ gap: '0.25rem' }}>
					<h1>{template.name}</h1>
					<div className="row muted">
						<span>
							{languageName(template.language)} ({template.language})
						</span>
						·<span>{template.category.toLowerCase()}</span>·
						<span>
							{template.parameterFormat === 'NAMED' ? 'named variables' : 'numbered variables'}
						</span>
						{template.origin === 'external' ? (
							<span className="badge badge-gray">made outside Pregón</span>
						) : null}
					</div>
				</div>
				<Link to="/templates" className="btn btn-ghost">
					All templates
				</Link>
			</div>
			{data?.message ? (
				<div className="alert alert-success" role="status">
					{data.message}
				</div>
			) : null}
			{data?.error ? (
				<div className="alert alert-error" role="alert">
					{data.error}
					{data.errors?.length ? (
						<ul className="error-list">
							{data.errors.map((e, i) => (
								<li key={i}>{e}</li>
							))}
						</ul>
					) : null}
				</div>
			) : null}

			<div className="template-editor">
				<div className="stack">
					<section className="card stack" data-testid="template-status">
						<h2>Where it stands</h2>
						<div className="form-grid">
							<div>
								<div className="muted">Internal review</div>
								<span
									className={`badge badge-${reviewStateTone(template.reviewState)}`}
									data-testid="review-state"
								>
									{REVIEW_STATE_LABEL[template.reviewState]}
								</span>
							</div>
							<div>
								<div className="muted">WhatsApp status</div>
								<span className={`badge badge-${status.tone}`} data-testid="meta-status">
									{template.metaStatus ?? 'Not submitted'}
								</span>
							</div>
							<div>
								<div className="muted">Quality</div>
								{template.qualityScore ?? '—'}
							</div>
							<div>
								<div className="muted">Last checked with WhatsApp</div>
								{formatDateTime(template.lastSyncedAt, timezone)}
							</div>
						</div>
						<p className="muted">{status.description}</p>
						{newVersion ? (
							<div className="alert alert-warn">
								A new version is being prepared. Until WhatsApp approves it, the version WhatsApp
								holds keeps being sent.
							</div>
						) : null}
						{rejection ? (
							<div className="alert alert-error" data-testid="rejection">
								<strong>
									Why WhatsApp rejected it{rejection.code ? ` (${rejection.code})` : ''}:
								</strong>{' '}
								{rejection.meaning}
								<br />
								<strong>What to change:</strong> {rejection.fix}
								{rejection.recommendation ? (
									<>
										<br />
										<strong>WhatsApp’s recommendation:</strong> {rejection.recommendation}
									</>
								) : null}
							</div>
						) : null}
						{template.metaStatus === 'PAUSED' || template.metaStatus === 'DISABLED' ? (
							<div className="alert alert-error">
								Broadcasts using this template cannot launch, and running ones were paused.
							</div>
						) : null}
						{editAllowance ? (
							<p className="muted">
								{EDIT_LIMITS_EXPLANATION} Edits left in the last 30 days: {editAllowance.remaining}
								{editAllowance.nextAllowedAt
									? `; the next one is possible after ${formatDateTime(editAllowance.nextAllowedAt, timezone)}`
									: ''}
								.
							</p>
						) : null}
					</section>

					{actions.length > 0 ? (
						<section className="card stack">
							<h2>Actions</h2>
							<div className="row">
								{can('edit') ? (
									<Link to={`/templates/${template.id}/edit`} className="btn">
										{template.reviewState === 'submitted' ? 'Edit (new version)' : 'Edit'}
									</Link>
								) : null}
								{can('approve') ? (
									<Form method="post">
										<input type="hidden" name="intent" value="approve" />
										<button type="submit" className="btn btn-primary" disabled={busy}>
											{template.reviewState === 'approved_internal'
												? 'Retry submission to WhatsApp'
												: 'Approve and submit to WhatsApp'}
										</button>
									</Form>
								) : null}
								{can('duplicate') ? (
									<Form method="post">
										<input type="hidden" name="intent" value="duplicate" />
										<button type="submit" className="btn" disabled={busy}>
											Duplicate
										</button>
									</Form>
								) : null}
								{can('delete') ? (
									<ConfirmButton
										fields={{ intent: 'delete' }}
										confirm={
											template.remoteId
												? `Delete ${template.name} (${template.language}) from WhatsApp? Other languages stay. An approved name cannot be reused for 30 days.`
												: `Delete the draft ${template.name}?`
										}
										className="btn btn-danger"
									>
										{template.remoteId && template.metaStatus !== 'DELETED'
											? 'Delete this language'
											: 'Delete'}
									</ConfirmButton>
								) : null}
							</div>
							{can('send_for_review') ? (
								<Form method="post" className="stack">
									<input type="hidden" name="intent" value="send_for_review" />
									<div className="field">
										<label htmlFor="review-note">Note for the reviewer (optional)</label>
										<input id="review-note" name="comment" />
									</div>
									<div>
										<button type="submit" className="btn btn-primary" disabled={busy}>
											Send for review
										</button>
									</div>
								</Form>
							) : null}
							{can('request_changes') ? (
								<Form method="post" className="stack">
									<input type="hidden" name="intent" value="request_changes" />
									<div className="field">
										<label htmlFor="changes-comment">What should change?</label>
										<textarea id="changes-comment" name="comment" required rows={3} />
									</div>
									<div>
										<button type="submit" className="btn" disabled={busy}>
											Request changes
										</button>
									</div>
								</Form>
							) : null}
						</section>
					) : null}

					<section className="card stack">
						<h2>History</h2>
						<ol className="timeline" data-testid="template-history">
							{events.map((event) => (
								<li key={event.id}>
									<strong>{EVENT_LABEL[event.kind] ?? event.kind}</strong>
									{event.toState && event.kind === 'status_changed' ? ` → ${event.toState}` : ''}
									{event.toState && event.kind === 'quality_changed' ? ` → ${event.toState}` : ''}
									<div className="muted">
										{event.actorName ?? 'WhatsApp / system'} ·{' '}
										{formatDateTime(event.createdAt, timezone)}
									</div>
									{event.comment ? <div className="comment">{event.comment}</div> : null}
									{typeof event.details.reason === 'string' ? (
										<div className="muted">Reason: {event.details.reason}</div>
									) : null}
									{typeof event.details.title === 'string' ? (
										<div className="muted">{event.details.title}</div>
									) : null}
								</li>
							))}
						</ol>
					</section>

					{usedBy.length > 0 ? (
						<section className="card stack">
							<h2>Used by broadcasts</h2>
							<ul>
								{usedBy.map((b) => (
									<li key={b.id}>
										<Link to={`/broadcasts/${b.id}`}>{b.name}</Link>{' '}
										<span className="badge">{b.status}</span>
									</li>
								))}
							</ul>
						</section>
					) : null}
				</div>
				<aside className="preview-column stack">
					<h2>{newVersion ? 'New version' : 'Preview'}</h2>
					<TemplatePreview
						components={template.components as unknown as TemplateComponent[]}
						category={template.category}
					/>
					{newVersion && template.remoteComponents ? (
						<>
							<h2>Live on WhatsApp</h2>
							<TemplatePreview
								components={template.remoteComponents as unknown as TemplateComponent[]}
								category={template.category}
							/>
						</>
					) : null}
				</aside>
			</div>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
