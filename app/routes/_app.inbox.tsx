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
	Outlet,
	useActionData,
	useFetcher,
	useLoaderData,
	useLocation,
	useParams,
} from '@remix-run/react'
import { useEffect, useMemo, useState } from 'react'
import { z } from 'zod'
import { BulkAssignBar } from '#app/components/assignment-controls'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { useLivePoll } from '#app/components/inbox/use-live-poll'
import {
	AssignmentError,
	assignConversations,
	canAssign,
	listAssignees,
} from '#app/lib/inbox/assignments.server'
import {
	ConversationFiltersSchema,
	listConversations,
	listRepliedBroadcasts,
	type ConversationListItem,
} from '#app/lib/inbox/conversations.server'
import inboxStyles from '#app/styles/inbox.css?url'
import templateStyles from '#app/styles/templates.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Inbox · Pregón' }]

export const links: LinksFunction = () => [
	{ rel: 'stylesheet', href: templateStyles },
	{ rel: 'stylesheet', href: inboxStyles },
]

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const params = Object.fromEntries(new URL(request.url).searchParams)
	const parsed = ConversationFiltersSchema.safeParse(params)
	const filters = parsed.success ? parsed.data : ConversationFiltersSchema.parse({})
	const [page, broadcasts, assignees] = await Promise.all([
		listConversations(user, filters),
		listRepliedBroadcasts(),
		listAssignees(),
	])
	return {
		...page,
		filters: {
			q: filters.q,
			status: filters.status,
			broadcast: filters.broadcast ?? '',
			assigned: filters.assigned ?? '',
		},
		broadcasts: broadcasts.map((b) => ({ id: b.id, name: b.name })),
		assignees: assignees.map((person) => ({ id: person.id, name: person.name })),
		canAssign: canAssign(user),
		timezone: user.timezone,
	}
}

