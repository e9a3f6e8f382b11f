import {
	type ActionFunctionArgs,
	type LinksFunction,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { useState } from 'react'
import { z } from 'zod'
import { ContactCalls } from '#app/components/contact-calls'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import {
	addNote,
	deleteNote,
	getContact,
	setOptOut,
	updateNote,
} from '#app/lib/contacts/contacts.server'
import { maskPhone } from '#app/lib/contacts/mask'
import contactStyles from '#app/styles/contacts.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Contact · Pregón' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: contactStyles }]

const IdSchema = z.coerce.number().int().positive()

const SOURCE_LABEL: Record<string, string> = {
	keyword: 'replied with an opt-out keyword',
	button: 'pressed the opt-out button',
	meta_preference: 'stopped marketing messages in WhatsApp',
	manual: 'set by a user',
	import: 'from an import',
}

export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const id = IdSchema.safeParse(params.contactId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const detail = await getContact(id.data)
	if (!detail) throw new Response('Not found', { status: 404 })
	const masked = user.role === 'analyst'
	const { contact } = detail
	return {
		canEdit: !masked,
		userId: user.id,
		timezone: user.timezone,
		contact: {
			id: contact.id,
			phone: masked ? maskPhone(contact.phoneE164) : contact.phoneE164,
			name: contact.name,
			email: contact.email,
			attributes: contact.attributes,
			tags: contact.tags,
			optedOutAt: contact.optedOutAt,
			optOutSource: contact.optOutSource,
			createdAt: contact.createdAt,
		},
		notes: detail.notes,
		broadcasts: detail.broadcasts,
		messages: detail.messages.map((m) => ({ ...m, body: masked ? null : m.body })),
		calls: detail.calls,
	}
}

const ActionSchema = z.discriminatedUnion('intent', [
	z.object({ intent: z.literal('opt-out') }),
	z.object({ intent: z.literal('opt-in') }),
	z.object({
		intent: z.literal('add-note'),
		body: z.string().trim().min(1, 'write something').max(5000),
	}),
	z.object({
		intent: z.literal('edit-note'),
		noteId: z.coerce.number().int().positive(),
		body: z.string().trim().min(1, 'write something').max(5000),
	}),
	z.object({ intent: z.literal('delete-note'), noteId: z.coerce.number().int().positive() }),
])

export async function action({ request, params }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const id = IdSchema.safeParse(params.contactId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()))
	if (!parsed.success) {
		return Response.json(
			{ error: parsed.error.issues[0]?.message ?? 'invalid', noteId: null },
			{ status: 400 },
		)
	}
	const input = parsed.data
	const contactId = id.data
	switch (input.intent) {
		case 'opt-out':
		case 'opt-in':
			await setOptOut({ contactId, optedOut: input.intent === 'opt-out', actorId: user.id })
			return { ok: true }
		case 'add-note':
			await addNote({ contactId, body: input.body, authorId: user.id })
			return { ok: true }
		case 'edit-note':
			if (
				!(await updateNote({ contactId, noteId: input.noteId, body: input.body, actorId: user.id }))
			)
				throw new Response('Not found', { status: 404 })
			return { ok: true }
		case 'delete-note':
			if (!(await deleteNote({ contactId, noteId: input.noteId, actorId: user.id })))
				throw new Response('Not found', { status: 404 })
			return { ok: true }
	}
}

function confirmSubmit(message: string) {
	return (event: React.FormEvent) => {
		if (!confirm(message)) event.preventDefault()
	}
}

