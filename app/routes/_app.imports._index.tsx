import {
	type ActionFunctionArgs,
	type LinksFunction,
	type LoaderFunctionArgs,
	type MetaFunction,
	redirect,
	unstable_parseMultipartFormData,
	type UploadHandler,
} from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { getEnv } from '#app/lib/env.server'
import { createImport, listImports } from '#app/lib/imports/imports.server'
import { UploadTooLargeError } from '#app/lib/imports/store.server'
import contactStyles from '#app/styles/contacts.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime, formatNumber } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Imports · Pregón' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: contactStyles }]

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const imports = await listImports({ limit: 50 })
	return {
		canEdit: user.role !== 'analyst',
		timezone: user.timezone,
		maxMegabytes: Math.round(getEnv().UPLOAD_MAX_BYTES / 1024 / 1024),
		imports: imports.map((i) => ({
			id: i.id,
			fileName: i.fileName,
			status: i.status,
			awaitingMapping: i.status === 'queued' && !i.startedAt && Object.keys(i.options).length === 0,
			rowsRead: i.rowsRead,
			inserted: i.inserted,
			updated: i.updated,
			rejected: i.rejected,
			createdAt: i.createdAt,
		})),
	}
}

/**
 * The upload: streamed from the multipart body straight to disk with the size limit enforced on
 * the way (never buffered whole), then the mapping step. A body announced larger than the limit is
 * refused before a byte is read.
 */
export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const maxBytes = getEnv().UPLOAD_MAX_BYTES
	const tooLarge = new UploadTooLargeError(maxBytes)
	const announced = Number(request.headers.get('content-length') ?? 0)
	// Multipart framing adds well under 64 KB around the file.
	if (announced > maxBytes + 64 * 1024)
		return Response.json({ error: tooLarge.message }, { status: 413 })
	// Anything but a multipart body cannot hold a file, and the multipart parser throws on it.
	if (!request.headers.get('content-type')?.startsWith('multipart/form-data'))
		return Response.json({ error: 'Choose a CSV or .zip file.' }, { status: 400 })
	let importId: string | undefined
	const uploadHandler: UploadHandler = async ({ name, filename, data }) => {
		if (name !== 'file' || !filename) {
			for await (const chunk of data) void chunk
			return undefined
		}
		const row = await createImport({
			fileName: filename,
			upload: data,
			createdBy: user.id,
			maxBytes,
		})
		importId = row.id
		return row.id
	}
	try {
		await unstable_parseMultipartFormData(request, uploadHandler)
	} catch (error) {
		if (error instanceof UploadTooLargeError)
			return Response.json({ error: error.message }, { status: 413 })
		throw error
	}
	if (!importId) return Response.json({ error: 'Choose a CSV or .zip file.' }, { status: 400 })
	return redirect(`/imports/${importId}`)
}

const STATUS_TONE: Record<string, string> = {
	queued: 'gray',
	parsing: 'yellow',
	committing: 'yellow',
	completed: 'green',
	failed: 'red',
	cancelled: 'gray',
}

export default function ImportsPage() {
	const data = useLoaderData<typeof loader>()
	const result = useActionData<typeof action>() as { error?: string } | undefined
	const navigation = useNavigation()
	return (
		<div className="page stack">
			<header className="page-header">
				<div>
					<p className="muted">
						<Link to="/contacts">Contacts</Link>
					</p>
					<h1>Imports</h1>
				</div>
			</header>
			{data.canEdit ? (
				<Form method="post" encType="multipart/form-data" className="card stack">
					<h2>Import contacts from a CSV file</h2>
					<p className="muted">
						CSV or a .zip holding one CSV, up to {data.maxMegabytes} MB. Any encoding (UTF-8,
						UTF-16, Windows-1252) and delimiter (comma, semicolon, tab). You choose the columns
						next.
					</p>
					<div className="field">
						<label htmlFor="file">File</label>
						<input
							id="file"
							name="file"
							type="file"
							accept=".csv,.txt,.tsv,.zip,text/csv,application/zip"
							required
							aria-invalid={result?.error ? true : undefined}
							aria-describedby="file-error"
						/>
						{result?.error ? (
							<p id="file-error" className="field-error" role="alert">
								{result.error}
							</p>
						) : null}
					</div>
					<div>
						<button
							className="btn btn-primary"
							type="submit"
							disabled={navigation.state === 'submitting'}
						>
							{navigation.state === 'submitting' ? 'Uploading…' : 'Upload'}
						</button>
					</div>
				</Form>
			) : null}
			<section className="stack">
				<h2>Recent imports</h2>
				{data.imports.length === 0 ? (
					<p className="empty-state card">No imports yet.</p>
				) : (
					<div className="table-wrap">
						<table className="table">
							<thead>
								<tr>
									<th>File</th>
									<th>Status</th>
									<th>Rows</th>
									<th>New</th>
									<th>Updated</th>
									<th>Rejected</th>
									<th>Uploaded</th>
								</tr>
							</thead>
							<tbody>
								{data.imports.map((i) => (
									<tr key={i.id}>
										<td>
											<Link to={`/imports/${i.id}`}>{i.fileName}</Link>
										</td>
										<td>
											<span className={`badge badge-${STATUS_TONE[i.status]}`}>
												{i.awaitingMapping ? 'needs mapping' : i.status}
											</span>
										</td>
										<td>{formatNumber(i.rowsRead)}</td>
										<td>{formatNumber(i.inserted)}</td>
										<td>{formatNumber(i.updated)}</td>
										<td>{formatNumber(i.rejected)}</td>
										<td>{formatDateTime(i.createdAt, data.timezone)}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</section>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
