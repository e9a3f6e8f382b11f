import {
	type ActionFunctionArgs,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import {
	Form,
	Link,
	useActionData,
	useFetcher,
	useLoaderData,
	useLocation,
	useSubmit,
} from '@remix-run/react'
import { useEffect, useRef, type KeyboardEvent } from 'react'
import { z } from 'zod'
import { AssignControl } from '#app/components/assignment-controls'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { MessageBubble, type BubbleMessage } from '#app/components/inbox/message-bubble'
import { ConfirmButton } from '#app/components/ui/confirm-button'
import { AssignmentError, assignConversation } from '#app/lib/inbox/assignments.server'
import { addConversationNote, NoteSchema } from '#app/lib/inbox/conversations.server'
import { ConversationIdSchema, getConversationPage } from '#app/lib/inbox/page.server'
import {
	endConversation,
	markConversationRead,
	retryReply,
	sendTemplateReply,
	sendTextReply,
} from '#app/lib/inbox/replies.server'
import { WINDOW_CLOSED_REASON } from '#app/lib/inbox/window'
import { deleteMessage, MessageDeleteError } from '#app/lib/messages/delete.server'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime } from '#app/utils/format'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
	{ title: `${data?.contact.name ?? data?.contact.phone ?? 'Conversation'} · Inbox · Pregón` },
]

