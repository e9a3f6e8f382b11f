import {
	redirect,
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
import { useEffect, useState } from 'react'
import { z } from 'zod'
import { BroadcastStatusBadge, ProgressBar, ScheduleTime } from '#app/components/broadcast-status'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { ConfirmButton } from '#app/components/ui/confirm-button'
import { SKIP_REASON_LABELS, type SkipReason } from '#app/lib/broadcasts/audience'
import {
	chooseBroadcastSize,
	instantToZonedInput,
	parseScheduleForm,
	timeZones,
} from '#app/lib/broadcasts/builder.server'
import {
	approveBroadcast,
	BroadcastError,
	cancelBroadcast,
	pauseBroadcast,
	resumeBroadcast,
	retarget,
	scheduleBroadcast,
	testSend,
	unscheduleBroadcast,
} from '#app/lib/broadcasts/broadcasts.server'
import { broadcastPage, type BroadcastProgress } from '#app/lib/broadcasts/queries.server'
import { metaStatusInfo } from '#app/lib/templates/status'
import broadcastStyles from '#app/styles/broadcasts.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime, formatNumber } from '#app/utils/format'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
	{ title: `${data?.page.detail.broadcast.name ?? 'Broadcast'} · Pregón` },
]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: broadcastStyles }]

function broadcastId(params: Record<string, string | undefined>) {
	const id = z.uuid().safeParse(params.broadcastId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	return id.data
}

export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const page = await broadcastPage(broadcastId(params))
	if (!page) throw new Response('Not found', { status: 404 })
	const { broadcast } = page.detail
	const zone = broadcast.scheduleTimezone ?? user.timezone
	return {
		page,
		user: { role: user.role, timezone: user.timezone },
		schedule: {
			zone,
			at: broadcast.scheduledAt ? instantToZonedInput(broadcast.scheduledAt, zone) : '',
			zones: page.editable ? timeZones() : [],
		},
	}
}

const IntentSchema = z.object({
	intent: z.enum([
		'schedule',
		'unschedule',
		'approve',
		'pause',
		'resume',
		'cancel',
		'size',
		'test_send',
		'retarget',
	]),
})
const TestSendSchema = z.object({ phone: z.string().trim().min(1, 'Enter a phone number') })
const RetargetSchema = z.object({ kind: z.enum(['unread', 'retryable_failed']) })

type ActionData = { intent?: string; errors?: Record<string, string>; message?: string }

