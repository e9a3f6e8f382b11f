import { ensureFirstAdmin } from '#app/lib/auth/users.server'
import { getEnv } from '#app/lib/env.server'
import { ensureSandboxSender } from '#app/lib/senders/senders.server'

/** First-start setup: the first admin and, in sandbox mode, the sandbox's sender number. */
export async function bootstrap(options: { sandbox: boolean }) {
	const env = getEnv()
	const admin = await ensureFirstAdmin({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD })
	if (options.sandbox) await ensureSandboxSender()
	return { admin }
}