export async function loader({ request, params }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const id = ConversationIdSchema.safeParse(params.conversationId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const template = new URL(request.url).searchParams.get('template')
	const page = await getConversationPage(id.data, user, template)
	if (!page) throw new Response('Not found', { status: 404 })
	return { ...page, timezone: user.timezone, viewerId: user.id }
}

const IntentSchema = z.discriminatedUnion('intent', [
	z.object({ intent: z.literal('reply'), body: z.string().default('') }),
	z.object({ intent: z.literal('template'), templateId: z.string().default('') }),
	z.object({ intent: z.literal('read') }),
	z.object({ intent: z.literal('end') }),
	z.object({ intent: z.literal('note'), body: z.string().default('') }),
	z.object({ intent: z.literal('retry'), messageId: z.uuid() }),
	z.object({
		intent: z.literal('assign'),
		assigneeId: z.union([z.uuid(), z.literal('').transform(() => null)]),
	}),
	z.object({ intent: z.literal('delete_message'), messageId: z.uuid() }),
])

type ActionResult = {
	intent: string
	ok: boolean
	message?: string
	fieldErrors?: Record<string, string>
}

export async function action({ request, params }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const id = ConversationIdSchema.safeParse(params.conversationId)
	if (!id.success) throw new Response('Not found', { status: 404 })
	const form = await request.formData()
	const parsed = IntentSchema.safeParse(Object.fromEntries(form))
	if (!parsed.success)
		return Response.json(
			{ intent: 'unknown', ok: false, message: 'Invalid request' } satisfies ActionResult,
			{ status: 400 },
		)
	const input = parsed.data
	switch (input.intent) {
		case 'reply': {
			const result = await sendTextReply({ conversationId: id.data, body: input.body }, user)
			if (!result.ok && result.reason === 'not_found')
				throw new Response('Not found', { status: 404 })
			if (!result.ok && result.reason === 'invalid')
				return Response.json(
					{
						intent: 'reply',
						ok: false,
						fieldErrors: { body: result.message },
					} satisfies ActionResult,
					{ status: 400 },
				)
			// A provider failure is stored on the message: answer 200 so the page reloads and shows it.
			return {
				intent: 'reply',
				ok: result.ok,
				message: result.ok ? undefined : result.message,
			} satisfies ActionResult
		}
		case 'template': {
			const variables: Record<string, string> = {}
			for (const [key, value] of form)
				if (key.startsWith('var:') && typeof value === 'string') variables[key.slice(4)] = value
			const result = await sendTemplateReply(
				{ conversationId: id.data, templateId: input.templateId, variables },
				user,
			)
			if (!result.ok && result.reason === 'not_found')
				throw new Response('Not found', { status: 404 })
			if (!result.ok && result.reason === 'invalid')
				return Response.json(
					{
						intent: 'template',
						ok: false,
						message: result.message,
						fieldErrors: 'fieldErrors' in result ? result.fieldErrors : undefined,
					} satisfies ActionResult,
					{ status: 400 },
				)
			return {
				intent: 'template',
				ok: result.ok,
				message: result.ok ? undefined : result.message,
			} satisfies ActionResult
		}
		case 'read': {
			const result = await markConversationRead(id.data, user)
			return {
				intent: 'read',
				ok: result.ok,
				message: result.ok ? undefined : result.message,
			} satisfies ActionResult
		}
		case 'end': {
			const result = await endConversation(id.data, user)
			return {
				intent: 'end',
				ok: result.ok,
				message: result.ok ? 'Conversation ended.' : result.message,
			} satisfies ActionResult
		}
		case 'note': {
			const note = NoteSchema.safeParse({ body: input.body })
			if (!note.success)
				return Response.json(
					{
						intent: 'note',
						ok: false,
						fieldErrors: { note: note.error.issues[0].message },
					} satisfies ActionResult,
					{ status: 400 },
				)
			if (!(await addConversationNote(id.data, user.id, note.data)))
				throw new Response('Not found', { status: 404 })
			return { intent: 'note', ok: true } satisfies ActionResult
		}
		case 'retry': {
			const result = await retryReply({ conversationId: id.data, messageId: input.messageId }, user)
			if (!result.ok && result.reason === 'not_found')
				throw new Response('Not found', { status: 404 })
			return {
				intent: 'retry',
				ok: result.ok,
				message: result.ok ? undefined : result.message,
			} satisfies ActionResult
		}
		case 'assign': {
			try {
				await assignConversation(user, id.data, input.assigneeId)
			} catch (error) {
				if (!(error instanceof AssignmentError)) throw error
				if (error.status === 404) throw new Response('Not found', { status: 404 })
				return Response.json(
					{ intent: 'assign', ok: false, message: error.message } satisfies ActionResult,
					{ status: error.status },
				)
			}
			return { intent: 'assign', ok: true } satisfies ActionResult
		}
		case 'delete_message': {
			try {
				const result = await deleteMessage(user, input.messageId)
				return {
					intent: 'delete_message',
					ok: result.deleted,
					message: result.deleted ? 'Message deleted.' : result.reason,
				} satisfies ActionResult
			} catch (error) {
				if (!(error instanceof MessageDeleteError)) throw error
				if (error.status === 404) throw new Response('Not found', { status: 404 })
				return Response.json(
					{ intent: 'delete_message', ok: false, message: error.message } satisfies ActionResult,
					{ status: error.status },
				)
			}
		}
	}
}

const OPT_OUT_SOURCE: Record<string, string> = {
	keyword: 'sent an opt-out keyword',
	button: 'tapped the opt-out button',
	meta_preference: 'stopped marketing in WhatsApp',
	manual: 'set by the team',
	import: 'from an import',
}

type Page = ReturnType<typeof useLoaderData<typeof loader>>

/** Keeps the newest message in view when the reader is at the bottom; leaves them be when they scrolled up. */
function useStickToBottom(count: number) {
	const ref = useRef<HTMLDivElement>(null)
	const atBottom = useRef(true)
	useEffect(() => {
		const element = ref.current
		if (!element) return
		const onScroll = () => {
			atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80
		}
		element.addEventListener('scroll', onScroll, { passive: true })
		return () => element.removeEventListener('scroll', onScroll)
	}, [])
	useEffect(() => {
		const element = ref.current
		if (element && atBottom.current) element.scrollTop = element.scrollHeight
	}, [count])
	return ref
}

function Composer({ page }: { page: Page }) {
	const fetcher = useFetcher<ActionResult>({ key: `reply-${page.conversation.id}` })
	const formRef = useRef<HTMLFormElement>(null)
	const fieldErrors = fetcher.data?.intent === 'reply' ? fetcher.data.fieldErrors : undefined

	function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
		// Enter sends, Shift+Enter makes a new line; an IME composition is never cut short.
		if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return
		event.preventDefault()
		const form = formRef.current
		if (!form || !event.currentTarget.value.trim()) return
		fetcher.submit(form)
		form.reset()
	}

	return (
		<fetcher.Form
			method="post"
			ref={formRef}
			className="composer"
			onSubmit={(event) => {
				event.preventDefault()
				fetcher.submit(event.currentTarget)
				event.currentTarget.reset()
			}}
		>
			<input type="hidden" name="intent" value="reply" />
			<textarea
				name="body"
				rows={2}
				className="input composer-input"
				placeholder="Write a reply. Enter sends, Shift+Enter adds a line."
				aria-label="Reply"
				aria-invalid={Boolean(fieldErrors?.body)}
				onKeyDown={onKeyDown}
				maxLength={4096}
			/>
			<button className="btn btn-primary" type="submit">
				Send
			</button>
			{fieldErrors?.body ? <p className="field-error">{fieldErrors.body}</p> : null}
			{fetcher.data?.intent === 'reply' && !fetcher.data.ok && fetcher.data.message ? (
				<div className="alert alert-error composer-alert" role="alert">
					{fetcher.data.message}
				</div>
			) : null}
		</fetcher.Form>
	)
}

