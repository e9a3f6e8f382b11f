import { Form, Link } from '@remix-run/react'

export const STEP_LABELS = {
	basics: 'Name and sender',
	template: 'Template',
	audience: 'Audience',
	variables: 'Variables',
	preview: 'Preview',
} as const
export type Step = keyof typeof STEP_LABELS

/** The builder's steps as links; before the draft exists only the first one is reachable. */
export function StepNav({
	broadcastId,
	current,
	done,
}: {
	broadcastId: string | null
	current: Step
	done: readonly string[]
}) {
	return (
		<nav aria-label="Broadcast steps">
			<ol className="steps">
				{(Object.keys(STEP_LABELS) as Step[]).map((step, i) => {
					const label = `${i + 1}. ${STEP_LABELS[step]}`
					const className = done.includes(step) ? 'done' : undefined
					return (
						<li key={step}>
							{broadcastId ? (
								<Link
									to={`/broadcasts/${broadcastId}/edit?step=${step}`}
									aria-current={step === current ? 'step' : undefined}
									className={className}
								>
									{label}
								</Link>
							) : (
								<span aria-current={step === current ? 'step' : undefined} className={className}>
									{label}
								</span>
							)}
						</li>
					)
				})}
			</ol>
		</nav>
	)
}

export type SenderOption = {
	id: string
	displayNumber: string
	name: string
	ratePerSecond: number
	messagingLimitTier: string | null
}

/** Step 1: the broadcast's name and the number it is sent from. */
export function BasicsForm({
	senders,
	defaults,
	errors,
}: {
	senders: SenderOption[]
	defaults: { name: string; senderId: string | null }
	errors: Record<string, string>
}) {
	return (
		<Form method="post" className="card stack">
			<input type="hidden" name="intent" value="basics" />
			<div className="field">
				<label htmlFor="broadcast-name">Name</label>
				<input
					id="broadcast-name"
					name="name"
					defaultValue={defaults.name}
					required
					maxLength={200}
					aria-invalid={Boolean(errors.name)}
					aria-describedby={errors.name ? 'broadcast-name-error' : undefined}
				/>
				<span className="hint">For your team only; recipients do not see it.</span>
				{errors.name ? (
					<p className="field-error" id="broadcast-name-error">
						{errors.name}
					</p>
				) : null}
			</div>
			<div className="field">
				<label htmlFor="broadcast-sender">Sender number</label>
				{senders.length === 0 ? (
					<p className="muted">
						No sender numbers yet: an admin adds them under Settings → Sender numbers.
					</p>
				) : (
					<select
						id="broadcast-sender"
						name="senderId"
						defaultValue={defaults.senderId ?? ''}
						aria-invalid={Boolean(errors.senderId)}
					>
						<option value="">Choose a number…</option>
						{senders.map((s) => (
							<option key={s.id} value={s.id}>
								{s.displayNumber}
								{s.name ? ` · ${s.name}` : ''} · {s.ratePerSecond}/s
								{s.messagingLimitTier ? ` · ${s.messagingLimitTier}` : ''}
							</option>
						))}
					</select>
				)}
				{errors.senderId ? <p className="field-error">{errors.senderId}</p> : null}
			</div>
			{errors.form ? <div className="alert alert-error">{errors.form}</div> : null}
			<div className="row">
				<button className="btn btn-primary" type="submit">
					Save and continue
				</button>
			</div>
		</Form>
	)
}
