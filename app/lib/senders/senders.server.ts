import { asc, eq } from 'drizzle-orm'
import { z } from 'zod'
import { db } from '#db/client'
import { senders } from '#db/schema/index'
import { recordAudit } from '#app/lib/audit.server'

const digits = (label: string) =>
	z
		.string()
		.trim()
		.regex(/^\d{5,20}$/, `${label} is the numeric id Meta gives (5–20 digits)`)

export const SenderSchema = z.object({
	phoneNumberId: digits('Phone number id'),
	wabaId: digits('WABA id'),
	displayNumber: z
		.string()
		.trim()
		.regex(/^\+?[\d\s()-]{6,24}$/, 'Enter the number as it is displayed, e.g. +51 987 654 321'),
	name: z.string().trim().max(80).default(''),
	ratePerSecond: z.coerce
		.number()
		.int('Whole messages per second')
		.min(1, 'At least 1 message per second')
		.max(1000, 'Meta allows at most 1,000 messages per second per number')
		.default(80),
})
export type SenderInput = z.input<typeof SenderSchema>

export class DuplicateSenderError extends Error {
	constructor() {
		super('This phone number id is already configured')
	}
}

export async function listSenders() {
	return db.select().from(senders).orderBy(asc(senders.createdAt))
}

export async function getSender(id: string) {
	const [sender] = await db.select().from(senders).where(eq(senders.id, id))
	return sender ?? null
}

export async function createSender(input: SenderInput, actorId: string | null) {
	const data = SenderSchema.parse(input)
	return db.transaction(async (tx) => {
		const [existing] = await tx
			.select({ id: senders.id })
			.from(senders)
			.where(eq(senders.phoneNumberId, data.phoneNumberId))
		if (existing) throw new DuplicateSenderError()
		const [sender] = await tx.insert(senders).values(data).returning()
		await recordAudit(tx, {
			actorId,
			action: 'sender.create',
			objectType: 'sender',
			objectId: sender.id,
			details: { phoneNumberId: data.phoneNumberId, ratePerSecond: data.ratePerSecond },
		})
		return sender
	})
}

export const SenderRateSchema = SenderSchema.pick({ ratePerSecond: true, name: true })

export async function updateSender(
	id: string,
	input: z.input<typeof SenderRateSchema>,
	actorId: string,
) {
	const data = SenderRateSchema.parse(input)
	return db.transaction(async (tx) => {
		const [sender] = await tx.update(senders).set(data).where(eq(senders.id, id)).returning()
		if (!sender) return null
		await recordAudit(tx, {
			actorId,
			action: 'sender.update',
			objectType: 'sender',
			objectId: id,
			details: data,
		})
		return sender
	})
}

export const SANDBOX_SENDER = {
	phoneNumberId: '100000000000001',
	wabaId: '200000000000001',
	displayNumber: '+1 555 000 0001',
	name: 'Sandbox number',
	ratePerSecond: 80,
}

/** Seeds the sandbox's default number on first start, so a new install can send at once. */
export async function ensureSandboxSender() {
	const existing = await db.select({ id: senders.id }).from(senders).limit(1)
	if (existing.length > 0) return null
	return createSender(SANDBOX_SENDER, null)
}