function TemplateReply({ page }: { page: Page }) {
	const location = useLocation()
	const submit = useSubmit()
	const result = useActionData<typeof action>() as ActionResult | undefined
	const errors = result?.intent === 'template' ? result : undefined
	const selected = page.selectedTemplate
	if (page.templates.length === 0) {
		return (
			<p className="muted">No approved template of this number can be sent from the inbox yet.</p>
		)
	}
	return (
		<div className="stack">
			<Form
				method="get"
				action={location.pathname}
				className="row"
				onChange={(event) =>
					submit(event.currentTarget, { preventScrollReset: true, replace: true })
				}
			>
				<label className="field" style={{ flex: 1 }}>
					<span>Template</span>
					<select className="input" name="template" defaultValue={selected?.id ?? ''}>
						<option value="">Choose an approved template…</option>
						{page.templates.map((t) => (
							<option key={t.id} value={t.id}>
								{t.name} ({t.language})
							</option>
						))}
					</select>
				</label>
				<noscript>
					<button className="btn btn-small" type="submit">
						Choose
					</button>
				</noscript>
			</Form>
			{selected ? (
				<Form method="post" className="stack" preventScrollReset>
					<input type="hidden" name="intent" value="template" />
					<input type="hidden" name="templateId" value={selected.id} />
					<p className="muted template-text">
						{selected.components.find((c) => c.type === 'BODY')?.text ?? ''}
					</p>
					{selected.slots.map((slot) => (
						<label key={slot.key} className="field">
							<span>{slot.label}</span>
							<input
								className="input"
								name={`var:${slot.key}`}
								aria-invalid={Boolean(errors?.fieldErrors?.[slot.key])}
							/>
							{errors?.fieldErrors?.[slot.key] ? (
								<span className="field-error">{errors.fieldErrors[slot.key]}</span>
							) : null}
						</label>
					))}
					<button className="btn btn-primary" type="submit">
						Send template
					</button>
				</Form>
			) : null}
			{errors && !errors.ok && errors.message ? (
				<div className="alert alert-error" role="alert">
					{errors.message}
				</div>
			) : null}
		</div>
	)
}

