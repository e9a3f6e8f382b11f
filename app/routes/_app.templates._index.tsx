import {
	type ActionFunctionArgs,
	type LinksFunction,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import {
	Form,
	Link,
	useActionData,
	useFetcher,
	useLoaderData,
	useRevalidator,
} from '@remix-run/react'
import { useEffect } from 'react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { languageName, TEMPLATE_LANGUAGES } from '#app/lib/templates/languages'
import {
	explainRejection,
	META_STATUSES,
	metaStatusInfo,
	REVIEW_STATE_LABEL,
	reviewStateTone,
} from '#app/lib/templates/status'
import {
	requestFullSync,
	templateListPage,
	TemplateError,
} from '#app/lib/templates/templates.server'
import templateStyles from '#app/styles/templates.css?url'
import { requireRole } from '#app/utils/auth.server'
import { formatDateTime } from '#app/utils/format'
import { db } from '#db/client'

export const meta: MetaFunction = () => [{ title: 'Templates · Pregón' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: templateStyles }]

const FiltersSchema = z.object({
	status: z.string().max(40).optional().catch(undefined),
	category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']).optional().catch(undefined),
	language: z.string().max(10).optional().catch(undefined),
	q: z.string().trim().max(200).optional().catch(undefined),
})

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer', 'analyst'])
	const params = Object.fromEntries(new URL(request.url).searchParams)
	const filters = FiltersSchema.parse(
		Object.fromEntries(Object.entries(params).filter(([, v]) => v !== '')),
	)
	const page = await templateListPage(db, filters)
	return {
		filters,
		templates: page.templates.map((t) => ({
			id: t.id,
			name: t.name,
			language: t.language,
			category: t.category,
			reviewState: t.reviewState,
			metaStatus: t.metaStatus,
			rejectionReason: t.rejectionReason,
			qualityScore: t.qualityScore,
			lastSyncedAt: t.lastSyncedAt,
			origin: t.origin,
		})),
		syncRuns: page.syncRuns,
		canEdit: user.role !== 'analyst',
		timezone: user.timezone,
	}
}

export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const form = z
		.object({ intent: z.literal('sync') })
		.safeParse(Object.fromEntries(await request.formData()))
	if (!form.success) return Response.json({ error: 'Unknown action.' }, { status: 400 })
	try {
		const runIds = await requestFullSync(db, user)
		return {
			message: runIds.length
				? 'Sync started.'
				: 'No WhatsApp account to sync yet: add a sender number first.',
		}
	} catch (error) {
		if (error instanceof TemplateError)
			return Response.json({ error: error.message }, { status: 403 })
		throw error
	}
}

function SyncProgress({
	runs,
	timezone,
}: {
	runs: ReturnType<typeof useLoaderData<typeof loader>>['syncRuns']
	timezone: string
}) {
	const revalidator = useRevalidator()
	const active = runs.some((r) => r.status === 'queued' || r.status === 'running')
	useEffect(() => {
		if (!active) return
		const timer = setInterval(() => {
			if (revalidator.state === 'idle') revalidator.revalidate()
		}, 1500)
		return () => clearInterval(timer)
	}, [active, revalidator])
	if (runs.length === 0) return <p className="muted">Not synced with WhatsApp yet.</p>
	return (
		<div className="stack" data-testid="sync-progress" aria-live="polite">
			{runs.map((run) => (
				<div key={run.id} className="stack">
					<div className="row">
						<strong>WABA {run.wabaId}</strong>
						<span
							className={`badge badge-${run.status === 'failed' ? 'red' : run.status === 'completed' ? 'green' : 'yellow'}`}
						>
							{run.status}
						</span>
						<span className="muted">
							{run.seen} read · {run.created} new · {run.updated} updated · {run.removed} gone
							{run.finishedAt ? ` · finished ${formatDateTime(run.finishedAt, timezone)}` : ''}
						</span>
					</div>
					{run.status === 'running' || run.status === 'queued' ? (
						<div className="progress" role="progressbar" aria-label="Template sync">
							<span
								style={{
									width: run.status === 'queued' ? '5%' : `${Math.min(95, 10 + run.pages * 20)}%`,
								}}
							/>
						</div>
					) : null}
					{run.error ? <p className="field-error">{run.error}</p> : null}
				</div>
			))}
		</div>
	)
}

