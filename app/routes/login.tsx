import {
	type ActionFunctionArgs,
	type LoaderFunctionArgs,
	type MetaFunction,
	redirect,
} from '@remix-run/node'
import { Form, useActionData, useNavigation, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { login } from '#app/lib/auth/users.server'
import { clientAddress, getUser, sessionCookie, sessionToken } from '#app/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Sign in · Pregón' }]

const LoginSchema = z.object({
	email: z.string().trim().min(1, 'Enter your email'),
	password: z.string().min(1, 'Enter your password'),
	redirectTo: z.string().optional(),
})

function safeRedirect(target: string | undefined) {
	return target && target.startsWith('/') && !target.startsWith('//') ? target : '/'
}

export async function loader({ request }: LoaderFunctionArgs) {
	const user = await getUser(request)
	if (user) throw redirect('/')
	return null
}

export async function action({ request }: ActionFunctionArgs) {
	const parsed = LoginSchema.safeParse(Object.fromEntries(await request.formData()))
	if (!parsed.success) {
		return Response.json(
			{ error: parsed.error.issues[0]?.message ?? 'Invalid form' },
			{ status: 400 },
		)
	}
	const result = await login(parsed.data, {
		ip: clientAddress(request),
		userAgent: request.headers.get('user-agent'),
		previousToken: sessionToken(request),
	})
	if (!result.ok) {
		const error =
			result.reason === 'throttled'
				? `Too many failed attempts. Try again after ${result.retryAt?.toISOString().slice(11, 19)} UTC.`
				: result.reason === 'locked'
					? 'This account is locked after too many failed attempts. Ask an admin to unlock it.'
					: 'Email or password is incorrect.'
		return Response.json({ error }, { status: result.reason === 'invalid' ? 401 : 429 })
	}
	return redirect(safeRedirect(parsed.data.redirectTo), {
		headers: { 'Set-Cookie': sessionCookie(request, result.token, result.expiresAt) },
	})
}

export default function LoginRoute() {
	const data = useActionData<{ error?: string }>()
	const [params] = useSearchParams()
	const navigation = useNavigation()
	return (
		<main className="login-page">
			<div className="card login-card stack">
				<h1>Sign in to Pregón</h1>
				{data?.error ? (
					<div className="alert alert-error" role="alert">
						{data.error}
					</div>
				) : null}
				<Form method="post" className="stack">
					<input type="hidden" name="redirectTo" value={params.get('redirectTo') ?? '/'} />
					<div className="field">
						<label htmlFor="email">Email</label>
						<input
							id="email"
							name="email"
							type="email"
							autoComplete="username"
							required
							autoFocus
						/>
					</div>
					<div className="field">
						<label htmlFor="password">Password</label>
						<input
							id="password"
							name="password"
							type="password"
							autoComplete="current-password"
							required
						/>
					</div>
					<button type="submit" className="btn btn-primary" disabled={navigation.state !== 'idle'}>
						{navigation.state !== 'idle' ? 'Signing in…' : 'Sign in'}
					</button>
				</Form>
			</div>
		</main>
	)
}