export async function action({ request, params }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const id = broadcastId(params)
	const form = await request.formData()
	const parsed = IntentSchema.safeParse(Object.fromEntries(form))
	if (!parsed.success) return Response.json({ errors: { form: 'Unknown action' } }, { status: 400 })
	const intent = parsed.data.intent
	if (intent === 'approve' && user.role !== 'admin') {
		throw new Response('Only an admin can approve a broadcast.', { status: 403 })
	}
	try {
		switch (intent) {
			case 'schedule': {
				const schedule = parseScheduleForm(form)
				if (!schedule.ok) return Response.json({ intent, errors: schedule.errors }, { status: 400 })
				await scheduleBroadcast(id, schedule.data, user.id)
				break
			}
			case 'size': {
				const result = await chooseBroadcastSize(id, form, user.id)
				if (!result.ok) return Response.json({ intent, errors: result.errors }, { status: 400 })
				break
			}
			case 'test_send': {
				const input = TestSendSchema.safeParse(Object.fromEntries(form))
				if (!input.success)
					return Response.json(
						{ intent, errors: { phone: input.error.issues[0].message } },
						{ status: 400 },
					)
				const result = await testSend(id, input.data.phone, user.id)
				if (!result.ok) {
					return Response.json(
						{
							intent,
							errors: { phone: `WhatsApp did not accept it: ${result.title} (${result.code})` },
						},
						{ status: 400 },
					)
				}
				return { intent, message: `Test message sent to ${input.data.phone}.` } satisfies ActionData
			}
			case 'retarget': {
				const input = RetargetSchema.safeParse(Object.fromEntries(form))
				if (!input.success)
					return Response.json(
						{ intent, errors: { form: 'Choose who to retarget' } },
						{ status: 400 },
					)
				const draft = await retarget(id, input.data.kind, user.id)
				return redirect(`/broadcasts/${draft.id}`)
			}
			case 'unschedule':
				await unscheduleBroadcast(id, user.id)
				break
			case 'approve':
				await approveBroadcast(id, user.id)
				break
			case 'pause':
				await pauseBroadcast(id, user.id)
				break
			case 'resume':
				await resumeBroadcast(id, user.id)
				break
			case 'cancel':
				await cancelBroadcast(id, user.id)
				break
		}
	} catch (error) {
		if (error instanceof BroadcastError) {
			if (error.message === 'Broadcast not found') throw new Response('Not found', { status: 404 })
			return Response.json(
				{ intent, errors: { [error.field ?? 'form']: error.message } },
				{ status: 400 },
			)
		}
		throw error
	}
	return redirect(`/broadcasts/${id}`)
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>
type Page = LoaderData['page']

export default function BroadcastRoute() {
	const { page, user } = useLoaderData<typeof loader>()
	const data = useActionData<ActionData>()
	const { broadcast } = page.detail
	const canAct = user.role !== 'analyst'
	const formError =
		data?.errors?.form ?? (data?.errors && !data.intent ? Object.values(data.errors)[0] : null)
	return (
		<div className="page">
			<div className="page-header">
				<div>
					<Link to="/broadcasts" className="muted">
						← Broadcasts
					</Link>
					<h1>{broadcast.name}</h1>
				</div>
				<div className="row">
					<BroadcastStatusBadge status={broadcast.status} />
					{canAct && page.editable ? (
						<Link className="btn" to={`/broadcasts/${broadcast.id}/edit`}>
							Edit
						</Link>
					) : null}
				</div>
			</div>
			{broadcast.statusReason ? (
				<div
					className={`alert ${broadcast.status === 'paused' || broadcast.status === 'failed' ? 'alert-error' : 'alert-warn'}`}
					data-testid="status-reason"
				>
					{broadcast.status === 'paused' ? 'Paused: ' : ''}
					{broadcast.statusReason}
				</div>
			) : null}
			{formError ? <div className="alert alert-error">{formError}</div> : null}
			<Summary page={page} />
			{page.editable ? <BeforeLaunch page={page} canAct={canAct} data={data} /> : null}
			{page.progress ? <LiveProgress page={page} canAct={canAct} /> : null}
			{page.retarget ? <RetargetCard page={page} canAct={canAct} /> : null}
		</div>
	)
}

function Summary({ page }: { page: Page }) {
	const { detail } = page
	const { audience } = detail
	const { timezone } = useLoaderData<typeof loader>().user
	const describe = () => {
		if (!audience) return 'Not chosen yet'
		const parts: string[] = []
		if (audience.retarget) {
			parts.push(
				`recipients of ${detail.parentName ?? 'an earlier broadcast'} who ${audience.retarget.kind === 'unread' ? 'did not read it' : 'failed with a retryable error'}`,
			)
		}
		if (audience.everyone) parts.push('every contact')
		if (audience.importId) parts.push('the contacts of an import')
		if (audience.tagsAny.length > 0) parts.push(`tagged any of ${audience.tagsAny.join(', ')}`)
		if (audience.tagsAll.length > 0) parts.push(`tagged all of ${audience.tagsAll.join(', ')}`)
		for (const a of audience.attributes)
			parts.push(`${a.key} ${a.op === 'equals' ? 'is' : 'is not'} “${a.value}”`)
		if (audience.limit) parts.push(`cut to the first ${formatNumber(audience.limit)}`)
		return parts.join('; ')
	}
	return (
		<div className="card">
			<dl className="kv">
				<dt>Sender</dt>
				<dd>
					{detail.sender
						? `${detail.sender.displayNumber} · ${detail.sender.ratePerSecond} messages/s`
						: 'Not chosen yet'}
				</dd>
				<dt>Template</dt>
				<dd>
					{detail.template ? (
						<>
							{detail.template.name} ({detail.template.language}){' '}
							<span className={`badge badge-${metaStatusInfo(detail.template.metaStatus).tone}`}>
								{detail.template.metaStatus ?? 'Not submitted'}
							</span>
						</>
					) : (
						'Not chosen yet'
					)}
				</dd>
				<dt>Audience</dt>
				<dd>{describe()}</dd>
				{detail.broadcast.dailyCap ? (
					<>
						<dt>Daily waves</dt>
						<dd>at most {formatNumber(detail.broadcast.dailyCap)} recipients per 24 hours</dd>
					</>
				) : null}
				<dt>Scheduled</dt>
				<dd data-testid="scheduled-at">
					<ScheduleTime
						at={detail.broadcast.scheduledAt}
						chosenZone={detail.broadcast.scheduleTimezone}
						userZone={timezone}
					/>
				</dd>
				<dt>Created by</dt>
				<dd>
					{detail.creatorName ?? '—'} · {formatDateTime(detail.broadcast.createdAt, timezone)}
				</dd>
				{detail.broadcast.approvalRequired ? (
					<>
						<dt>Approval</dt>
						<dd data-testid="approval">
							{detail.broadcast.approvedAt
								? `Approved by ${detail.approverName ?? 'an admin'} · ${formatDateTime(detail.broadcast.approvedAt, timezone)}`
								: 'Waiting for an admin to approve it'}
						</dd>
					</>
				) : null}
				{detail.broadcast.launchedAt ? (
					<>
						<dt>Started</dt>
						<dd>{formatDateTime(detail.broadcast.launchedAt, timezone)}</dd>
					</>
				) : null}
				{detail.broadcast.completedAt ? (
					<>
						<dt>Finished</dt>
						<dd>{formatDateTime(detail.broadcast.completedAt, timezone)}</dd>
					</>
				) : null}
			</dl>
		</div>
	)
}

function formatDuration(seconds: number) {
	if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`
	const minutes = Math.round(seconds / 60)
	if (minutes < 60) return `${minutes} min`
	const hours = Math.floor(minutes / 60)
	return `${hours} h ${minutes % 60} min`
}

function BeforeLaunch({
	page,
	canAct,
	data,
}: {
	page: Page
	canAct: boolean
	data: ActionData | undefined
}) {
	const { preflight, notReady, detail } = page
	const { broadcast } = detail
	const { user } = useLoaderData<typeof loader>()
	const awaitingApproval = broadcast.approvalRequired && !broadcast.approvedAt
	return (
		<>
			<section className="card stack" aria-labelledby="preflight-title">
				<h2 id="preflight-title">Pre-flight</h2>
				{notReady ? (
					<div className="alert alert-warn" data-testid="not-ready">
						{notReady.message}.{' '}
						{canAct ? (
							<Link to={`/broadcasts/${broadcast.id}/edit`}>Finish the broadcast</Link>
						) : null}
					</div>
				) : null}
				{preflight ? (
					<>
						<div className="grid-stats">
							<div className="stat" data-testid="preflight-eligible">
								<div className="value">{formatNumber(preflight.eligible)}</div>
								<div className="label">will receive it</div>
							</div>
							<div className="stat">
								<div className="value">
									{formatNumber(
										Object.values(preflight.excluded).reduce((sum, n) => sum + (n ?? 0), 0),
									)}
								</div>
								<div className="label">excluded</div>
							</div>
							<div className="stat">
								<div className="value">{formatDuration(preflight.estimatedSeconds)}</div>
								<div className="label">
									estimated at {preflight.sender.ratePerSecond}/s
									{preflight.waves > 1 ? `, over ${preflight.waves} daily waves` : ''}
								</div>
							</div>
						</div>
						{Object.keys(preflight.excluded).length > 0 ? (
							<table className="table" data-testid="exclusions">
								<caption className="muted" style={{ textAlign: 'left' }}>
									Excluded, by reason
								</caption>
								<tbody>
									{Object.entries(preflight.excluded).map(([reason, n]) => (
										<tr key={reason}>
											<td>{SKIP_REASON_LABELS[reason as SkipReason] ?? reason}</td>
											<td>{formatNumber(n ?? 0)}</td>
										</tr>
									))}
								</tbody>
							</table>
						) : (
							<p className="muted">Nobody in the audience is excluded.</p>
						)}
						<dl className="kv">
							<dt>Template</dt>
							<dd>
								{preflight.template.name} ({preflight.template.language}){' '}
								<span className={`badge badge-${metaStatusInfo(preflight.template.status).tone}`}>
									{preflight.template.status ?? 'Not submitted'}
								</span>{' '}
								<span className="muted">
									{metaStatusInfo(preflight.template.status).description}
								</span>
							</dd>
							<dt>Messaging limit</dt>
							<dd data-testid="messaging-limit">
								{preflight.sender.unlimited
									? 'Unlimited tier'
									: preflight.sender.limit != null
										? `${preflight.sender.tier}: ${formatNumber(preflight.sender.limit)} contacts per 24 h; ${formatNumber(preflight.sender.usedLast24h)} used in the last 24 h, ${formatNumber(preflight.sender.headroom ?? 0)} left`
										: `Tier unknown (${formatNumber(preflight.sender.usedLast24h)} contacts messaged in the last 24 h)`}
							</dd>
						</dl>
						{preflight.exceedsHeadroom ? (
							<OverLimit page={page} canAct={canAct} data={data} />
						) : broadcast.dailyCap || detail.audience?.limit ? (
							<SizeChoiceMade page={page} canAct={canAct} />
						) : null}
					</>
				) : null}
			</section>
			{broadcast.approvalRequired ? (
				<section className="card stack" aria-labelledby="approval-title">
					<h2 id="approval-title">Approval</h2>
					{awaitingApproval ? (
						<>
							<p>
								An admin must approve this broadcast before it can be scheduled. Any change
								afterwards needs approval again.
							</p>
							{user.role === 'admin' ? (
								<Form method="post">
									<input type="hidden" name="intent" value="approve" />
									<button className="btn btn-primary" type="submit">
										Approve broadcast
									</button>
								</Form>
							) : null}
						</>
					) : (
						<p>Approved. Editing it sends it back for approval.</p>
					)}
				</section>
			) : null}
			{canAct && preflight ? <TestSendCard data={data} /> : null}
			{canAct ? (
				<ScheduleCard page={page} data={data} blocked={awaitingApproval || !preflight?.canLaunch} />
			) : null}
		</>
	)
}

function OverLimit({
	page,
	canAct,
	data,
}: {
	page: Page
	canAct: boolean
	data: ActionData | undefined
}) {
	const preflight = page.preflight!
	const errors = data?.intent === 'size' ? (data.errors ?? {}) : {}
	return (
		<div className="alert alert-warn stack" data-testid="over-limit">
			<p>
				{formatNumber(preflight.eligible)} recipients is more than the{' '}
				{formatNumber(preflight.sender.headroom ?? 0)} the messaging limit leaves for the next 24
				hours. WhatsApp would refuse the rest. Choose one:
			</p>
			{canAct ? (
				<div className="row" style={{ flexWrap: 'wrap' }}>
					{preflight.suggestedCut ? (
						<Form method="post">
							<input type="hidden" name="intent" value="size" />
							<input type="hidden" name="choice" value="cut" />
							<input type="hidden" name="count" value={preflight.suggestedCut} />
							<button className="btn" type="submit">
								Cut to the first {formatNumber(preflight.suggestedCut)}
							</button>
						</Form>
					) : null}
					{preflight.suggestedDailyCap ? (
						<Form method="post">
							<input type="hidden" name="intent" value="size" />
							<input type="hidden" name="choice" value="waves" />
							<input type="hidden" name="count" value={preflight.suggestedDailyCap} />
							<button className="btn" type="submit">
								Send in daily waves of {formatNumber(preflight.suggestedDailyCap)} (
								{Math.ceil(preflight.eligible / preflight.suggestedDailyCap)} days)
							</button>
						</Form>
					) : null}
				</div>
			) : null}
			{Object.values(errors).map((message) => (
				<p key={message} className="field-error">
					{message}
				</p>
			))}
		</div>
	)
}

function SizeChoiceMade({ page, canAct }: { page: Page; canAct: boolean }) {
	const { broadcast, audience } = page.detail
	return (
		<div
			className="alert alert-success row"
			style={{ justifyContent: 'space-between', flexWrap: 'wrap' }}
		>
			<span>
				{audience?.limit
					? `Cut to the first ${formatNumber(audience.limit)} eligible contacts; the rest are skipped as over the limit.`
					: `Sent in daily waves of at most ${formatNumber(broadcast.dailyCap ?? 0)} recipients.`}
			</span>
			{canAct ? (
				<Form method="post">
					<input type="hidden" name="intent" value="size" />
					<input type="hidden" name="choice" value="whole" />
					<button className="btn btn-small" type="submit">
						Send it whole instead
					</button>
				</Form>
			) : null}
		</div>
	)
}

function TestSendCard({ data }: { data: ActionData | undefined }) {
	const errors = data?.intent === 'test_send' ? (data.errors ?? {}) : {}
	return (
		<section className="card stack" aria-labelledby="test-send-title">
			<h2 id="test-send-title">Test send</h2>
			<p className="muted">
				Sends this message to one number now, with that contact&apos;s values if the number is a
				contact (otherwise fixed texts and fallbacks). It does not count as part of the broadcast.
			</p>
			<Form method="post" className="row" style={{ flexWrap: 'wrap', alignItems: 'flex-end' }}>
				<input type="hidden" name="intent" value="test_send" />
				<div className="field">
					<label htmlFor="test-phone">Phone number for the test</label>
					<input
						id="test-phone"
						name="phone"
						type="tel"
						placeholder="+51987654321"
						aria-invalid={Boolean(errors.phone)}
						aria-describedby={errors.phone ? 'test-phone-error' : undefined}
					/>
				</div>
				<button className="btn" type="submit">
					Send test
				</button>
			</Form>
			{errors.phone ? (
				<p className="field-error" id="test-phone-error">
					{errors.phone}
				</p>
			) : null}
			{data?.intent === 'test_send' && data.message ? (
				<p className="alert alert-success" data-testid="test-send-result">
					{data.message}
				</p>
			) : null}
		</section>
	)
}

function RetargetCard({ page, canAct }: { page: Page; canAct: boolean }) {
	const counts = page.retarget!
	const options = [
		{ kind: 'unread', n: counts.unread, label: 'Did not read it' },
		{
			kind: 'retryable_failed',
			n: counts.retryableFailed,
			label: 'Failed with an error worth retrying',
		},
	]
	return (
		<section className="card stack" aria-labelledby="retarget-title">
			<h2 id="retarget-title">Retarget</h2>
			<p className="muted">
				Start a new draft, with the same sender, template and variables, for the recipients who:
			</p>
			<div className="row" style={{ flexWrap: 'wrap' }}>
				{options.map((option) => (
					<Form key={option.kind} method="post">
						<input type="hidden" name="intent" value="retarget" />
						<input type="hidden" name="kind" value={option.kind} />
						<button className="btn" type="submit" disabled={!canAct || option.n === 0}>
							{option.label} ({formatNumber(option.n)})
						</button>
					</Form>
				))}
			</div>
		</section>
	)
}

function ScheduleCard({
	page,
	data,
	blocked,
}: {
	page: Page
	data: ActionData | undefined
	blocked: boolean
}) {
	const { schedule, user } = useLoaderData<typeof loader>()
	const { broadcast } = page.detail
	const errors = data?.intent === 'schedule' ? (data.errors ?? {}) : {}
	const [when, setWhen] = useState<'now' | 'later'>(broadcast.scheduledAt ? 'later' : 'now')
	return (
		<section className="card stack" aria-labelledby="schedule-title">
			<h2 id="schedule-title">{broadcast.status === 'scheduled' ? 'Scheduled' : 'Schedule'}</h2>
			{broadcast.status === 'scheduled' ? (
				<div className="row" style={{ justifyContent: 'space-between', flexWrap: 'wrap' }}>
					<p>
						Starts{' '}
						<strong>
							<ScheduleTime
								at={broadcast.scheduledAt}
								chosenZone={broadcast.scheduleTimezone}
								userZone={user.timezone}
							/>
						</strong>
						. You can change the time below, edit it, or unschedule it until it starts.
					</p>
					<ConfirmButton
						fields={{ intent: 'unschedule' }}
						confirm="Unschedule this broadcast? It goes back to draft."
						className="btn"
					>
						Unschedule
					</ConfirmButton>
				</div>
			) : null}
			{blocked ? (
				<p className="muted">
					{page.preflight?.canLaunch
						? 'It can be scheduled once an admin approves it.'
						: 'It can be scheduled once the pre-flight above shows no problem.'}
				</p>
			) : (
				<Form method="post" className="stack builder">
					<input type="hidden" name="intent" value="schedule" />
					<fieldset className="stack">
						<legend>When</legend>
						<label className="row">
							<input
								type="radio"
								name="when"
								value="now"
								checked={when === 'now'}
								onChange={() => setWhen('now')}
							/>
							Now
						</label>
						<label className="row">
							<input
								type="radio"
								name="when"
								value="later"
								checked={when === 'later'}
								onChange={() => setWhen('later')}
							/>
							Later
						</label>
						{errors.when ? <p className="field-error">{errors.when}</p> : null}
					</fieldset>
					<div className="form-grid">
						<div className="field">
							<label htmlFor="schedule-at">Date and time</label>
							<input
								id="schedule-at"
								type="datetime-local"
								name="at"
								defaultValue={schedule.at}
								aria-invalid={Boolean(errors.at)}
								onFocus={() => setWhen('later')}
							/>
							{errors.at ? <p className="field-error">{errors.at}</p> : null}
						</div>
						<div className="field">
							<label htmlFor="schedule-zone">Timezone</label>
							<select
								id="schedule-zone"
								name="timezone"
								defaultValue={schedule.zone}
								aria-invalid={Boolean(errors.timezone)}
							>
								{schedule.zones.includes(schedule.zone) ? null : (
									<option value={schedule.zone}>{schedule.zone}</option>
								)}
								{schedule.zones.map((zone) => (
									<option key={zone} value={zone}>
										{zone}
									</option>
								))}
							</select>
							<span className="hint">
								The time is read in this zone. Your zone is {user.timezone}.
							</span>
							{errors.timezone ? <p className="field-error">{errors.timezone}</p> : null}
						</div>
					</div>
					{errors.templateId || errors.senderId || errors.audience || errors.variableMapping ? (
						<p className="field-error">
							{errors.templateId ?? errors.senderId ?? errors.audience ?? errors.variableMapping}
						</p>
					) : null}
					<div className="row">
						<button className="btn btn-primary" type="submit">
							{when === 'now'
								? 'Send now'
								: broadcast.status === 'scheduled'
									? 'Reschedule'
									: 'Schedule'}
						</button>
					</div>
				</Form>
			)}
		</section>
	)
}

/** Refetches the counters every 2 s while the broadcast can still change, without a reload. */
function useLiveProgress(initial: BroadcastProgress, broadcastId: string, pageStatus: string) {
	const fetcher = useFetcher<BroadcastProgress>()
	const revalidator = useRevalidator()
	const progress = fetcher.data ?? initial
	const recentlyDone =
		progress.completedAt != null &&
		Date.now() - new Date(progress.completedAt).getTime() < 10 * 60_000
	const live =
		progress.status === 'sending' ||
		progress.status === 'scheduled' ||
		progress.inFlight > 0 ||
		recentlyDone
	useEffect(() => {
		if (!live) return
		const timer = setInterval(() => {
			if (document.visibilityState === 'visible')
				fetcher.load(`/broadcasts/${broadcastId}/progress`)
		}, 2000)
		return () => clearInterval(timer)
		// fetcher.load is stable enough for polling; re-arming on every fetcher change would reset the timer.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [live, broadcastId])
	// A status change (started, finished, paused by the engine) changes what the page offers:
	// reload its data. Compared with the status the page shows, which the loader read first.
	useEffect(() => {
		if (fetcher.data && fetcher.data.status !== pageStatus && revalidator.state === 'idle')
			revalidator.revalidate()
	}, [fetcher.data, pageStatus, revalidator])
	return progress
}

function LiveProgress({ page, canAct }: { page: Page; canAct: boolean }) {
	const { user } = useLoaderData<typeof loader>()
	const { broadcast } = page.detail
	const progress = useLiveProgress(page.progress!, broadcast.id, broadcast.status)
	const stats: Array<[string, number, string]> = [
		['Sent', progress.sent, 'sent'],
		['Delivered', progress.delivered, 'delivered'],
		['Read', progress.read, 'read'],
		['Failed', progress.failed, 'failed'],
		['Skipped', progress.skipped, 'skipped'],
		['Remaining', progress.remaining, 'remaining'],
	]
	if (progress.status === 'scheduled' && progress.total === 0) {
		return (
			<section className="card stack" aria-labelledby="progress-title" aria-live="polite">
				<h2 id="progress-title">Progress</h2>
				<p className="muted">
					Waiting to start. This page follows the sending by itself once it begins.
				</p>
			</section>
		)
	}
	return (
		<>
			<section className="card stack" aria-labelledby="progress-title" aria-live="polite">
				<h2 id="progress-title">Progress</h2>
				<ProgressBar percent={progress.percent} label="Broadcast progress" />
				<p className="muted">
					{formatNumber(progress.done)} of {formatNumber(progress.total)} recipients done (
					{progress.percent}%)
				</p>
				<div className="grid-stats">
					{stats.map(([label, value, key]) => (
						<div key={key} className="stat" data-testid={`progress-${key}`}>
							<div className="value">{formatNumber(value)}</div>
							<div className="label">{label}</div>
						</div>
					))}
					<div className="stat" data-testid="progress-rate">
						<div className="value">{progress.rate.toFixed(1)}/s</div>
						<div className="label">current rate</div>
					</div>
					<div className="stat" data-testid="progress-finish">
						<div className="value" style={{ fontSize: '1rem' }}>
							{progress.estimatedFinish
								? formatDateTime(progress.estimatedFinish, user.timezone)
								: '—'}
						</div>
						<div className="label">estimated finish</div>
					</div>
				</div>
				{progress.retrying > 0 || progress.inFlight > 0 ? (
					<p className="muted">
						{formatNumber(progress.retrying)} waiting to retry, {formatNumber(progress.inFlight)} in
						flight or being checked.
					</p>
				) : null}
				<noscript>
					<Link to=".">Refresh</Link>
				</noscript>
			</section>
			{canAct && (broadcast.status === 'sending' || broadcast.status === 'paused') ? (
				<section className="card row" style={{ flexWrap: 'wrap' }} aria-label="Controls">
					{broadcast.status === 'sending' ? (
						<ConfirmButton
							fields={{ intent: 'pause' }}
							confirm="Pause this broadcast? No new message starts until you resume it."
							className="btn"
						>
							Pause
						</ConfirmButton>
					) : (
						<ConfirmButton
							fields={{ intent: 'resume' }}
							confirm="Resume this broadcast? Each remaining recipient is sent once."
							className="btn btn-primary"
						>
							Resume
						</ConfirmButton>
					)}
					<ConfirmButton
						fields={{ intent: 'cancel' }}
						confirm="Cancel this broadcast? Everyone not sent yet is skipped. This cannot be undone."
						className="btn btn-danger"
					>
						Cancel broadcast
					</ConfirmButton>
				</section>
			) : null}
		</>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
