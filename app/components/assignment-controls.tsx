import { Form, useFetcher } from '@remix-run/react'

export type AssigneeOption = { id: string; name: string }

type AssignResult = { intent: string; ok: boolean; message?: string }

/** Who answers the conversation, and (for marketers and admins) a control to change it. */
export function AssignControl({
	assignee,
	assignees,
	currentUserId,
	canAssign,
}: {
	assignee: AssigneeOption | null
	assignees: AssigneeOption[]
	currentUserId: string
	canAssign: boolean
}) {
	const fetcher = useFetcher<AssignResult>()
	const pending = fetcher.formData?.get('assigneeId')
	const shown =
		typeof pending === 'string'
			? (assignees.find((person) => person.id === pending) ?? null)
			: assignee
	const label = shown
		? `Assigned to ${shown.id === currentUserId ? 'you' : shown.name}`
		: 'Unassigned'
	if (!canAssign)
		return (
			<span className="badge badge-gray" data-testid="assignee">
				{label}
			</span>
		)
	return (
		<fetcher.Form method="post" className="row assign-control" preventScrollReset>
			<input type="hidden" name="intent" value="assign" />
			<select
				className="input"
				style={{ width: 'auto' }}
				name="assigneeId"
				defaultValue={assignee?.id ?? ''}
				key={assignee?.id ?? 'none'}
				aria-label="Assignee"
				data-testid="assignee-select"
			>
				<option value="">Unassigned</option>
				{assignees.map((person) => (
					<option key={person.id} value={person.id}>
						{person.id === currentUserId ? `${person.name} (me)` : person.name}
					</option>
				))}
			</select>
			<button className="btn btn-small" type="submit" disabled={fetcher.state !== 'idle'}>
				Assign
			</button>
			<span className="badge badge-blue" data-testid="assignee">
				{label}
			</span>
			{fetcher.data && !fetcher.data.ok && fetcher.data.message ? (
				<span className="field-error" role="alert">
					{fetcher.data.message}
				</span>
			) : null}
		</fetcher.Form>
	)
}

/** The bulk bar above the list: applies to every checked conversation (checkboxes use `form={formId}`). */
export function BulkAssignBar({
	formId,
	assignees,
	redirectTo,
}: {
	formId: string
	assignees: AssigneeOption[]
	redirectTo: string
}) {
	return (
		<Form
			id={formId}
			method="post"
			action="/inbox"
			className="row bulk-assign"
			style={{ padding: '0.5rem 0.75rem' }}
			aria-label="Assign selected conversations"
		>
			<input type="hidden" name="intent" value="bulk_assign" />
			<input type="hidden" name="redirectTo" value={redirectTo} />
			<select
				className="input"
				style={{ width: 'auto' }}
				name="assigneeId"
				aria-label="Assign selected to"
				defaultValue=""
			>
				<option value="">Unassign</option>
				{assignees.map((person) => (
					<option key={person.id} value={person.id}>
						{person.name}
					</option>
				))}
			</select>
			<button className="btn btn-small" type="submit">
				Assign selected
			</button>
		</Form>
	)
}
