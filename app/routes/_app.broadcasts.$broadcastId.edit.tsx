import {
	redirect,
	type ActionFunctionArgs,
	type LinksFunction,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { BasicsForm, STEP_LABELS, StepNav } from '#app/components/broadcast-builder'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { TemplatePreview } from '#app/components/template-preview'
import { CONTACT_FIELDS, type VariableSlot } from '#app/lib/broadcasts/audience'
import { saveBuilderStep } from '#app/lib/broadcasts/builder.server'
import { audienceMode } from '#app/lib/broadcasts/form'
import { componentsForRecipient } from '#app/lib/broadcasts/preview'
import {
	BUILDER_STEPS,
	builderStepData,
	completedSteps,
	getBroadcastDetail,
	type BuilderStep,
} from '#app/lib/broadcasts/queries.server'
import { findComponent } from '#app/lib/templates/definition'
import broadcastStyles from '#app/styles/broadcasts.css?url'
import templateStyles from '#app/styles/templates.css?url'
import { requireRole } from '#app/utils/auth.server'
import { formatNumber } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Edit broadcast · Pregón' }]
export const links: LinksFunction = () => [
	{ rel: 'stylesheet', href: broadcastStyles },
	{ rel: 'stylesheet', href: templateStyles },
]

const StepSchema = z.enum(BUILDER_STEPS).catch('basics')
const SaveIntentSchema = z.object({
	intent: z.enum(['basics', 'template', 'audience', 'variables']),
})

async function editableBroadcast(params: Record<string, string | undefined>) {
	const id = z.uuid().safeParse(params.broadcastId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const detail = await getBroadcastDetail(id.data)
	if (!detail) throw new Response('Not found', { status: 404 })
	// Once it starts, the content is what was sent: the detail page explains what can still change.
	if (detail.broadcast.status !== 'draft' && detail.broadcast.status !== 'scheduled') {
		throw redirect(`/broadcasts/${id.data}`)
	}
	return detail
}

export async function loader({ request, params }: LoaderFunctionArgs) {
	await requireRole(request, ['admin', 'marketer'])
	const detail = await editableBroadcast(params)
	const step = StepSchema.parse(new URL(request.url).searchParams.get('step') ?? undefined)
	const data = await builderStepData(detail, step)
	return { detail, step, data, done: completedSteps(detail) }
}

export async function action({ request, params }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const detail = await editableBroadcast(params)
	const form = await request.formData()
	const intent = SaveIntentSchema.safeParse(Object.fromEntries(form))
	if (!intent.success) return Response.json({ errors: { form: 'Unknown step' } }, { status: 400 })
	const result = await saveBuilderStep(detail.broadcast.id, intent.data.intent, form, user.id)
	if (!result.ok)
		return Response.json({ step: intent.data.intent, errors: result.errors }, { status: 400 })
	const next = BUILDER_STEPS[BUILDER_STEPS.indexOf(intent.data.intent) + 1]
	return redirect(`/broadcasts/${detail.broadcast.id}/edit?step=${next}`)
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>
type Detail = LoaderData['detail']
type StepData<S extends BuilderStep> = Extract<LoaderData['data'], { step: S }>

export default function EditBroadcastRoute() {
	const { detail, step, data, done } = useLoaderData<typeof loader>()
	const action = useActionData<{ step?: string; errors?: Record<string, string> }>()
	const errors = action?.errors ?? {}
	const id = detail.broadcast.id
	return (
		<div className="page">
			<div className="page-header">
				<h1>{detail.broadcast.name}</h1>
				<Link className="btn btn-ghost" to={`/broadcasts/${id}`}>
					Pre-flight and schedule →
				</Link>
			</div>
			{detail.broadcast.status === 'scheduled' ? (
				<div className="alert alert-warn">
					This broadcast is scheduled. Changes apply to the scheduled send
					{detail.broadcast.approvalRequired
						? '; it will need approval again and goes back to draft.'
						: '.'}
				</div>
			) : null}
			<StepNav broadcastId={id} current={step} done={done} />
			<h2>{STEP_LABELS[step]}</h2>
			{data.step === 'basics' ? (
				<BasicsForm
					senders={data.senders}
					defaults={{ name: detail.broadcast.name, senderId: detail.broadcast.senderId }}
					errors={errors}
				/>
			) : data.step === 'template' ? (
				<TemplateStep detail={detail} data={data} errors={errors} />
			) : data.step === 'audience' ? (
				<AudienceStep detail={detail} data={data} errors={errors} />
			) : data.step === 'variables' ? (
				<VariablesStep detail={detail} data={data} errors={errors} />
			) : (
				<PreviewStep detail={detail} data={data} />
			)}
		</div>
	)
}

function FormError({ errors }: { errors: Record<string, string> }) {
	return errors.form ? <div className="alert alert-error">{errors.form}</div> : null
}

function TemplateStep({
	detail,
	data,
	errors,
}: {
	detail: Detail
	data: StepData<'template'>
	errors: Record<string, string>
}) {
	return (
		<Form method="post" className="card stack builder">
			<input type="hidden" name="intent" value="template" />
			<fieldset
				className="choice-list"
				aria-describedby={errors.templateId ? 'template-error' : undefined}
			>
				<legend className="muted">
					Only templates WhatsApp approved can be sent. The others say why not.
				</legend>
				{data.templates.length === 0 ? (
					<p className="muted">
						No templates yet. <Link to="/templates">Create one</Link> and get it approved first.
					</p>
				) : null}
				{data.templates.map((t) => (
					<label key={t.id} className="choice" aria-disabled={!t.sendable}>
						<input
							type="radio"
							name="templateId"
							value={t.id}
							disabled={!t.sendable}
							defaultChecked={detail.template?.id === t.id}
						/>
						<span>
							<strong>{t.name}</strong> <span className="muted">({t.language})</span>{' '}
							<span className={`badge badge-${t.sendable ? 'green' : 'gray'}`}>
								{t.metaStatus ?? 'Not submitted'}
							</span>
							<span className="muted"> · {t.category.toLowerCase()}</span>
							{t.reason ? (
								<span className="muted" style={{ display: 'block' }}>
									{t.reason}
								</span>
							) : null}
						</span>
					</label>
				))}
			</fieldset>
			{errors.templateId ? (
				<p className="field-error" id="template-error">
					{errors.templateId}
				</p>
			) : null}
			<FormError errors={errors} />
			<div className="row">
				<button className="btn btn-primary" type="submit">
					Save and continue
				</button>
			</div>
		</Form>
	)
}

function AudienceStep({
	detail,
	data,
	errors,
}: {
	detail: Detail
	data: StepData<'audience'>
	errors: Record<string, string>
}) {
	const audience = detail.audience
	const mode = audienceMode(audience)
	const rows = [
		...(audience?.attributes ?? []),
		{ key: '', op: 'equals', value: '' },
		{ key: '', op: 'equals', value: '' },
	]
	return (
		<Form method="post" className="card stack builder">
			<input type="hidden" name="intent" value="audience" />
			{audience?.retarget ? (
				<div className="alert alert-warn">
					Retargeting: only recipients of {detail.parentName ?? 'the earlier broadcast'} who{' '}
					{audience.retarget.kind === 'unread'
						? 'did not read it'
						: 'failed with a retryable error'}
					. Filters below narrow that list further.
				</div>
			) : null}
			<p className="muted">Contacts who opted out are always left out.</p>
			<fieldset className="stack">
				<legend>Who receives it</legend>
				<label className="row">
					<input
						type="radio"
						name="audienceMode"
						value="filters"
						defaultChecked={mode === 'filters'}
					/>{' '}
					Contacts matching tags and attributes
				</label>
				<label className="row">
					<input
						type="radio"
						name="audienceMode"
						value="import"
						defaultChecked={mode === 'import'}
					/>{' '}
					The contacts of an import
				</label>
				<label className="row">
					<input
						type="radio"
						name="audienceMode"
						value="everyone"
						defaultChecked={mode === 'everyone'}
					/>{' '}
					Every contact
				</label>
				{errors.audienceMode ? <p className="field-error">{errors.audienceMode}</p> : null}
			</fieldset>
			<fieldset className="stack">
				<legend>Tags</legend>
				{data.tags.length === 0 ? <p className="muted">No contact has tags yet.</p> : null}
				{(['tagsAny', 'tagsAll'] as const).map((name) =>
					data.tags.length === 0 ? null : (
						<div key={name} className="field">
							<span>{name === 'tagsAny' ? 'Has any of these tags' : 'Has all of these tags'}</span>
							<div className="tag-grid">
								{data.tags.map((t) => (
									<label key={t.tag} className="row">
										<input
											type="checkbox"
											name={name}
											value={t.tag}
											defaultChecked={audience?.[name].includes(t.tag) ?? false}
										/>
										{t.tag} <span className="muted">({formatNumber(t.contacts)})</span>
									</label>
								))}
							</div>
						</div>
					),
				)}
			</fieldset>
			<fieldset className="stack">
				<legend>Attributes</legend>
				<datalist id="attribute-keys">
					{data.attributeKeys.map((key) => (
						<option key={key} value={key} />
					))}
				</datalist>
				{rows.map((row, i) => (
					<div key={i} className="stack">
						<div className="attr-row">
							<input
								className="input"
								name="attrKey"
								list="attribute-keys"
								defaultValue={row.key}
								placeholder="Attribute, e.g. city"
								aria-label={`Attribute ${i + 1}`}
								aria-invalid={Boolean(errors[`attr.${i}`])}
							/>
							<select
								className="input"
								name="attrOp"
								defaultValue={row.op}
								aria-label={`Comparison ${i + 1}`}
							>
								<option value="equals">is</option>
								<option value="not_equals">is not</option>
							</select>
							<input
								className="input"
								name="attrValue"
								defaultValue={row.value}
								placeholder="Value, e.g. Lima"
								aria-label={`Value ${i + 1}`}
							/>
						</div>
						{errors[`attr.${i}`] ? <p className="field-error">{errors[`attr.${i}`]}</p> : null}
					</div>
				))}
				<span className="muted">
					Compared without regard to case or surrounding spaces. Save to add more rows.
				</span>
			</fieldset>
			<div className="field">
				<label htmlFor="audience-import">Import</label>
				<select
					id="audience-import"
					name="importId"
					defaultValue={audience?.importId ?? ''}
					aria-invalid={Boolean(errors.importId)}
				>
					<option value="">Choose an import…</option>
					{data.imports.map((imp) => (
						<option key={imp.id} value={imp.id}>
							{imp.fileName} · {formatNumber(imp.inserted + imp.updated)} contacts
						</option>
					))}
				</select>
				<span className="hint">Used when “The contacts of an import” is chosen.</span>
				{errors.importId ? <p className="field-error">{errors.importId}</p> : null}
			</div>
			{errors.audience ? <p className="field-error">{errors.audience}</p> : null}
			<FormError errors={errors} />
			{data.matches ? (
				<p data-testid="audience-matches">
					The saved audience matches <strong>{formatNumber(data.matches.matched)}</strong> contacts,
					of whom <strong>{formatNumber(data.matches.eligible)}</strong> can receive it.
				</p>
			) : null}
			<div className="row">
				<button className="btn btn-primary" type="submit">
					Save and continue
				</button>
			</div>
		</Form>
	)
}

function slotLabel(slot: VariableSlot) {
	if (slot.component === 'button') return `Button ${(slot.index ?? 0) + 1} link {{1}}`
	return `${slot.component === 'header' ? 'Header' : 'Body'} {{${slot.name}}}`
}

function VariablesStep({
	detail,
	data,
	errors,
}: {
	detail: Detail
	data: StepData<'variables'>
	errors: Record<string, string>
}) {
	if (!detail.template) {
		return (
			<div className="card">
				<p>
					Choose a template first.{' '}
					<Link to={`/broadcasts/${detail.broadcast.id}/edit?step=template`}>
						Choose a template
					</Link>
				</p>
			</div>
		)
	}
	const body = findComponent(detail.template.components, 'BODY')
	return (
		<Form method="post" className="card stack builder">
			<input type="hidden" name="intent" value="variables" />
			{body?.text ? (
				<blockquote className="muted" style={{ whiteSpace: 'pre-wrap', margin: 0 }}>
					{body.text}
				</blockquote>
			) : null}
			{detail.slots.length === 0 ? <p>This template has no variables: nothing to map.</p> : null}
			<datalist id="variable-attribute-keys">
				{data.attributeKeys.map((key) => (
					<option key={key} value={key} />
				))}
			</datalist>
			{detail.slots.map((slot) => {
				const current = detail.mapping[slot.key]
				const source = current?.source ?? 'field'
				const error = errors[slot.key]
				return (
					<fieldset
						key={slot.key}
						className="mapping"
						aria-invalid={Boolean(error)}
						data-testid={`mapping-${slot.key}`}
					>
						<legend>
							<strong>{slotLabel(slot)}</strong>
						</legend>
						<label className="source">
							<span className="row">
								<input
									type="radio"
									name={`source:${slot.key}`}
									value="field"
									defaultChecked={source === 'field'}
								/>{' '}
								Contact field
							</span>
							<select
								className="input"
								name={`field:${slot.key}`}
								defaultValue={current?.source === 'field' ? current.field : 'name'}
								aria-label={`Contact field for ${slotLabel(slot)}`}
							>
								{CONTACT_FIELDS.map((field) => (
									<option key={field} value={field}>
										{field}
									</option>
								))}
							</select>
						</label>
						<label className="source">
							<span className="row">
								<input
									type="radio"
									name={`source:${slot.key}`}
									value="attribute"
									defaultChecked={source === 'attribute'}
								/>{' '}
								Attribute
							</span>
							<input
								className="input"
								name={`attribute:${slot.key}`}
								list="variable-attribute-keys"
								defaultValue={current?.source === 'attribute' ? current.key : ''}
								aria-label={`Attribute for ${slotLabel(slot)}`}
							/>
						</label>
						<label className="source">
							<span className="row">
								<input
									type="radio"
									name={`source:${slot.key}`}
									value="text"
									defaultChecked={source === 'text'}
								/>{' '}
								Fixed text
							</span>
							<input
								className="input"
								name={`text:${slot.key}`}
								defaultValue={current?.source === 'text' ? current.text : ''}
								aria-label={`Fixed text for ${slotLabel(slot)}`}
							/>
						</label>
						<label className="source">
							<span>Fallback</span>
							<input
								className="input"
								name={`fallback:${slot.key}`}
								defaultValue={current && current.source !== 'text' ? (current.fallback ?? '') : ''}
								placeholder="Used when the contact's value is empty"
								aria-label={`Fallback for ${slotLabel(slot)}`}
							/>
						</label>
						<span className="hint muted">
							Without a fallback, contacts with an empty value are left out (shown in pre-flight).
						</span>
						{error ? <p className="field-error">{error}</p> : null}
					</fieldset>
				)
			})}
			<FormError errors={errors} />
			<div className="row">
				<button className="btn btn-primary" type="submit">
					Save and continue
				</button>
			</div>
		</Form>
	)
}

function PreviewStep({ detail, data }: { detail: Detail; data: StepData<'preview'> }) {
	const id = detail.broadcast.id
	if (!detail.template || !data.recipients) {
		return (
			<div className="card">
				<p>
					Finish the template, audience and variables to see the message as recipients will receive
					it.
				</p>
			</div>
		)
	}
	return (
		<div className="stack">
			{data.matches ? (
				<p>
					<strong>{formatNumber(data.matches.eligible)}</strong> of{' '}
					{formatNumber(data.matches.matched)} matching contacts can receive it.
					{data.recipients.length > 1
						? ` The first ${data.recipients.length}, as they will receive it:`
						: ''}
				</p>
			) : null}
			{data.recipients.length === 0 ? (
				<div className="card empty-state">
					<h2>Nobody can receive it</h2>
					<p>
						No contact matches the audience, or all of them are excluded.{' '}
						<Link to={`/broadcasts/${id}/edit?step=audience`}>Change the audience</Link>
					</p>
				</div>
			) : (
				<div className="recipient-previews">
					{data.recipients.map((r) => (
						<div key={r.contactId} className="card stack" data-testid="recipient-preview">
							<div>
								<strong>{r.name || 'No name'}</strong> <span className="muted">{r.phoneE164}</span>
							</div>
							<TemplatePreview
								components={componentsForRecipient(detail.template!.components, r.variables)}
								category={detail.template!.category}
							/>
						</div>
					))}
				</div>
			)}
			<div className="row">
				<Link className="btn btn-primary" to={`/broadcasts/${id}`}>
					Continue to pre-flight
				</Link>
			</div>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
