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
import { getCountries } from 'libphonenumber-js/min'
import { useEffect } from 'react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { DELIMITERS } from '#app/lib/imports/delimiter'
import { ENCODINGS } from '#app/lib/imports/encoding'
import {
	findPreviousImportOfFile,
	getImport,
	importProgress,
	listImportErrors,
	requestCancel,
	startImport,
	type ImportProgress,
} from '#app/lib/imports/imports.server'
import { COLUMN_TARGETS } from '#app/lib/imports/columns'
import { ImportOptionsSchema, parseTags, type ColumnMapping } from '#app/lib/imports/options'
import { previewFile } from '#app/lib/imports/preview.server'
import contactStyles from '#app/styles/contacts.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime, formatNumber } from '#app/utils/format'
import { maskPhone } from '#app/lib/contacts/mask'

export const meta: MetaFunction = () => [{ title: 'Import · Pregón' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: contactStyles }]

const ENCODING_LABEL: Record<string, string> = {
	'utf-8': 'UTF-8',
	'utf-16le': 'UTF-16 LE',
	'utf-16be': 'UTF-16 BE',
	'windows-1252': 'Windows-1252 (Excel, Western)',
}
const DELIMITER_LABEL: Record<string, string> = { ',': 'Comma ,', ';': 'Semicolon ;', '\t': 'Tab' }
const TARGET_LABEL: Record<string, string> = {
	phone: 'Phone',
	name: 'Name',
	email: 'Email',
	attribute: 'Attribute',
	opt_out: 'Opt-out flag',
	ignore: 'Ignore',
}

const ChosenSchema = z.object({
	encoding: z.enum(ENCODINGS).optional().catch(undefined),
	delimiter: z.enum(DELIMITERS).optional().catch(undefined),
})

function countryOptions() {
	const names = new Intl.DisplayNames(['en'], { type: 'region' })
	return getCountries()
		.map((code) => ({ code, name: names.of(code) ?? code }))
		.sort((a, b) => a.name.localeCompare(b.name))
}

export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const id = z.uuid().safeParse(params.importId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const row = await getImport(id.data)
	if (!row) throw new Response('Not found', { status: 404 })
	const canEdit = user.role !== 'analyst'
	const awaitingMapping =
		row.status === 'queued' && !row.startedAt && Object.keys(row.options).length === 0
	const base = {
		id: row.id,
		fileName: row.fileName,
		fileSize: row.fileSize,
		canEdit,
		timezone: user.timezone,
	}
	if (awaitingMapping && row.filePath) {
		const chosen = ChosenSchema.parse(Object.fromEntries(new URL(request.url).searchParams))
		const [preview, previous] = await Promise.all([
			previewFile(row.filePath, chosen),
			row.fileSha256 ? findPreviousImportOfFile(row.fileSha256, row.id) : undefined,
		])
		// Analysts read the file's first rows with the phone column masked, as everywhere else.
		const shown =
			canEdit || preview.phoneColumn < 0
				? preview
				: {
						...preview,
						rows: preview.rows.map((cells) =>
							cells.map((cell, index) => (index === preview.phoneColumn ? maskPhone(cell) : cell)),
						),
					}
		return {
			...base,
			step: 'mapping' as const,
			preview: shown,
			previous,
			countries: countryOptions(),
		}
	}
	const [progress, errors] = await Promise.all([
		importProgress(row.id),
		row.status === 'completed'
			? listImportErrors(row.id, { limit: 200, maskValues: !canEdit })
			: Promise.resolve([]),
	])
	return {
		...base,
		step: 'progress' as const,
		progress: progress as ImportProgress,
		errors,
		errorsShown: errors.length,
	}
}

const StartSchema = z.object({
	intent: z.literal('start'),
	encoding: z.enum(ENCODINGS),
	delimiter: z.enum(DELIMITERS),
	defaultCountry: z.string(),
	tags: z.string().max(1000).default(''),
	updateExisting: z.literal('on').optional(),
	columnCount: z.coerce.number().int().min(1).max(1000),
})

