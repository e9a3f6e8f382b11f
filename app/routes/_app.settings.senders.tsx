import {
	type ActionFunctionArgs,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import {
	createSender,
	DuplicateSenderError,
	listSenders,
	SenderRateSchema,
	SenderSchema,
	updateSender,
} from '#app/lib/senders/senders.server'
import {
	parseSenderHealth,
	refreshAllSenderHealth,
	refreshSenderHealth,
} from '#app/lib/senders/health.server'
import { requireRole } from '#app/utils/auth.server'
import { formatDateTime } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Sender numbers · Pregón' }]

const IntentSchema = z.object({
	intent: z.enum(['create', 'update', 'refresh', 'refresh_all']),
	senderId: z.string().optional(),
})

type ActionData = { errors?: Record<string, string>; message?: string; senderId?: string }

function fieldErrors(error: z.ZodError) {
	const errors: Record<string, string> = {}
	for (const issue of error.issues) errors[String(issue.path[0])] ??= issue.message
	return errors
}

export async function loader({ request }: LoaderFunctionArgs) {
	const admin = await requireRole(request, ['admin'])
	const senders = await listSenders()
	return {
		timezone: admin.timezone,
		senders: senders.map((sender) => ({ ...sender, health: parseSenderHealth(sender.health) })),
	}
}

function refreshMessage(
	outcomes: Array<{ ok: boolean; pausedBroadcastIds: string[]; error: string | null }>,
) {
	const failed = outcomes.filter((outcome) => !outcome.ok)
	const paused = outcomes.reduce((sum, outcome) => sum + outcome.pausedBroadcastIds.length, 0)
	const parts = [
		failed.length > 0 ? `Kapso could not be asked: ${failed[0].error}` : 'Health refreshed.',
	]
	if (paused > 0)
		parts.push(
			`${paused} sending broadcast(s) paused because a number is unhealthy or its quality dropped.`,
		)
	return parts.join(' ')
}

export async function action({ request }: ActionFunctionArgs) {
	const admin = await requireRole(request, ['admin'])
	const form = Object.fromEntries(await request.formData())
	const intent = IntentSchema.safeParse(form)
	if (!intent.success)
		return Response.json({ errors: { form: 'Invalid request' } }, { status: 400 })
	if (intent.data.intent === 'refresh_all') {
		return {
			message: refreshMessage(await refreshAllSenderHealth({ actorId: admin.id })),
		} satisfies ActionData
	}
	if (intent.data.intent === 'create') {
		const parsed = SenderSchema.safeParse(form)
		if (!parsed.success)
			return Response.json({ errors: fieldErrors(parsed.error) }, { status: 400 })
		try {
			await createSender(parsed.data, admin.id)
		} catch (error) {
			if (error instanceof DuplicateSenderError) {
				return Response.json({ errors: { phoneNumberId: error.message } }, { status: 400 })
			}
			throw error
		}
		return { message: 'Sender added.' } satisfies ActionData
	}
	const senderId = z.uuid().safeParse(intent.data.senderId)
	if (!senderId.success) throw new Response('Not found', { status: 404 })
	if (intent.data.intent === 'refresh') {
		const outcome = await refreshSenderHealth(senderId.data, { actorId: admin.id })
		if (!outcome) throw new Response('Not found', { status: 404 })
		return { message: refreshMessage([outcome]) } satisfies ActionData
	}
	const parsed = SenderRateSchema.safeParse(form)
	if (!parsed.success) {
		return Response.json(
			{ errors: fieldErrors(parsed.error), senderId: senderId.data },
			{ status: 400 },
		)
	}
	if (!(await updateSender(senderId.data, parsed.data, admin.id)))
		throw new Response('Not found', { status: 404 })
	return { message: 'Sender updated.' } satisfies ActionData
}

export default function SendersRoute() {
	const { senders, timezone } = useLoaderData<typeof loader>()
	const data = useActionData<ActionData>()
	const createErrors = data?.senderId ? {} : (data?.errors ?? {})
	return (
		<div className="page">
			<div className="page-header">
				<h1>Sender numbers</h1>
				{senders.length > 0 ? (
					<Form method="post">
						<input type="hidden" name="intent" value="refresh_all" />
						<button className="btn" type="submit">
							Refresh all
						</button>
					</Form>
				) : null}
			</div>
			{data?.message ? <div className="alert alert-success">{data.message}</div> : null}
			<div className="card table-wrap">
				{senders.length === 0 ? (
					<div className="empty-state">
						<h2>No sender numbers yet</h2>
						<p>Add the WhatsApp number your broadcasts are sent from.</p>
					</div>
				) : (
					<table className="table">
						<thead>
							<tr>
								<th>Number</th>
								<th>Phone number id</th>
								<th>WABA id</th>
								<th>Health</th>
								<th>Quality</th>
								<th>Limit tier</th>
								<th>Throughput</th>
								<th>Name and rate (messages/s)</th>
							</tr>
						</thead>
						<tbody>
							{senders.map((sender) => {
								const errors = data?.senderId === sender.id ? (data.errors ?? {}) : {}
								return (
									<tr key={sender.id}>
										<td>{sender.displayNumber}</td>
										<td>
											<code>{sender.phoneNumberId}</code>
										</td>
										<td>
											<code>{sender.wabaId}</code>
										</td>
										<td>
											<HealthCell
												health={sender.health}
												checkedAt={sender.healthCheckedAt}
												timezone={timezone}
											/>
											<Form method="post">
												<input type="hidden" name="intent" value="refresh" />
												<input type="hidden" name="senderId" value={sender.id} />
												<button
													className="btn btn-small btn-ghost"
													type="submit"
													aria-label={`Refresh health of ${sender.displayNumber}`}
												>
													Refresh
												</button>
											</Form>
										</td>
										<td>
											<QualityBadge rating={sender.qualityRating} />
										</td>
										<td>{tierLabel(sender.messagingLimitTier)}</td>
										<td>{throughputLabel(sender.throughputLevel)}</td>
										<td>
											<Form method="post" className="row">
												<input type="hidden" name="intent" value="update" />
												<input type="hidden" name="senderId" value={sender.id} />
												<input
													className="input"
													style={{ width: 160 }}
													name="name"
													defaultValue={sender.name}
													aria-label="Name"
												/>
												<input
													className="input"
													style={{ width: 90 }}
													name="ratePerSecond"
													type="number"
													min={1}
													max={1000}
													defaultValue={sender.ratePerSecond}
													aria-label={`Rate per second of ${sender.displayNumber}`}
													aria-invalid={Boolean(errors.ratePerSecond)}
												/>
												<button className="btn btn-small" type="submit">
													Save
												</button>
												{errors.ratePerSecond ? (
													<p className="field-error">{errors.ratePerSecond}</p>
												) : null}
											</Form>
										</td>
									</tr>
								)
							})}
						</tbody>
					</table>
				)}
			</div>
			<div className="card">
				<h2>Add a sender number</h2>
				<Form method="post" className="form-grid">
					<input type="hidden" name="intent" value="create" />
					{[
						{
							name: 'displayNumber',
							label: 'Display number',
							hint: 'As customers see it, e.g. +51 987 654 321',
						},
						{
							name: 'phoneNumberId',
							label: 'Phone number id',
							hint: 'From Kapso or Meta, digits only',
						},
						{ name: 'wabaId', label: 'WABA id', hint: 'The WhatsApp Business Account id' },
						{ name: 'name', label: 'Name (optional)', hint: 'A label for your team' },
					].map((field) => (
						<div className="field" key={field.name}>
							<label htmlFor={`sender-${field.name}`}>{field.label}</label>
							<input
								id={`sender-${field.name}`}
								name={field.name}
								aria-invalid={Boolean(createErrors[field.name])}
							/>
							<span className="hint">{field.hint}</span>
							{createErrors[field.name] ? (
								<p className="field-error">{createErrors[field.name]}</p>
							) : null}
						</div>
					))}
					<div className="field">
						<label htmlFor="sender-rate">Rate per second</label>
						<input
							id="sender-rate"
							name="ratePerSecond"
							type="number"
							min={1}
							max={1000}
							defaultValue={80}
							aria-invalid={Boolean(createErrors.ratePerSecond)}
						/>
						<span className="hint">
							80 by default; Meta allows up to 1,000 on upgraded numbers.
						</span>
						{createErrors.ratePerSecond ? (
							<p className="field-error">{createErrors.ratePerSecond}</p>
						) : null}
					</div>
					<div className="field">
						<span>&nbsp;</span>
						<button className="btn btn-primary" type="submit">
							Add sender
						</button>
					</div>
				</Form>
			</div>
		</div>
	)
}

const TIERS: Record<string, string> = {
	TIER_50: '50 / 24 h',
	TIER_250: '250 / 24 h',
	TIER_1K: '1,000 / 24 h',
	TIER_2K: '2,000 / 24 h',
	TIER_10K: '10,000 / 24 h',
	TIER_100K: '100,000 / 24 h',
	TIER_UNLIMITED: 'Unlimited',
	TIER_NOT_SET: 'Not set',
}

function tierLabel(tier: string | null) {
	if (!tier) return '—'
	return <span title={tier}>{TIERS[tier] ?? tier}</span>
}

function throughputLabel(level: string | null) {
	if (!level) return '—'
	const perSecond: Record<string, string> = {
		STANDARD: '80 msg/s',
		HIGH: '1,000 msg/s',
		COEXISTENCE: '20 msg/s',
	}
	return (
		<span title={level}>
			{level.charAt(0) + level.slice(1).toLowerCase()}
			{perSecond[level] ? <span className="muted"> · {perSecond[level]}</span> : null}
		</span>
	)
}

function QualityBadge({ rating }: { rating: string | null }) {
	if (!rating) return <span className="badge badge-gray">Not checked</span>
	const tone =
		rating === 'GREEN'
			? 'green'
			: rating === 'YELLOW'
				? 'yellow'
				: rating === 'RED'
					? 'red'
					: 'gray'
	const label =
		rating === 'GREEN'
			? 'High'
			: rating === 'YELLOW'
				? 'Medium'
				: rating === 'RED'
					? 'Low'
					: 'Unknown'
	return (
		<span className={`badge badge-${tone}`} title={`Quality rating ${rating}`}>
			{rating} · {label}
		</span>
	)
}

function HealthCell({
	health,
	checkedAt,
	timezone,
}: {
	health: ReturnType<typeof parseSenderHealth>
	checkedAt: string | Date | null
	timezone: string
}) {
	if (!health) return <span className="badge badge-gray">Not checked</span>
	const items = [
		{ label: 'Connected', value: health.connected },
		{ label: 'Token valid', value: health.tokenValid },
		{ label: 'Webhook reachable', value: health.webhookReachable },
	]
	return (
		<div className="stack" style={{ gap: '0.25rem' }}>
			<span
				className={`badge badge-${health.healthy === true ? 'green' : health.healthy === false ? 'red' : 'gray'}`}
			>
				{health.healthy === true ? 'Healthy' : health.healthy === false ? 'Unhealthy' : 'Unknown'}
			</span>
			<ul className="muted" style={{ margin: 0, paddingLeft: '1rem', fontSize: '0.85rem' }}>
				{items.map((item) => (
					<li key={item.label}>
						{item.label}:{' '}
						{item.value === true ? 'yes' : item.value === false ? <strong>no</strong> : '—'}
					</li>
				))}
			</ul>
			{health.error ? <span className="field-error">Last check failed: {health.error}</span> : null}
			<span className="muted" style={{ fontSize: '0.8rem' }}>
				Checked {formatDateTime(checkedAt, timezone)}
			</span>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