export default function TemplatesRoute() {
	const { templates, filters, syncRuns, canEdit, timezone } = useLoaderData<typeof loader>()
	const data = useActionData<{ message?: string; error?: string }>()
	const sync = useFetcher<{ message?: string; error?: string }>()
	const result = sync.data ?? data
	return (
		<div className="page">
			<div className="page-header">
				<h1>Templates</h1>
				{canEdit ? (
					<div className="row">
						<sync.Form method="post">
							<input type="hidden" name="intent" value="sync" />
							<button type="submit" className="btn" disabled={sync.state !== 'idle'}>
								Sync now
							</button>
						</sync.Form>
						<Link to="/templates/new" className="btn btn-primary">
							New template
						</Link>
					</div>
				) : null}
			</div>
			{result?.message ? <div className="alert alert-success">{result.message}</div> : null}
			{result?.error ? <div className="alert alert-error">{result.error}</div> : null}
			<section className="card stack">
				<h2>Sync with WhatsApp</h2>
				<SyncProgress runs={syncRuns} timezone={timezone} />
			</section>
			<Form method="get" className="toolbar" role="search">
				<div className="field">
					<label htmlFor="f-q">Search</label>
					<input
						id="f-q"
						name="q"
						type="search"
						defaultValue={filters.q ?? ''}
						placeholder="Name or text"
					/>
				</div>
				<div className="field">
					<label htmlFor="f-status">Status</label>
					<select id="f-status" name="status" defaultValue={filters.status ?? ''}>
						<option value="">Any</option>
						<optgroup label="Internal review">
							{(Object.keys(REVIEW_STATE_LABEL) as Array<keyof typeof REVIEW_STATE_LABEL>).map(
								(s) => (
									<option key={s} value={s}>
										{REVIEW_STATE_LABEL[s]}
									</option>
								),
							)}
						</optgroup>
						<optgroup label="WhatsApp">
							{META_STATUSES.map((s) => (
								<option key={s} value={s}>
									{s}
								</option>
							))}
						</optgroup>
					</select>
				</div>
				<div className="field">
					<label htmlFor="f-category">Category</label>
					<select id="f-category" name="category" defaultValue={filters.category ?? ''}>
						<option value="">Any</option>
						<option value="MARKETING">Marketing</option>
						<option value="UTILITY">Utility</option>
						<option value="AUTHENTICATION">Authentication</option>
					</select>
				</div>
				<div className="field">
					<label htmlFor="f-language">Language</label>
					<select id="f-language" name="language" defaultValue={filters.language ?? ''}>
						<option value="">Any</option>
						{TEMPLATE_LANGUAGES.map((l) => (
							<option key={l.code} value={l.code}>
								{l.name} ({l.code})
							</option>
						))}
					</select>
				</div>
				<button type="submit" className="btn">
					Filter
				</button>
			</Form>
			{templates.length === 0 ? (
				<div className="empty-state card">
					<h2>
						No templates{Object.values(filters).some(Boolean) ? ' match these filters' : ' yet'}
					</h2>
					<p>
						Draft one, or sync to bring in the templates that already exist on your WhatsApp
						account.
					</p>
				</div>
			) : (
				<div className="table-wrap">
					<table className="table" data-testid="templates-table">
						<thead>
							<tr>
								<th>Name</th>
								<th>Language</th>
								<th>Category</th>
								<th>Review</th>
								<th>WhatsApp</th>
								<th>Quality</th>
								<th>Last sync</th>
							</tr>
						</thead>
						<tbody>
							{templates.map((t) => {
								const rejection =
									t.metaStatus === 'REJECTED' ? explainRejection(t.rejectionReason) : null
								return (
									<tr key={t.id}>
										<td>
											<Link to={`/templates/${t.id}`}>{t.name}</Link>
											{t.origin === 'external' ? (
												<>
													{' '}
													<span
														className="badge badge-gray"
														title="Found on the WhatsApp account by a sync"
													>
														external
													</span>
												</>
											) : null}
										</td>
										<td>{languageName(t.language)}</td>
										<td>{t.category.toLowerCase()}</td>
										<td>
											<span className={`badge badge-${reviewStateTone(t.reviewState)}`}>
												{REVIEW_STATE_LABEL[t.reviewState]}
											</span>
										</td>
										<td>
											{t.metaStatus ? (
												<span
													className={`badge badge-${metaStatusInfo(t.metaStatus).tone}`}
													title={metaStatusInfo(t.metaStatus).description}
												>
													{t.metaStatus}
												</span>
											) : (
												<span className="muted">—</span>
											)}
											{rejection ? <div className="muted">{rejection.meaning}</div> : null}
										</td>
										<td>{t.qualityScore ?? '—'}</td>
										<td className="muted">{formatDateTime(t.lastSyncedAt, timezone)}</td>
									</tr>
								)
							})}
						</tbody>
					</table>
				</div>
			)}
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