export async function action({ request, params }: ActionFunctionArgs) {
	await requireRole(request, ['admin', 'marketer'])
	const id = z.uuid().safeParse(params.importId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const row = await getImport(id.data)
	if (!row) throw new Response('Not found', { status: 404 })
	const form = Object.fromEntries(await request.formData()) as Record<string, string>
	if (form.intent === 'cancel') {
		await requestCancel(row.id)
		return { ok: true as const }
	}
	const start = StartSchema.safeParse(form)
	if (!start.success)
		return Response.json(
			{ errors: { form: 'The form is incomplete; reload the page.' } },
			{ status: 400 },
		)
	const columns: ColumnMapping[] = []
	for (let index = 0; index < start.data.columnCount; index++) {
		const target = z.enum(COLUMN_TARGETS).catch('ignore').parse(form[`target_${index}`])
		if (target === 'ignore') continue
		columns.push({
			index,
			header: String(form[`header_${index}`] ?? '').slice(0, 500),
			target,
			...(target === 'attribute' ? { key: String(form[`key_${index}`] ?? '').trim() } : {}),
		})
	}
	const options = ImportOptionsSchema.safeParse({
		defaultCountry: start.data.defaultCountry,
		encoding: start.data.encoding,
		delimiter: start.data.delimiter,
		columns,
		tags: parseTags(start.data.tags),
		updateExisting: start.data.updateExisting === 'on',
	})
	if (!options.success) {
		const errors: Record<string, string> = {}
		for (const issue of options.error.issues) {
			const [first, index, field] = issue.path
			if (first === 'columns' && typeof index === 'number' && field === 'key')
				errors[`key_${columns[index].index}`] = issue.message
			else if (first === 'columns') errors.columns = issue.message
			else errors[String(first)] = issue.message
		}
		return Response.json({ errors }, { status: 400 })
	}
	const keys = columns.filter((c) => c.target === 'attribute').map((c) => c.key)
	if (new Set(keys).size !== keys.length)
		return Response.json(
			{ errors: { columns: 'Two columns have the same attribute name.' } },
			{ status: 400 },
		)
	const started = await startImport(row.id, options.data)
	if (!started)
		return Response.json({ errors: { form: 'This import has already started.' } }, { status: 409 })
	return { ok: true as const }
}

export default function ImportPage() {
	const data = useLoaderData<typeof loader>()
	return (
		<div className="page stack">
			<header className="page-header">
				<div>
					<p className="muted">
						<Link to="/imports">Imports</Link>
					</p>
					<h1>{data.fileName}</h1>
				</div>
			</header>
			{data.step === 'mapping' ? <MappingStep /> : <ProgressStep />}
		</div>
	)
}

function MappingStep() {
	const data = useLoaderData<typeof loader>()
	const result = useActionData<typeof action>() as { errors?: Record<string, string> } | undefined
	if (data.step !== 'mapping') return null
	const { preview } = data
	const errors = result?.errors ?? {}
	if (!data.canEdit) return <p className="card">Waiting for a marketer to choose the columns.</p>
	return (
		<>
			<Form method="get" className="card toolbar" aria-label="How to read the file">
				<div className="field">
					<label htmlFor="encoding">Encoding</label>
					<select id="encoding" name="encoding" defaultValue={preview.encoding}>
						{ENCODINGS.map((e) => (
							<option key={e} value={e}>
								{ENCODING_LABEL[e]}
							</option>
						))}
					</select>
				</div>
				<div className="field">
					<label htmlFor="delimiter">Delimiter</label>
					<select id="delimiter" name="delimiter" defaultValue={preview.delimiter}>
						{DELIMITERS.map((d) => (
							<option key={d} value={d}>
								{DELIMITER_LABEL[d]}
							</option>
						))}
					</select>
				</div>
				<button className="btn" type="submit">
					Re-read the file
				</button>
				<p className="muted">
					Detected: {ENCODING_LABEL[preview.encoding]}, {DELIMITER_LABEL[preview.delimiter]}
					{preview.innerName ? `, ${preview.innerName} inside the .zip` : ''}.
				</p>
			</Form>
			{data.previous ? (
				<p className="card" role="note">
					This exact file was imported before (
					{formatDateTime(data.previous.finishedAt, data.timezone)}). Importing it again changes
					nothing unless you choose other columns, tags or “update existing”.
				</p>
			) : null}
			<Form method="post" className="stack">
				<input type="hidden" name="intent" value="start" />
				<input type="hidden" name="encoding" value={preview.encoding} />
				<input type="hidden" name="delimiter" value={preview.delimiter} />
				<input type="hidden" name="columnCount" value={preview.headers.length} />
				{errors.form ? <p className="field-error">{errors.form}</p> : null}
				<section className="card stack">
					<h2>Columns</h2>
					{preview.phoneColumn === -1 ? (
						<p className="field-error">No column looks like a phone number: choose it below.</p>
					) : null}
					{errors.columns ? (
						<p className="field-error" role="alert">
							{errors.columns}
						</p>
					) : null}
					<div className="table-wrap">
						<table className="table mapping-table" data-testid="mapping">
							<thead>
								<tr>
									<th>Column</th>
									<th>Becomes</th>
									<th>Attribute name</th>
									<th>First values</th>
								</tr>
							</thead>
							<tbody>
								{preview.columns.map((column, index) => (
									<ColumnRow
										key={`${preview.encoding}${preview.delimiter}${index}`}
										column={column}
										rows={preview.rows}
										error={errors[`key_${index}`]}
									/>
								))}
							</tbody>
						</table>
					</div>
				</section>
				<section className="card form-grid">
					<div className="field">
						<label htmlFor="defaultCountry">Country of numbers without a country code</label>
						<select
							id="defaultCountry"
							name="defaultCountry"
							defaultValue="PE"
							aria-invalid={errors.defaultCountry ? true : undefined}
						>
							{data.countries.map((c) => (
								<option key={c.code} value={c.code}>
									{c.name}
								</option>
							))}
						</select>
						{errors.defaultCountry ? <p className="field-error">{errors.defaultCountry}</p> : null}
					</div>
					<div className="field">
						<label htmlFor="tags">Tags for every imported contact</label>
						<input
							id="tags"
							name="tags"
							placeholder="e.g. fair-2026, lima"
							aria-invalid={errors.tags ? true : undefined}
						/>
						<span className="hint">Comma-separated. Added to existing contacts too.</span>
						{errors.tags ? <p className="field-error">{errors.tags}</p> : null}
					</div>
					<label className="row">
						<input type="checkbox" name="updateExisting" /> Update name, email and attributes of
						contacts that already exist
					</label>
				</section>
				<div>
					<button className="btn btn-primary" type="submit">
						Start import
					</button>
				</div>
			</Form>
		</>
	)
}

function ColumnRow({
	column,
	rows,
	error,
}: {
	column: ColumnMapping
	rows: string[][]
	error?: string
}) {
	const index = column.index
	return (
		<tr>
			<td>
				<strong>{column.header}</strong>
				<input type="hidden" name={`header_${index}`} value={column.header} />
			</td>
			<td>
				<select
					name={`target_${index}`}
					defaultValue={column.target}
					aria-label={`${column.header} becomes`}
				>
					{COLUMN_TARGETS.map((t) => (
						<option key={t} value={t}>
							{TARGET_LABEL[t]}
						</option>
					))}
				</select>
			</td>
			<td>
				<input
					name={`key_${index}`}
					defaultValue={column.key ?? ''}
					aria-label={`${column.header} attribute name`}
					aria-invalid={error ? true : undefined}
					pattern="[a-z0-9_]{1,60}"
				/>
				{error ? <p className="field-error">{error}</p> : null}
			</td>
			<td className="muted">
				{rows.slice(0, 3).map((row, i) => (
					<div key={i} className="preview-cell">
						{row[index] ?? ''}
					</div>
				))}
			</td>
		</tr>
	)
}

const ACTIVE = new Set(['queued', 'parsing', 'committing'])

function ProgressStep() {
	const data = useLoaderData<typeof loader>()
	const fetcher = useFetcher<ImportProgress>()
	const revalidator = useRevalidator()
	const initial = data.step === 'progress' ? data.progress : undefined
	const progress = fetcher.data ?? initial
	const active = progress ? ACTIVE.has(progress.status) : false
	useEffect(() => {
		if (!active) return
		const timer = setInterval(() => {
			if (fetcher.state === 'idle') fetcher.load(`/imports/${data.id}/progress`)
		}, 1000)
		return () => clearInterval(timer)
	}, [active, data.id, fetcher])
	useEffect(() => {
		// The poll saw the end: reload the page for the result and the rejected rows.
		if (fetcher.data && !ACTIVE.has(fetcher.data.status) && initial && ACTIVE.has(initial.status))
			revalidator.revalidate()
	}, [fetcher.data, initial, revalidator])
	if (data.step !== 'progress' || !progress) return null
	const accepted = progress.rowsRead - progress.rejected
	const elapsed = progress.startedAt
		? (Date.parse(progress.now) - Date.parse(progress.startedAt)) / 1000
		: 0
	const rate = elapsed > 0 ? progress.rowsRead / elapsed : 0
	const total = progress.rowsTotalEstimate ?? 0
	const percent =
		progress.status === 'completed'
			? 100
			: total > 0
				? Math.min(99, (progress.rowsRead / total) * 100)
				: 0
	const secondsLeft =
		rate > 0 && total > progress.rowsRead ? (total - progress.rowsRead) / rate : null
	return (
		<>
			<section className="card stack" aria-live="polite" data-testid="import-progress">
				<div className="row">
					<h2>
						{progress.status === 'queued' && 'Waiting for a worker…'}
						{progress.status === 'parsing' && 'Reading and checking rows…'}
						{progress.status === 'committing' && 'Saving contacts…'}
						{progress.status === 'completed' && 'Import completed'}
						{progress.status === 'failed' && 'Import failed'}
						{progress.status === 'cancelled' && 'Import cancelled'}
					</h2>
					<span
						data-testid="import-status"
						className={`badge badge-${progress.status === 'completed' ? 'green' : progress.status === 'failed' ? 'red' : active ? 'yellow' : 'gray'}`}
					>
						{progress.status}
					</span>
				</div>
				{active ? (
					<div
						className="progress"
						role="progressbar"
						aria-valuenow={Math.round(percent)}
						aria-valuemin={0}
						aria-valuemax={100}
					>
						<span style={{ width: `${percent}%` }} />
					</div>
				) : null}
				<div className="import-stats">
					<div>
						<span className="muted">Rows read</span>
						<strong data-testid="rows-read">{formatNumber(progress.rowsRead)}</strong>
					</div>
					<div>
						<span className="muted">Accepted</span>
						<strong>{formatNumber(accepted)}</strong>
					</div>
					<div>
						<span className="muted">Rejected</span>
						<strong data-testid="rows-rejected">{formatNumber(progress.rejected)}</strong>
					</div>
					{active ? (
						<>
							<div>
								<span className="muted">Rate</span>
								<strong>{rate > 0 ? `${formatNumber(Math.round(rate))}/s` : '—'}</strong>
							</div>
							<div>
								<span className="muted">Time left</span>
								<strong>
									{secondsLeft === null
										? '—'
										: secondsLeft < 60
											? `${Math.ceil(secondsLeft)} s`
											: `${Math.ceil(secondsLeft / 60)} min`}
								</strong>
							</div>
						</>
					) : null}
					{progress.status === 'completed' ? (
						<>
							<div>
								<span className="muted">New</span>
								<strong data-testid="rows-inserted">{formatNumber(progress.inserted)}</strong>
							</div>
							<div>
								<span className="muted">Updated</span>
								<strong>{formatNumber(progress.updated)}</strong>
							</div>
							<div>
								<span className="muted">Unchanged</span>
								<strong>{formatNumber(progress.unchanged)}</strong>
							</div>
						</>
					) : null}
				</div>
				{progress.error && progress.status !== 'queued' ? (
					<p className="field-error" role="alert">
						{progress.error}
					</p>
				) : null}
				{progress.status === 'failed' || progress.status === 'cancelled' ? (
					<p>No contact was changed.</p>
				) : null}
				{active && data.canEdit && progress.status !== 'committing' ? (
					<Form
						method="post"
						onSubmit={(event) => {
							if (!confirm('Cancel this import? No contact will be added or changed.'))
								event.preventDefault()
						}}
					>
						<button
							className="btn btn-danger"
							type="submit"
							name="intent"
							value="cancel"
							disabled={progress.cancelRequested}
						>
							{progress.cancelRequested ? 'Cancelling…' : 'Cancel import'}
						</button>
					</Form>
				) : null}
				{active ? (
					<p className="muted">You can leave this page; the import keeps running.</p>
				) : null}
				{progress.status === 'completed' ? (
					<p>
						<Link to="/contacts">See the contacts</Link>
					</p>
				) : null}
			</section>
			{progress.status === 'completed' && data.errors.length > 0 ? (
				<section className="card stack">
					<div className="row">
						<h2>Rejected rows</h2>
						<a
							className="btn"
							href={`/imports/${data.id}/errors`}
							download
							data-testid="download-errors"
						>
							Download errors CSV
						</a>
					</div>
					{progress.rejected > data.errorsShown ? (
						<p className="muted">
							Showing the first {formatNumber(data.errorsShown)} of{' '}
							{formatNumber(progress.rejected)}; the CSV has all of them.
						</p>
					) : null}
					<div className="table-wrap">
						<table className="table" data-testid="rejected-rows">
							<thead>
								<tr>
									<th>Line</th>
									<th>Value</th>
									<th>Reason</th>
								</tr>
							</thead>
							<tbody>
								{data.errors.map((e) => (
									<tr key={e.line}>
										<td>{e.line}</td>
										<td>
											<code>{e.value}</code>
										</td>
										<td>{e.reason}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				</section>
			) : null}
		</>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