const BulkAssignSchema = z.object({
	conversationIds: z.array(z.uuid()).min(1, 'Tick at least one conversation first.'),
	assigneeId: z.union([z.uuid(), z.literal('').transform(() => null)]),
	// Back to the page the list was on; only inbox paths, so the form cannot redirect elsewhere.
	redirectTo: z
		.string()
		.regex(/^\/inbox(\/[0-9a-f-]{36})?(\?[^#]*)?$/)
		.catch('/inbox'),
})

/** Bulk assignment from the list (the conversation page assigns one at a time). */
export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const form = await request.formData()
	const parsed = BulkAssignSchema.safeParse({
		conversationIds: form.getAll('conversationIds'),
		assigneeId: form.get('assigneeId') ?? '',
		redirectTo: form.get('redirectTo') ?? '',
	})
	if (!parsed.success)
		return Response.json({ bulkError: parsed.error.issues[0].message }, { status: 400 })
	try {
		await assignConversations(user, parsed.data)
	} catch (error) {
		if (!(error instanceof AssignmentError)) throw error
		return Response.json({ bulkError: error.message }, { status: error.status })
	}
	return redirect(parsed.data.redirectTo)
}

function relativeTime(iso: string | null, timeZone: string) {
	if (!iso) return ''
	const date = new Date(iso)
	const sameDay =
		new Intl.DateTimeFormat('en-CA', { timeZone }).format(date) ===
		new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date())
	return new Intl.DateTimeFormat('en-GB', {
		timeZone,
		...(sameDay ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short' }),
	}).format(date)
}

function ConversationRow({
	item,
	selected,
	search,
	timeZone,
	selectable,
}: {
	item: ConversationListItem
	selected: boolean
	search: string
	timeZone: string
	/** Shows a checkbox for bulk assignment (marketers and admins). */
	selectable: boolean
}) {
	return (
		<li style={selectable ? { display: 'flex', alignItems: 'flex-start' } : undefined}>
			{selectable ? (
				<input
					type="checkbox"
					name="conversationIds"
					value={item.id}
					form="bulk-assign"
					aria-label={`Select ${item.name ?? item.phone}`}
					style={{ margin: '0.9rem 0 0 0.5rem', flex: 'none' }}
				/>
			) : null}
			<Link
				style={selectable ? { flex: 1, minWidth: 0 } : undefined}
				to={`/inbox/${item.id}${search}`}
				className={`inbox-item${selected ? ' inbox-item-selected' : ''}${item.unreadCount > 0 ? ' inbox-item-unread' : ''}`}
				aria-current={selected ? 'page' : undefined}
				data-testid="conversation-item"
				preventScrollReset
			>
				<div className="inbox-item-top">
					<span className="inbox-item-name">{item.name ?? item.phone}</span>
					<time className="inbox-item-time" dateTime={item.lastMessageAt ?? undefined}>
						{relativeTime(item.lastMessageAt, timeZone)}
					</time>
				</div>
				{item.name ? <div className="inbox-item-phone">{item.phone}</div> : null}
				<div className="inbox-item-bottom">
					<span className="inbox-item-preview">
						{item.preview?.direction === 'outbound' ? <span className="muted">You: </span> : null}
						{item.preview?.text ?? ''}
					</span>
					{item.assignee ? (
						<span className="badge badge-blue" title={`Assigned to ${item.assignee.name}`}>
							{item.assignee.name}
						</span>
					) : null}
					{item.status === 'ended' ? <span className="badge badge-gray">Ended</span> : null}
					{item.unreadCount > 0 ? (
						<span className="inbox-unread" aria-label={`${item.unreadCount} unread`}>
							{item.unreadCount}
						</span>
					) : null}
				</div>
			</Link>
		</li>
	)
}

export default function InboxLayout() {
	const data = useLoaderData<typeof loader>()
	const { conversationId } = useParams()
	const location = useLocation()
	const more = useFetcher<typeof loader>()
	const [older, setOlder] = useState<{ items: ConversationListItem[]; nextCursor: string | null }>({
		items: [],
		nextCursor: null,
	})
	useLivePoll()

	// New filters start the list over.
	useEffect(() => setOlder({ items: [], nextCursor: null }), [location.search])
	useEffect(() => {
		if (more.data && more.state === 'idle') {
			const page = more.data
			// A revalidation hands the same page back again: merge by id instead of appending.
			setOlder((current) => {
				const merged = new Map(current.items.map((item) => [item.id, item]))
				for (const item of page.items) merged.set(item.id, item)
				return { items: [...merged.values()], nextCursor: page.nextCursor }
			})
		}
	}, [more.data, more.state])

	const items = useMemo(() => {
		const seen = new Set(data.items.map((item) => item.id))
		return [...data.items, ...older.items.filter((item) => !seen.has(item.id))]
	}, [data.items, older.items])
	const nextCursor = older.items.length > 0 ? older.nextCursor : data.nextCursor
	const filtersActive = Boolean(
		data.filters.q ||
		data.filters.status !== 'all' ||
		data.filters.broadcast ||
		data.filters.assigned,
	)
	const bulk = useActionData<typeof action>()

	function loadOlder() {
		if (!nextCursor) return
		const params = new URLSearchParams(location.search)
		params.set('cursor', nextCursor)
		more.load(`/inbox?${params}`)
	}

	return (
		<div className={`inbox${conversationId ? ' inbox-has-selection' : ''}`}>
			<section className="inbox-list" aria-label="Conversations">
				<Form method="get" action={location.pathname} className="inbox-filters" role="search">
					<input
						className="input"
						type="search"
						name="q"
						defaultValue={data.filters.q}
						placeholder="Search name, number or message"
						aria-label="Search conversations"
					/>
					<div className="row">
						<select
							className="input"
							name="status"
							defaultValue={data.filters.status}
							aria-label="Status"
						>
							<option value="all">All</option>
							<option value="unread">Unread</option>
							<option value="active">Active</option>
							<option value="ended">Ended</option>
						</select>
						<select
							className="input"
							name="broadcast"
							defaultValue={data.filters.broadcast}
							aria-label="Replied to broadcast"
						>
							<option value="">Any broadcast</option>
							{data.broadcasts.map((b) => (
								<option key={b.id} value={b.id}>
									Replied to: {b.name}
								</option>
							))}
						</select>
						<select
							className="input"
							name="assigned"
							defaultValue={data.filters.assigned}
							aria-label="Assigned"
						>
							<option value="">Anyone’s</option>
							<option value="mine">Mine</option>
							<option value="unassigned">Unassigned</option>
							{data.assignees.map((person) => (
								<option key={person.id} value={person.id}>
									{person.name}
								</option>
							))}
						</select>
						<button className="btn btn-small" type="submit">
							Filter
						</button>
						{filtersActive ? (
							<Link className="btn btn-small btn-ghost" to={location.pathname}>
								Clear
							</Link>
						) : null}
					</div>
				</Form>
				{data.canAssign && items.length > 0 ? (
					<BulkAssignBar
						formId="bulk-assign"
						assignees={data.assignees}
						redirectTo={`${location.pathname}${location.search}`}
					/>
				) : null}
				{bulk && 'bulkError' in bulk ? (
					<p className="field-error" role="alert">
						{bulk.bulkError}
					</p>
				) : null}
				{items.length === 0 ? (
					<div className="empty-state">
						<h2>{filtersActive ? 'No conversation matches' : 'No conversations yet'}</h2>
						<p>
							{filtersActive
								? 'Try another search or filter.'
								: 'Replies to your broadcasts and other WhatsApp messages appear here.'}
						</p>
					</div>
				) : (
					<ul className="inbox-items" data-testid="conversation-list">
						{items.map((item) => (
							<ConversationRow
								key={item.id}
								item={item}
								selected={item.id === conversationId}
								search={location.search}
								timeZone={data.timezone}
								selectable={data.canAssign}
							/>
						))}
					</ul>
				)}
				{nextCursor ? (
					<button
						type="button"
						className="btn btn-small inbox-more"
						onClick={loadOlder}
						disabled={more.state !== 'idle'}
					>
						{more.state === 'idle' ? 'Load older conversations' : 'Loading…'}
					</button>
				) : null}
			</section>
			<section className="inbox-pane">
				<Outlet />
			</section>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
