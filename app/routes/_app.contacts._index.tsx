import {
	type ActionFunctionArgs,
	type LinksFunction,
	type LoaderFunctionArgs,
	type MetaFunction,
} from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { bulkTag, knownTags, listContacts } from '#app/lib/contacts/contacts.server'
import { filterFromSearchParams, filterToSearchParams, TagSchema } from '#app/lib/contacts/filters'
import { maskPhone } from '#app/lib/contacts/mask'
import contactStyles from '#app/styles/contacts.css?url'
import { ALL_ROLES, requireRole } from '#app/utils/auth.server'
import { formatDateTime } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Contacts · Pregón' }]
export const links: LinksFunction = () => [{ rel: 'stylesheet', href: contactStyles }]

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ALL_ROLES)
	const params = new URL(request.url).searchParams
	const filter = filterFromSearchParams(params)
	const before = z.coerce
		.number()
		.int()
		.positive()
		.optional()
		.catch(undefined)
		.parse(params.get('before') ?? undefined)
	const [page, tags] = await Promise.all([listContacts(filter, { before }), knownTags()])
	const masked = user.role === 'analyst'
	return {
		filter,
		before,
		tags,
		canEdit: !masked,
		timezone: user.timezone,
		nextBefore: page.nextBefore,
		contacts: page.contacts.map((c) => ({
			...c,
			phone: masked ? maskPhone(c.phoneE164) : c.phoneE164,
			phoneE164: undefined,
		})),
	}
}

const BulkSchema = z.object({ intent: z.enum(['tag', 'untag']), tag: TagSchema })

export async function action({ request }: ActionFunctionArgs) {
	const user = await requireRole(request, ['admin', 'marketer'])
	const form = await request.formData()
	const parsed = BulkSchema.safeParse(Object.fromEntries(form))
	if (!parsed.success) {
		return Response.json(
			{ fieldError: parsed.error.issues[0]?.message ?? 'invalid' },
			{ status: 400 },
		)
	}
	const filter = filterFromSearchParams(new URL(request.url).searchParams)
	const count = await bulkTag({
		filter,
		tag: parsed.data.tag,
		mode: parsed.data.intent === 'tag' ? 'add' : 'remove',
		actorId: user.id,
	})
	return {
		message: `${parsed.data.intent === 'tag' ? 'Tagged' : 'Untagged'} ${count.toLocaleString('en')} contacts with “${parsed.data.tag}”.`,
	}
}

export default function ContactsPage() {
	const data = useLoaderData<typeof loader>()
	const result = useActionData<typeof action>() as
		{ message?: string; fieldError?: string } | undefined
	const navigation = useNavigation()
	const query = filterToSearchParams(data.filter).toString()
	const exportHref = `/contacts/export${query ? `?${query}` : ''}`
	const filtered = query !== ''
	return (
		<div className="page stack">
			<header className="page-header">
				<h1>Contacts</h1>
				<div className="row">
					<a className="btn" href={exportHref} download>
						Export CSV
					</a>
					{data.canEdit ? (
						<Link className="btn btn-primary" to="/imports">
							Import contacts
						</Link>
					) : null}
				</div>
			</header>

			<Form method="get" className="card contacts-filters" role="search">
				<div className="field">
					<label htmlFor="q">Search</label>
					<input
						id="q"
						name="q"
						type="search"
						defaultValue={data.filter.q}
						placeholder="Name, phone, email or attribute"
					/>
				</div>
				<div className="field">
					<label htmlFor="tag">Tag</label>
					<input id="tag" name="tag" list="known-tags" defaultValue={data.filter.tag} />
					<datalist id="known-tags">
						{data.tags.map((tag) => (
							<option key={tag} value={tag} />
						))}
					</datalist>
				</div>
				<div className="field">
					<label htmlFor="optOut">Opt-out</label>
					<select id="optOut" name="optOut" defaultValue={data.filter.optOut}>
						<option value="any">Everyone</option>
						<option value="subscribed">Subscribed</option>
						<option value="opted_out">Opted out</option>
					</select>
				</div>
				<button className="btn btn-primary" type="submit">
					Filter
				</button>
			</Form>

			{data.canEdit ? (
				<Form
					method="post"
					action={`/contacts?index${query ? `&${query}` : ''}`}
					className="card toolbar"
					onSubmit={(event) => {
						const intent = (event.nativeEvent as SubmitEvent).submitter?.getAttribute('value')
						const scope = filtered ? 'every contact matching this filter' : 'EVERY contact'
						if (
							!confirm(`${intent === 'untag' ? 'Remove the tag from' : 'Add the tag to'} ${scope}?`)
						)
							event.preventDefault()
					}}
				>
					<div className="field">
						<label htmlFor="bulk-tag">
							Tag {filtered ? 'the filtered contacts' : 'all contacts'}
						</label>
						<input
							id="bulk-tag"
							name="tag"
							required
							aria-invalid={result?.fieldError ? true : undefined}
							aria-describedby="bulk-tag-error"
						/>
						{result?.fieldError ? (
							<p id="bulk-tag-error" className="field-error">
								{result.fieldError}
							</p>
						) : null}
					</div>
					<button
						className="btn"
						type="submit"
						name="intent"
						value="tag"
						disabled={navigation.state === 'submitting'}
					>
						Add tag
					</button>
					<button
						className="btn btn-ghost"
						type="submit"
						name="intent"
						value="untag"
						disabled={navigation.state === 'submitting'}
					>
						Remove tag
					</button>
					{result?.message ? (
						<p role="status" className="muted">
							{result.message}
						</p>
					) : null}
				</Form>
			) : null}

			{data.contacts.length === 0 ? (
				<div className="empty-state card">
					<p>{filtered ? 'No contact matches this filter.' : 'No contacts yet.'}</p>
					{data.canEdit && !filtered ? <Link to="/imports">Import a CSV file</Link> : null}
				</div>
			) : (
				<div className="table-wrap">
					<table className="table" data-testid="contacts-table">
						<thead>
							<tr>
								<th>Phone</th>
								<th>Name</th>
								<th>Tags</th>
								<th>Status</th>
								<th>Added</th>
							</tr>
						</thead>
						<tbody>
							{data.contacts.map((contact) => (
								<tr key={contact.id}>
									<td>
										<Link to={`/contacts/${contact.id}`}>{contact.phone}</Link>
									</td>
									<td>{contact.name ?? <span className="muted">—</span>}</td>
									<td>
										<span className="contacts-tags">
											{contact.tags.map((tag) => (
												<span key={tag} className="badge badge-blue">
													{tag}
												</span>
											))}
										</span>
									</td>
									<td>
										{contact.optedOutAt ? (
											<span className="badge badge-red">Opted out</span>
										) : (
											<span className="badge badge-green">Subscribed</span>
										)}
									</td>
									<td>{formatDateTime(contact.createdAt, data.timezone)}</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<nav className="row" aria-label="Pages">
				{data.before ? (
					<Link className="btn btn-ghost" to={`/contacts${query ? `?${query}` : ''}`}>
						First page
					</Link>
				) : null}
				{data.nextBefore ? (
					<Link
						className="btn"
						to={`/contacts?${new URLSearchParams([...filterToSearchParams(data.filter), ['before', String(data.nextBefore)]])}`}
					>
						Next page
					</Link>
				) : null}
			</nav>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