function ContactPanel({ page }: { page: Page }) {
	const panel = page.panel
	const result = useActionData<typeof action>() as ActionResult | undefined
	if (!panel) return null
	const { contact } = panel
	const attributes = Object.entries(contact.attributes ?? {})
	return (
		<aside className="contact-panel" aria-label="Contact">
			<h2>{contact.name ?? 'Unnamed contact'}</h2>
			<p>{contact.phone}</p>
			{contact.optedOutAt ? (
				<p>
					<span className="badge badge-red">Opted out</span>{' '}
					<span className="muted">
						{formatDateTime(contact.optedOutAt, page.timezone)}
						{contact.optOutSource ? ` · ${OPT_OUT_SOURCE[contact.optOutSource]}` : ''}
					</span>
				</p>
			) : (
				<p>
					<span className="badge badge-green">Subscribed</span>
				</p>
			)}
			{contact.tags.length > 0 ? (
				<div className="row">
					{contact.tags.map((tag) => (
						<span key={tag} className="badge badge-blue">
							{tag}
						</span>
					))}
				</div>
			) : null}
			{attributes.length > 0 ? (
				<dl className="contact-attributes">
					{attributes.map(([key, value]) => (
						<div key={key}>
							<dt>{key}</dt>
							<dd>{String(value)}</dd>
						</div>
					))}
				</dl>
			) : null}
			<h3>Broadcasts received</h3>
			{panel.broadcasts.length === 0 ? (
				<p className="muted">None yet.</p>
			) : (
				<ul className="contact-broadcasts">
					{panel.broadcasts.map((b) => (
						<li key={b.broadcastId}>
							<Link to={`/broadcasts/${b.broadcastId}`}>{b.name}</Link>{' '}
							<span
								className={`badge ${b.state === 'failed' ? 'badge-red' : b.state === 'read' || b.state === 'delivered' ? 'badge-green' : 'badge-gray'}`}
							>
								{b.state}
							</span>
							{b.repliedAt ? <span className="badge badge-blue">replied</span> : null}
							<div className="muted">
								{b.sentAt ? formatDateTime(b.sentAt, page.timezone) : (b.skipReason ?? '')}
								{b.errorTitle ? ` · ${b.errorTitle}` : ''}
							</div>
						</li>
					))}
				</ul>
			)}
			<h3>Notes</h3>
			{page.canAnswer ? (
				<Form method="post" className="stack" preventScrollReset>
					<input type="hidden" name="intent" value="note" />
					<textarea
						className="input"
						name="body"
						rows={2}
						aria-label="New note"
						placeholder="Add a note for the team"
						aria-invalid={Boolean(result?.intent === 'note' && result.fieldErrors?.note)}
					/>
					{result?.intent === 'note' && result.fieldErrors?.note ? (
						<p className="field-error">{result.fieldErrors.note}</p>
					) : null}
					<button className="btn btn-small" type="submit">
						Add note
					</button>
				</Form>
			) : null}
			<ul className="contact-notes">
				{panel.notes.map((note) => (
					<li key={note.id}>
						<p>{note.body}</p>
						<p className="muted">
							{note.author ?? 'Someone'} · {formatDateTime(note.createdAt, page.timezone)}
						</p>
					</li>
				))}
			</ul>
		</aside>
	)
}

function RetryButton({ messageId }: { messageId: string }) {
	const fetcher = useFetcher<ActionResult>()
	return (
		<fetcher.Form method="post" className="bubble-retry">
			<input type="hidden" name="intent" value="retry" />
			<input type="hidden" name="messageId" value={messageId} />
			<button className="btn btn-small" type="submit" disabled={fetcher.state !== 'idle'}>
				{fetcher.state === 'idle' ? 'Send again' : 'Sending…'}
			</button>
			{fetcher.data && !fetcher.data.ok && fetcher.data.message ? (
				<p className="field-error">{fetcher.data.message}</p>
			) : null}
		</fetcher.Form>
	)
}

