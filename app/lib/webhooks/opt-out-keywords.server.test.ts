import type { ActionFunctionArgs } from '@remix-run/node'
import { and, eq, like } from 'drizzle-orm'
import { beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createSession } from '#app/lib/auth/sessions.server'
import { createUser } from '#app/lib/auth/users.server'
import { action } from '#app/routes/_app.settings.opt-out-keywords'
import { db } from '#db/client'
import { appSettings, auditLog } from '#db/schema/index'
import { DEFAULT_OPT_OUT_KEYWORDS } from './events'
import {
	getOptOutKeywords,
	OptOutKeywordsSchema,
	optOutKeywordSet,
	restoreDefaultOptOutKeywords,
	saveOptOutKeywords,
} from './opt-out-keywords.server'

let adminId: string
let adminToken: string

beforeAll(async () => {
	const admin = await createUser(
		{ email: 'boss@optout.test', name: 'Boss', role: 'admin', password: 'optout-password' },
		null,
	)
	adminId = admin.id
	adminToken = (await createSession(admin.id, { ip: '10.0.0.1' })).token
})

beforeEach(async () => {
	await db.delete(appSettings).where(eq(appSettings.key, 'opt_out_keywords'))
	await db.delete(auditLog).where(like(auditLog.action, 'settings.opt_out_keywords.%'))
})

async function storedRow() {
	const [row] = await db
		.select({ value: appSettings.value })
		.from(appSettings)
		.where(eq(appSettings.key, 'opt_out_keywords'))
	return row?.value
}

async function auditOf(action: string) {
	return db
		.select({ actorId: auditLog.actorId, details: auditLog.details })
		.from(auditLog)
		.where(and(eq(auditLog.action, action), eq(auditLog.objectId, 'opt_out_keywords')))
}

function keywordErrors(keywords: unknown) {
	const result = OptOutKeywordsSchema.safeParse({ keywords })
	expect(result.success).toBe(false)
	return result.error!.issues.map((issue) => ({ path: issue.path, message: issue.message }))
}

describe('opt-out keywords settings', () => {
	test('with nothing saved, the built-in defaults are in force', async () => {
		expect(await getOptOutKeywords()).toEqual({
			keywords: DEFAULT_OPT_OUT_KEYWORDS,
			isDefault: true,
		})
		expect(await optOutKeywordSet()).toContain('DAR DE BAJA')
	})

	test('saving takes one per line or comma-separated, trims, drops duplicates, and is audited', async () => {
		const saved = await saveOptOutKeywords(
			{ keywords: '  Alto \nPara ya, ALTO\n\nálto.\r\n basta ,' },
			adminId,
		)
		expect(saved).toEqual(['Alto', 'Para ya', 'basta'])
		expect(await storedRow()).toEqual(['Alto', 'Para ya', 'basta'])
		expect(await getOptOutKeywords()).toEqual({ keywords: saved, isDefault: false })
		expect([...(await optOutKeywordSet())]).toEqual(['ALTO', 'PARA YA', 'BASTA'])
		expect(await auditOf('settings.opt_out_keywords.update')).toEqual([
			{ actorId: adminId, details: { before: DEFAULT_OPT_OUT_KEYWORDS, after: saved } },
		])
	})

	test('an empty list, a keyword over 30 characters or one without letters is refused, naming the field', async () => {
		expect(keywordErrors(' \n , \n')).toEqual([
			{ path: ['keywords'], message: 'Enter at least one keyword' },
		])
		const long = 'x'.repeat(31)
		expect(keywordErrors(`STOP\n${long}`)).toEqual([
			{ path: ['keywords'], message: `“${long}” is longer than 30 characters` },
		])
		expect(OptOutKeywordsSchema.safeParse({ keywords: 'x'.repeat(30) }).success).toBe(true)
		expect(keywordErrors('STOP, ?!')).toEqual([
			{ path: ['keywords'], message: '“?!” needs a letter or a digit' },
		])
		expect(keywordErrors(undefined)[0].path).toEqual(['keywords'])

		await expect(saveOptOutKeywords({ keywords: '' }, adminId)).rejects.toThrow()
		expect(await storedRow()).toBeUndefined()
		expect(await auditOf('settings.opt_out_keywords.update')).toEqual([])
	})

	test('restoring the defaults removes the custom list and is audited', async () => {
		await saveOptOutKeywords({ keywords: 'ALTO' }, adminId)
		expect(await restoreDefaultOptOutKeywords(adminId)).toEqual(DEFAULT_OPT_OUT_KEYWORDS)
		expect(await storedRow()).toBeUndefined()
		expect(await getOptOutKeywords()).toEqual({
			keywords: DEFAULT_OPT_OUT_KEYWORDS,
			isDefault: true,
		})
		expect(await auditOf('settings.opt_out_keywords.restore')).toEqual([
			{ actorId: adminId, details: { before: ['ALTO'], after: DEFAULT_OPT_OUT_KEYWORDS } },
		])
	})
})

describe('Settings → Opt-out keywords, through the route action', () => {
	async function post(fields: Record<string, string>) {
		const response = await action({
			request: new Request('http://localhost/settings/opt-out-keywords', {
				method: 'POST',
				headers: { cookie: `pregon_session=${adminToken}` },
				body: new URLSearchParams(fields),
			}),
			params: {},
			context: {},
		} as ActionFunctionArgs)
		if (response instanceof Response) {
			return { status: response.status, ...((await response.json()) as object) }
		}
		return { status: 200, ...response }
	}

	test('a bad list answers 400 with the error on the keywords field and saves nothing', async () => {
		expect(await post({ intent: 'save', keywords: '  ' })).toEqual({
			status: 400,
			errors: { keywords: 'Enter at least one keyword' },
		})
		expect(await storedRow()).toBeUndefined()
	})

	test('save then restore', async () => {
		expect(await post({ intent: 'save', keywords: 'alto, basta' })).toEqual({
			status: 200,
			message: 'Saved 2 keyword(s).',
		})
		expect(await storedRow()).toEqual(['alto', 'basta'])
		expect(await post({ intent: 'restore' })).toEqual({
			status: 200,
			message: 'Default keywords restored.',
		})
		expect(await storedRow()).toBeUndefined()
	})
})
