import { Form, useNavigation } from '@remix-run/react'
import { useMemo, useState, type ReactNode } from 'react'
import {
	BUTTON_TYPE_LABEL,
	emptyButton,
	errorsByField,
	exampleSlots,
	formStateToDefinition,
	type ButtonState,
	type ButtonType,
	type TemplateFormState,
} from '#app/lib/templates/form'
import { TEMPLATE_LANGUAGES } from '#app/lib/templates/languages'
import { LIMITS, validateTemplate, type ValidationError } from '#app/lib/templates/validate'
import { TemplatePreview } from './template-preview'

function FieldErrors({ id, messages }: { id: string; messages?: string[] }) {
	if (!messages?.length) return null
	return (
		<div id={id}>
			{messages.map((message, i) => (
				<p key={i} className="field-error">
					{message}
				</p>
			))}
		</div>
	)
}

function Counter({ value, max }: { value: string; max: number }) {
	return (
		<span className="hint" aria-live="polite">
			{value.length}/{max}
		</span>
	)
}

/**
 * The template editor: every field posts as a plain form, and with JavaScript the preview and the
 * validation (the same validator the server runs) follow each keystroke.
 */
export function TemplateEditor({
	initial,
	wabaIds,
	lockIdentity,
	serverErrors,
	formError,
	submitLabel,
	children,
}: {
	initial: TemplateFormState
	wabaIds: string[]
	/** Name, language and category are fixed once the template exists on WhatsApp. */
	lockIdentity: boolean
	/** Errors from a rejected post: every error shows, and these until the next edit. */
	serverErrors?: ValidationError[]
	formError?: string | null
	submitLabel: string
	children?: ReactNode
}) {
	const [state, setState] = useState(initial)
	const [touched, setTouched] = useState<Set<string>>(new Set())
	const [submitted, setSubmitted] = useState(Boolean(serverErrors?.length))
	const [dirty, setDirty] = useState(false)
	const navigation = useNavigation()
	const definition = useMemo(() => formStateToDefinition(state), [state])
	const result = useMemo(() => validateTemplate(definition), [definition])
	const shown = useMemo(
		() =>
			dirty || !serverErrors
				? result.errors
				: [
						...result.errors,
						...serverErrors.filter(
							(e) => !result.errors.some((r) => r.rule === e.rule && r.path === e.path),
						),
					],
		[dirty, result, serverErrors],
	)
	const allErrors = useMemo(() => errorsByField(definition, shown), [definition, shown])
	const errorsFor = (key: string) => (submitted || touched.has(key) ? allErrors[key] : undefined)
	const isAuth = state.category === 'AUTHENTICATION'

	function update<K extends keyof TemplateFormState>(
		key: K,
		value: TemplateFormState[K],
		field: string = key,
	) {
		setState((s) => ({ ...s, [key]: value }))
		setTouched((t) => new Set(t).add(field))
		setDirty(true)
	}
	function updateButton(index: number, patch: Partial<ButtonState>) {
		setState((s) => ({
			...s,
			buttons: s.buttons.map((b, i) => (i === index ? { ...b, ...patch } : b)),
		}))
		setTouched((t) => new Set(t).add(`button.${index}`).add('buttons'))
		setDirty(true)
	}
	const invalid = (key: string) => (errorsFor(key)?.length ? true : undefined)
	const slots = exampleSlots(state)
	const summary = submitted ? shown : []

	return (
		<Form
			method="post"
			className="template-editor"
			noValidate
			onSubmit={(event) => {
				const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null
				if (submitter?.value === 'save' && !result.ok) {
					event.preventDefault()
					setSubmitted(true)
				}
			}}
		>
			<div className="stack">
				{formError ? <div className="alert alert-error">{formError}</div> : null}
				{summary.length > 0 ? (
					<div className="alert alert-error" role="alert" data-testid="template-errors">
						<strong>Fix these before saving:</strong>
						<ul className="error-list">
							{summary.map((e, i) => (
								<li key={i}>{e.message}</li>
							))}
						</ul>
					</div>
				) : null}
				<input type="hidden" name="buttonCount" value={state.buttons.length} />
				<section className="card stack">
					<h2>Basics</h2>
					<div className="form-grid">
						<div className="field">
							<label htmlFor="tpl-name">Name</label>
							<input
								id="tpl-name"
								name="name"
								value={state.name}
								readOnly={lockIdentity}
								autoComplete="off"
								aria-invalid={invalid('name')}
								aria-describedby="tpl-name-errors"
								onChange={(e) => update('name', e.target.value)}
							/>
							<span className="hint">
								Lowercase letters, digits and underscores, e.g. spring_sale.
							</span>
							<FieldErrors id="tpl-name-errors" messages={errorsFor('name')} />
						</div>
						<div className="field">
							<label htmlFor="tpl-language">Language</label>
							{lockIdentity ? <input type="hidden" name="language" value={state.language} /> : null}
							<select
								id="tpl-language"
								name={lockIdentity ? undefined : 'language'}
								value={state.language}
								disabled={lockIdentity}
								aria-invalid={invalid('language')}
								onChange={(e) => update('language', e.target.value)}
							>
								{TEMPLATE_LANGUAGES.map((l) => (
									<option key={l.code} value={l.code}>
										{l.name} ({l.code})
									</option>
								))}
							</select>
							<FieldErrors id="tpl-language-errors" messages={errorsFor('language')} />
						</div>
						<div className="field">
							<label htmlFor="tpl-category">Category</label>
							{lockIdentity ? <input type="hidden" name="category" value={state.category} /> : null}
							<select
								id="tpl-category"
								name={lockIdentity ? undefined : 'category'}
								value={state.category}
								disabled={lockIdentity}
								onChange={(e) =>
									update('category', e.target.value as TemplateFormState['category'])
								}
							>
								<option value="MARKETING">Marketing (offers, news, invitations)</option>
								<option value="UTILITY">Utility (updates on an order, booking or account)</option>
								<option value="AUTHENTICATION">Authentication (one-time codes)</option>
							</select>
							<FieldErrors id="tpl-category-errors" messages={errorsFor('category')} />
						</div>
						{!isAuth ? (
							<div className="field">
								<label htmlFor="tpl-format">Variables</label>
								<select
									id="tpl-format"
									name="parameterFormat"
									value={state.parameterFormat}
									onChange={(e) =>
										update(
											'parameterFormat',
											e.target.value as TemplateFormState['parameterFormat'],
										)
									}
								>
									<option value="POSITIONAL">
										Numbered: {'{{1}}'}, {'{{2}}'}…
									</option>
									<option value="NAMED">Named: {'{{first_name}}'}…</option>
								</select>
							</div>
						) : null}
						{wabaIds.length > 1 && !lockIdentity ? (
							<div className="field">
								<label htmlFor="tpl-waba">WhatsApp account (WABA)</label>
								<select
									id="tpl-waba"
									name="wabaId"
									value={state.wabaId}
									onChange={(e) => update('wabaId', e.target.value)}
								>
									{wabaIds.map((id) => (
										<option key={id} value={id}>
											{id}
										</option>
									))}
								</select>
							</div>
						) : (
							<input type="hidden" name="wabaId" value={state.wabaId} />
						)}
					</div>
				</section>

				{isAuth ? (
					<section className="card stack">
						<h2>Code message</h2>
						<p className="muted">
							WhatsApp writes authentication messages itself: “<em>123456</em> is your verification
							code.”
						</p>
						<label className="row">
							<input
								type="checkbox"
								name="securityRecommendation"
								checked={state.securityRecommendation}
								onChange={(e) => update('securityRecommendation', e.target.checked)}
							/>
							Add “For your security, do not share this code.”
						</label>
						<div className="form-grid">
							<div className="field">
								<label htmlFor="tpl-expiry">Code expires after (minutes, optional)</label>
								<input
									id="tpl-expiry"
									name="codeExpirationMinutes"
									inputMode="numeric"
									value={state.codeExpirationMinutes}
									aria-invalid={invalid('footer')}
									onChange={(e) => update('codeExpirationMinutes', e.target.value, 'footer')}
								/>
								<FieldErrors id="tpl-expiry-errors" messages={errorsFor('footer')} />
							</div>
							<div className="field">
								<label htmlFor="tpl-otp">Copy-code button text</label>
								<input
									id="tpl-otp"
									name="otpText"
									value={state.otpText}
									onChange={(e) => update('otpText', e.target.value, 'buttons')}
								/>
								<FieldErrors
									id="tpl-otp-errors"
									messages={errorsFor('button.0') ?? errorsFor('form')}
								/>
							</div>
						</div>
					</section>
				) : (
					<>
						<section className="card stack">
							<h2>Header</h2>
							<div className="form-grid">
								<div className="field">
									<label htmlFor="tpl-header-format">Header</label>
									<select
										id="tpl-header-format"
										name="headerFormat"
										value={state.headerFormat}
										onChange={(e) =>
											update(
												'headerFormat',
												e.target.value as TemplateFormState['headerFormat'],
												'header',
											)
										}
									>
										<option value="NONE">None</option>
										<option value="TEXT">Text</option>
										<option value="IMAGE">Image</option>
										<option value="VIDEO">Video</option>
										<option value="DOCUMENT">Document</option>
										<option value="LOCATION">Location</option>
									</select>
								</div>
								{state.headerFormat === 'TEXT' ? (
									<div className="field">
										<label htmlFor="tpl-header-text">Header text</label>
										<input
											id="tpl-header-text"
											name="headerText"
											value={state.headerText}
											aria-invalid={invalid('header')}
											onChange={(e) => update('headerText', e.target.value, 'header')}
										/>
										<Counter value={state.headerText} max={LIMITS.headerText} />
									</div>
								) : null}
								{['IMAGE', 'VIDEO', 'DOCUMENT'].includes(state.headerFormat) ? (
									<div className="field">
										<label htmlFor="tpl-header-handle">Sample media handle</label>
										<input
											id="tpl-header-handle"
											name="headerHandle"
											value={state.headerHandle}
											aria-invalid={invalid('header')}
											onChange={(e) => update('headerHandle', e.target.value, 'header')}
										/>
										<span className="hint">
											WhatsApp reviews a sample file: upload it through Kapso’s media upload and
											paste the handle it returns.
										</span>
									</div>
								) : null}
							</div>
							<FieldErrors id="tpl-header-errors" messages={errorsFor('header')} />
						</section>

						<section className="card stack">
							<h2>Body</h2>
							<div className="field">
								<label htmlFor="tpl-body">Message text</label>
								<textarea
									id="tpl-body"
									name="bodyText"
									value={state.bodyText}
									rows={6}
									aria-invalid={invalid('body')}
									aria-describedby="tpl-body-errors"
									onChange={(e) => update('bodyText', e.target.value, 'body')}
								/>
								<span className="hint">
									*bold*, _italic_, ~strikethrough~. Variables:{' '}
									{state.parameterFormat === 'NAMED' ? '{{first_name}}' : '{{1}}, {{2}}…'} — not at
									the very start or end. <Counter value={state.bodyText} max={LIMITS.bodyText} />
								</span>
								<FieldErrors id="tpl-body-errors" messages={errorsFor('body')} />
							</div>
							{slots.length > 0 ? (
								<div className="stack">
									<h3>Examples for the review</h3>
									<div className="variable-list">
										{slots.map((slot) => (
											<div className="field" key={slot.id}>
												<label htmlFor={`tpl-example-${slot.id}`}>
													{slot.part === 'header' ? 'Header' : 'Body'} example for{' '}
													{`{{${slot.key}}}`}
												</label>
												<input
													id={`tpl-example-${slot.id}`}
													name={`example:${slot.id}`}
													value={state.examples[slot.id] ?? ''}
													onChange={(e) =>
														update(
															'examples',
															{ ...state.examples, [slot.id]: e.target.value },
															`${slot.part}Examples`,
														)
													}
												/>
											</div>
										))}
									</div>
									<FieldErrors
										id="tpl-header-example-errors"
										messages={errorsFor('headerExamples')}
									/>
									<FieldErrors id="tpl-body-example-errors" messages={errorsFor('bodyExamples')} />
								</div>
							) : null}
						</section>

						<section className="card stack">
							<h2>Footer</h2>
							<div className="field">
								<label htmlFor="tpl-footer">Footer text (optional)</label>
								<input
									id="tpl-footer"
									name="footerText"
									value={state.footerText}
									aria-invalid={invalid('footer')}
									onChange={(e) => update('footerText', e.target.value, 'footer')}
								/>
								<Counter value={state.footerText} max={LIMITS.footerText} />
								<FieldErrors id="tpl-footer-errors" messages={errorsFor('footer')} />
							</div>
						</section>

						<section className="card stack">
							<h2>Buttons</h2>
							<p className="muted">
								Up to 10: quick replies grouped together, at most 2 website buttons, 1 call button
								and 1 copy-code button.
							</p>
							{state.buttons.map((button, i) => (
								<ButtonRow
									key={i}
									index={i}
									button={button}
									errors={errorsFor(`button.${i}`)}
									onChange={(patch) => updateButton(i, patch)}
									onRemove={() => {
										setState((s) => ({ ...s, buttons: s.buttons.filter((_, j) => j !== i) }))
										setTouched((t) => new Set(t).add('buttons'))
									}}
								/>
							))}
							<FieldErrors id="tpl-buttons-errors" messages={errorsFor('buttons')} />
							<div className="row">
								<button
									type="submit"
									name="intent"
									value="add_button"
									className="btn btn-small"
									onClick={(e) => {
										e.preventDefault()
										setState((s) => ({ ...s, buttons: [...s.buttons, emptyButton()] }))
									}}
								>
									Add button
								</button>
							</div>
						</section>
					</>
				)}
				<FieldErrors id="tpl-form-errors" messages={isAuth ? undefined : errorsFor('form')} />
				<div className="row">
					<button
						type="submit"
						name="intent"
						value="save"
						className="btn btn-primary"
						disabled={navigation.state === 'submitting'}
					>
						{submitLabel}
					</button>
					{children}
				</div>
			</div>
			<aside className="preview-column stack">
				<h2>Preview</h2>
				<TemplatePreview components={definition.components} category={state.category} />
				<p className="muted">
					{result.ok
						? 'Ready for review.'
						: `${result.errors.length} thing${result.errors.length === 1 ? '' : 's'} to fix.`}
				</p>
			</aside>
		</Form>
	)
}