export default function ConversationRoute() {
	const page = useLoaderData<typeof loader>()
	const location = useLocation()
	const result = useActionData<typeof action>() as ActionResult | undefined
	const reply = useFetcher<ActionResult>({ key: `reply-${page.conversation.id}` })
	const read = useFetcher<ActionResult>()
	const pendingBody = reply.state !== 'idle' ? reply.formData?.get('body') : null
	const pending: BubbleMessage | null =
		typeof pendingBody === 'string' && pendingBody.trim()
			? {
					id: 'pending',
					direction: 'outbound',
					status: 'sending',
					errorCode: null,
					errorTitle: null,
					occurredAt: new Date().toISOString(),
					content: { kind: 'text', text: pendingBody.trim() },
					broadcast: null,
					sentBy: null,
				}
			: null
	const scroller = useStickToBottom(page.messages.length + (pending ? 1 : 0))
	const headerMessage =
		result && ['end', 'read', 'delete_message'].includes(result.intent) ? result : read.data

	return (
		<div className="conversation">
			<div className="conversation-main">
				<header className="conversation-header">
					<Link
						to={`/inbox${location.search}`}
						className="btn btn-ghost btn-small conversation-back"
					>
						← All
					</Link>
					<div className="conversation-title">
						<h1>{page.contact.name ?? page.contact.phone}</h1>
						<span className="muted">
							{page.contact.name ? `${page.contact.phone} · ` : ''}to {page.sender.displayNumber}
						</span>
					</div>
					<span
						className={`badge ${page.conversation.status === 'active' ? 'badge-green' : 'badge-gray'}`}
					>
						{page.conversation.status === 'active' ? 'Active' : 'Ended'}
					</span>
					<AssignControl
						assignee={page.assignment.assignee}
						assignees={page.assignment.assignees}
						currentUserId={page.viewerId}
						canAssign={page.assignment.canAssign}
					/>
					{page.canAnswer && page.conversation.unreadCount > 0 ? (
						<read.Form method="post">
							<input type="hidden" name="intent" value="read" />
							<button className="btn btn-small" type="submit" disabled={read.state !== 'idle'}>
								Mark as read
							</button>
						</read.Form>
					) : null}
					{page.canAnswer && page.conversation.status === 'active' ? (
						<ConfirmButton
							fields={{ intent: 'end' }}
							confirm="End this conversation in Kapso? The contact can still write again."
							className="btn btn-small"
						>
							End conversation
						</ConfirmButton>
					) : null}
				</header>
				{headerMessage?.message ? (
					<div
						className={`alert ${headerMessage.ok ? 'alert-success' : 'alert-error'}`}
						role={headerMessage.ok ? 'status' : 'alert'}
					>
						{headerMessage.message}
					</div>
				) : null}
				<div
					className="chat"
					ref={scroller}
					data-testid="chat"
					aria-live="polite"
					aria-label="Messages"
				>
					{page.messages.length === 0 && !pending ? (
						<p className="muted chat-empty">No messages stored yet.</p>
					) : null}
					{page.messages.map((message) => (
						<MessageBubble key={message.id} message={message} timeZone={page.timezone}>
							{page.canAnswer && message.retryable ? <RetryButton messageId={message.id} /> : null}
							{message.deletable ? (
								<ConfirmButton
									fields={{ intent: 'delete_message', messageId: message.id }}
									confirm="Delete this message for everyone on WhatsApp? This cannot be undone."
									className="btn btn-ghost btn-small bubble-delete"
								>
									Delete
								</ConfirmButton>
							) : null}
						</MessageBubble>
					))}
					{pending ? <MessageBubble message={pending} timeZone={page.timezone} /> : null}
				</div>
				{page.canAnswer ? (
					<div className="conversation-reply">
						{page.window.open ? (
							<>
								<p className="muted window-note">
									You can reply freely until {formatDateTime(page.window.closesAt, page.timezone)}{' '}
									(24 hours after their last message).
								</p>
								<Composer page={page} />
								<details className="template-reply">
									<summary>Send a template instead</summary>
									<TemplateReply page={page} />
								</details>
							</>
						) : (
							<div className="stack">
								<div className="alert alert-warn" role="status" data-testid="window-closed">
									{WINDOW_CLOSED_REASON}
								</div>
								<TemplateReply page={page} />
							</div>
						)}
					</div>
				) : (
					<p className="muted conversation-readonly">
						Read only: analysts can read conversations but not answer.
					</p>
				)}
			</div>
			<ContactPanel page={page} />
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
