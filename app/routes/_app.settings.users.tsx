import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { GeneralErrorBoundary } from '#app/components/error-boundary'
import { ConfirmButton } from '#app/components/ui/confirm-button'
import {
	changeUserRole,
	createUser,
	EmailTakenError,
	generatePassword,
	listUsers,
	NewUserSchema,
	setUserActive,
	unlockAccount,
} from '#app/lib/auth/users.server'
import { roleEnum } from '#db/schema/index'
import { requireRole } from '#app/utils/auth.server'
import { formatDateTime } from '#app/utils/format'

export const meta: MetaFunction = () => [{ title: 'Users · Pregón' }]

const ActionSchema = z.discriminatedUnion('intent', [
	z.object({
		intent: z.literal('create'),
		email: z.string(),
		name: z.string(),
		role: z.string(),
		password: z.string().optional(),
	}),
	z.object({ intent: z.literal('role'), userId: z.uuid(), role: z.enum(roleEnum.enumValues) }),
	z.object({ intent: z.literal('deactivate'), userId: z.uuid() }),
	z.object({ intent: z.literal('reactivate'), userId: z.uuid() }),
	z.object({ intent: z.literal('unlock'), email: z.string() }),
])

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await requireRole(request, ['admin'])
	return { users: await listUsers(), me: user.id, timezone: user.timezone }
}

type ActionData = {
	errors?: Record<string, string>
	created?: { email: string; password?: string }
	message?: string
}

export async function action({ request }: ActionFunctionArgs) {
	const admin = await requireRole(request, ['admin'])
	const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()))
	if (!parsed.success) return Response.json({ errors: { form: 'Invalid request' } }, { status: 400 })
	const input = parsed.data
	switch (input.intent) {
		case 'create': {
			const generated = input.password ? undefined : generatePassword()
			const candidate = NewUserSchema.safeParse({ ...input, password: input.password || generated })
			if (!candidate.success) {
				const errors: Record<string, string> = {}
				for (const issue of candidate.error.issues) errors[String(issue.path[0])] ??= issue.message
				return Response.json({ errors }, { status: 400 })
			}
			try {
				await createUser(candidate.data, admin.id)
			} catch (error) {
				if (error instanceof EmailTakenError) return Response.json({ errors: { email: error.message } }, { status: 400 })
				throw error
			}
			return { created: { email: candidate.data.email, password: generated } } satisfies ActionData
		}
		case 'role':
			if (input.userId === admin.id) return Response.json({ errors: { form: 'You cannot change your own role.' } }, { status: 400 })
			if (!(await changeUserRole(input.userId, input.role, admin.id))) throw new Response('Not found', { status: 404 })
			return { message: 'Role changed.' } satisfies ActionData
		case 'deactivate':
			if (input.userId === admin.id) return Response.json({ errors: { form: 'You cannot deactivate yourself.' } }, { status: 400 })
			if (!(await setUserActive(input.userId, false, admin.id))) throw new Response('Not found', { status: 404 })
			return { message: 'User deactivated; their sessions have ended.' } satisfies ActionData
		case 'reactivate':
			if (!(await setUserActive(input.userId, true, admin.id))) throw new Response('Not found', { status: 404 })
			return { message: 'User reactivated.' } satisfies ActionData
		case 'unlock':
			await unlockAccount(input.email, admin.id)
			return { message: 'Sign-in attempts reset.' } satisfies ActionData
	}
}