export default function ContactPage() {
	const data = useLoaderData<typeof loader>()
	const result = useActionData<typeof action>() as { error?: string } | undefined
	const [editing, setEditing] = useState<number | null>(null)
	const { contact } = data
	const attributes = Object.entries(contact.attributes)
	return (
		<div className="page stack">
			<header className="page-header">
				<div>
					<p className="muted">
						<Link to="/contacts">Contacts</Link>
					</p>
					<h1>{contact.name ?? contact.phone}</h1>
				</div>
				{contact.optedOutAt ? (
					<span className="badge badge-red">Opted out</span>
				) : (
					<span className="badge badge-green">Subscribed</span>
				)}
			</header>

			<section className="card stack">
				<h2>Details</h2>
				<dl className="contacts-kv">
					<dt>Phone</dt>
					<dd data-testid="contact-phone">{contact.phone}</dd>
					<dt>Name</dt>
					<dd>{contact.name ?? '—'}</dd>
					<dt>Email</dt>
					<dd>{contact.email ?? '—'}</dd>
					<dt>Tags</dt>
					<dd className="contacts-tags">
						{contact.tags.length
							? contact.tags.map((tag) => (
									<Link
										key={tag}
										className="badge badge-blue"
										to={`/contacts?tag=${encodeURIComponent(tag)}`}
									>
										{tag}
									</Link>
								))
							: '—'}
					</dd>
					<dt>Added</dt>
					<dd>{formatDateTime(contact.createdAt, data.timezone)}</dd>
				</dl>
				<h3>Attributes</h3>
				{attributes.length ? (
					<dl className="contacts-kv">
						{attributes.map(([key, value]) => (
							<div key={key} style={{ display: 'contents' }}>
								<dt>
									<code>{key}</code>
								</dt>
								<dd>{value}</dd>
							</div>
						))}
					</dl>
				) : (
					<p className="muted">No attributes.</p>
				)}
			</section>

			<section className="card stack">
				<h2>Opt-out</h2>
				{contact.optedOutAt ? (
					<p>
						Opted out on {formatDateTime(contact.optedOutAt, data.timezone)} (
						{SOURCE_LABEL[contact.optOutSource ?? ''] ?? contact.optOutSource}). Broadcasts skip
						this contact.
					</p>
				) : (
					<p>This contact receives broadcasts.</p>
				)}
				{data.canEdit ? (
					contact.optedOutAt ? (
						<Form
							method="post"
							onSubmit={confirmSubmit(
								'Opt this contact back in? Only do this if they asked to receive messages again.',
							)}
						>
							<button className="btn" type="submit" name="intent" value="opt-in">
								Opt in again
							</button>
						</Form>
					) : (
						<Form
							method="post"
							onSubmit={confirmSubmit('Opt this contact out? Broadcasts will skip them.')}
						>
							<button className="btn btn-danger" type="submit" name="intent" value="opt-out">
								Opt out
							</button>
						</Form>
					)
				) : null}
			</section>

			<section className="card stack">
				<h2>Notes</h2>
				{result?.error ? <p className="field-error">{result.error}</p> : null}
				{data.canEdit ? (
					<Form method="post" className="stack" key={data.notes.length}>
						<div className="field">
							<label htmlFor="note-body">New note</label>
							<textarea id="note-body" name="body" required maxLength={5000} />
						</div>
						<button className="btn btn-primary" type="submit" name="intent" value="add-note">
							Add note
						</button>
					</Form>
				) : null}
				{data.notes.length === 0 ? <p className="muted">No notes.</p> : null}
				{data.notes.map((note) => (
					<article key={note.id} className="stack" data-testid="note">
						<p className="muted">
							{note.authorName ?? 'Someone'} · {formatDateTime(note.createdAt, data.timezone)}
						</p>
						{editing === note.id ? (
							<Form method="post" className="stack" onSubmit={() => setEditing(null)}>
								<input type="hidden" name="noteId" value={note.id} />
								<div className="field">
									<label htmlFor={`note-${note.id}`}>Edit note</label>
									<textarea
										id={`note-${note.id}`}
										name="body"
										defaultValue={note.body}
										required
										maxLength={5000}
									/>
								</div>
								<div className="row">
									<button className="btn btn-primary" type="submit" name="intent" value="edit-note">
										Save
									</button>
									<button className="btn btn-ghost" type="button" onClick={() => setEditing(null)}>
										Cancel
									</button>
								</div>
							</Form>
						) : (
							<p style={{ whiteSpace: 'pre-wrap' }}>{note.body}</p>
						)}
						{data.canEdit && editing !== note.id ? (
							<div className="row">
								<button className="btn btn-ghost" type="button" onClick={() => setEditing(note.id)}>
									Edit
								</button>
								<Form method="post" onSubmit={confirmSubmit('Delete this note?')}>
									<input type="hidden" name="noteId" value={note.id} />
									<button className="btn btn-ghost" type="submit" name="intent" value="delete-note">
										Delete
									</button>
								</Form>
							</div>
						) : null}
					</article>
				))}
			</section>

			<section className="card stack">
				<h2>Broadcasts received</h2>
				{data.broadcasts.length === 0 ? (
					<p className="muted">None yet.</p>
				) : (
					<div className="table-wrap">
						<table className="table">
							<thead>
								<tr>
									<th>Broadcast</th>
									<th>State</th>
									<th>Sent</th>
									<th>Read</th>
								</tr>
							</thead>
							<tbody>
								{data.broadcasts.map((b) => (
									<tr key={b.broadcastId}>
										<td>
											<Link to={`/broadcasts/${b.broadcastId}`}>{b.name}</Link>
										</td>
										<td>
											{b.state}
											{b.repliedAt ? ' · replied' : ''}
											{b.skipReason || b.errorTitle ? (
												<div className="muted">{b.skipReason ?? b.errorTitle}</div>
											) : null}
										</td>
										<td>{formatDateTime(b.sentAt, data.timezone)}</td>
										<td>{formatDateTime(b.readAt, data.timezone)}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</section>

			<section className="card stack">
				<h2>Messages</h2>
				{data.messages.length === 0 ? (
					<p className="muted">No messages.</p>
				) : (
					<ul className="stack" style={{ listStyle: 'none', padding: 0 }}>
						{data.messages.map((m) => (
							<li key={m.id}>
								<span className={`badge badge-${m.direction === 'inbound' ? 'gray' : 'blue'}`}>
									{m.direction}
								</span>{' '}
								<span className="muted">
									{formatDateTime(m.occurredAt, data.timezone)} · {m.status}
								</span>
								<div>{m.body ?? <span className="muted">[{m.type}]</span>}</div>
							</li>
						))}
					</ul>
				)}
				{data.messages[0] ? (
					<Link to={`/inbox/${data.messages[0].conversationId}`}>Open the conversation</Link>
				) : null}
			</section>

			<ContactCalls calls={data.calls} timezone={data.timezone} />
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
