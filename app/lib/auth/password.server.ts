import { hash, verify } from '@node-rs/argon2'

// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
const OPTIONS = { algorithm: 2 /* Argon2id; the package exports it as a const enum */, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

export function hashPassword(password: string) {
	return hash(password, OPTIONS)
}

// Verifying against this when the email is unknown keeps both paths equally slow, so response
// time does not reveal which emails have accounts.
const dummyHash = hash('pregon-timing-equaliser', OPTIONS)

export async function verifyPassword(password: string, passwordHash: string | null) {
	if (!passwordHash) {
		await verify(await dummyHash, password).catch(() => false)
		return false
	}
	return verify(passwordHash, password).catch(() => false)
}

export const PASSWORD_MIN_LENGTH = 12