export default function UsersRoute() {
	const { users, me, timezone } = useLoaderData<typeof loader>()
	const data = useActionData<ActionData>()
	const errors = data?.errors ?? {}
	return (
		<div className="page">
			<div className="page-header">
				<h1>Users</h1>
			</div>
			{errors.form ? <div className="alert alert-error">{errors.form}</div> : null}
			{data?.message ? <div className="alert alert-success">{data.message}</div> : null}
			{data?.created ? (
				<div className="alert alert-success" role="status">
					Created {data.created.email}.
					{data.created.password ? (
						<>
							{' '}
							Their password (shown once): <code data-testid="generated-password">{data.created.password}</code>
						</>
					) : null}
				</div>
			) : null}
			<div className="card">
				<h2>Add a user</h2>
				<Form method="post" className="form-grid">
					<input type="hidden" name="intent" value="create" />
					<div className="field">
						<label htmlFor="new-email">Email</label>
						<input id="new-email" name="email" type="email" required aria-invalid={Boolean(errors.email)} />
						{errors.email ? <p className="field-error">{errors.email}</p> : null}
					</div>
					<div className="field">
						<label htmlFor="new-name">Name</label>
						<input id="new-name" name="name" required aria-invalid={Boolean(errors.name)} />
						{errors.name ? <p className="field-error">{errors.name}</p> : null}
					</div>
					<div className="field">
						<label htmlFor="new-role">Role</label>
						<select id="new-role" name="role" defaultValue="marketer">
							<option value="marketer">Marketer</option>
							<option value="analyst">Analyst</option>
							<option value="admin">Admin</option>
						</select>
					</div>
					<div className="field">
						<label htmlFor="new-password">Password</label>
						<input id="new-password" name="password" type="password" autoComplete="new-password" aria-invalid={Boolean(errors.password)} />
						<span className="hint">Leave empty to generate one (at least 12 characters).</span>
						{errors.password ? <p className="field-error">{errors.password}</p> : null}
					</div>
					<div className="field">
						<span>&nbsp;</span>
						<button type="submit" className="btn btn-primary">
							Add user
						</button>
					</div>
				</Form>
			</div>
			<div className="card table-wrap">
				<table className="table">
					<thead>
						<tr>
							<th>Name</th>
							<th>Email</th>
							<th>Role</th>
							<th>Status</th>
							<th>Created</th>
							<th>Actions</th>
						</tr>
					</thead>
					<tbody>
						{users.map((user) => (
							<tr key={user.id}>
								<td>{user.name}</td>
								<td>{user.email}</td>
								<td>
									{user.id === me ? (
										<span className="badge badge-blue">{user.role}</span>
									) : (
										<Form method="post" className="row">
											<input type="hidden" name="intent" value="role" />
											<input type="hidden" name="userId" value={user.id} />
											<select name="role" defaultValue={user.role} aria-label={`Role of ${user.email}`} className="input" style={{ width: 'auto' }}>
												<option value="admin">admin</option>
												<option value="marketer">marketer</option>
												<option value="analyst">analyst</option>
											</select>
											<button className="btn btn-small" type="submit">
												Change
											</button>
										</Form>
									)}
								</td>
								<td>{user.active ? <span className="badge badge-green">active</span> : <span className="badge badge-gray">deactivated</span>}</td>
								<td>{formatDateTime(user.createdAt, timezone)}</td>
								<td className="row">
									{user.id === me ? null : user.active ? (
										<ConfirmButton
											fields={{ intent: 'deactivate', userId: user.id }}
											confirm={`Deactivate ${user.email}? They are signed out everywhere at once.`}
										>
											Deactivate
										</ConfirmButton>
									) : (
										<Form method="post">
											<input type="hidden" name="intent" value="reactivate" />
											<input type="hidden" name="userId" value={user.id} />
											<button className="btn btn-small" type="submit">
												Reactivate
											</button>
										</Form>
									)}
									<Form method="post">
										<input type="hidden" name="intent" value="unlock" />
										<input type="hidden" name="email" value={user.email} />
										<button className="btn btn-small btn-ghost" type="submit" title="Reset failed sign-in attempts">
											Unlock sign-in
										</button>
									</Form>
								</td>
							</tr>
						))}
					</tbody>
				</table>
			</div>
		</div>
	)
}

export function ErrorBoundary() {
	return <GeneralErrorBoundary />
}