function ButtonRow({
	index,
	button,
	errors,
	onChange,
	onRemove,
}: {
	index: number
	button: ButtonState
	errors?: string[]
	onChange: (patch: Partial<ButtonState>) => void
	onRemove: () => void
}) {
	const n = index + 1
	const prefix = `button.${index}`
	return (
		<div className="stack">
			<div className="button-row">
				<div className="field">
					<label htmlFor={`${prefix}.type`}>Button {n} type</label>
					<select
						id={`${prefix}.type`}
						name={`${prefix}.type`}
						value={button.type}
						onChange={(e) => onChange({ type: e.target.value as ButtonType })}
					>
						{(Object.keys(BUTTON_TYPE_LABEL) as ButtonType[]).map((type) => (
							<option key={type} value={type}>
								{BUTTON_TYPE_LABEL[type]}
							</option>
						))}
					</select>
				</div>
				{button.type === 'COPY_CODE' ? (
					<div className="field">
						<label htmlFor={`${prefix}.code`}>Button {n} example code</label>
						<input
							id={`${prefix}.code`}
							name={`${prefix}.code`}
							value={button.code}
							onChange={(e) => onChange({ code: e.target.value })}
						/>
					</div>
				) : (
					<div className="field">
						<label htmlFor={`${prefix}.text`}>Button {n} text</label>
						<input
							id={`${prefix}.text`}
							name={`${prefix}.text`}
							value={button.text}
							onChange={(e) => onChange({ text: e.target.value })}
						/>
					</div>
				)}
				{button.type === 'URL' ? (
					<>
						<div className="field">
							<label htmlFor={`${prefix}.url`}>Button {n} URL</label>
							<input
								id={`${prefix}.url`}
								name={`${prefix}.url`}
								value={button.url}
								placeholder="https://shop.example/order/{{1}}"
								onChange={(e) => onChange({ url: e.target.value })}
							/>
						</div>
						<div className="field">
							<label htmlFor={`${prefix}.urlExample`}>Button {n} URL example</label>
							<input
								id={`${prefix}.urlExample`}
								name={`${prefix}.urlExample`}
								value={button.urlExample}
								disabled={!button.url.includes('{{')}
								placeholder="https://shop.example/order/A-42"
								onChange={(e) => onChange({ urlExample: e.target.value })}
							/>
						</div>
					</>
				) : button.type === 'PHONE_NUMBER' ? (
					<>
						<div className="field">
							<label htmlFor={`${prefix}.phone`}>Button {n} phone number</label>
							<input
								id={`${prefix}.phone`}
								name={`${prefix}.phone`}
								value={button.phone}
								placeholder="+34 600 000 000"
								onChange={(e) => onChange({ phone: e.target.value })}
							/>
						</div>
						<div />
					</>
				) : (
					<>
						<div />
						<div />
					</>
				)}
				<button
					type="submit"
					name="intent"
					value={`remove_button:${index}`}
					className="btn btn-ghost btn-small"
					aria-label={`Remove button ${n}`}
					onClick={(e) => {
						e.preventDefault()
						onRemove()
					}}
				>
					Remove
				</button>
			</div>
			<FieldErrors id={`${prefix}.errors`} messages={errors} />
		</div>
	)
}
