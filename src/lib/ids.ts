import * as nodeCrypto from 'node:crypto'
import { createHash, randomBytes } from 'node:crypto'

/** Session ids are 32 bytes (256 bits) from the CSPRNG, base64url: 43 characters. */
export const SESSION_ID_BYTES = 32
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** A fresh, URL- and cookie-safe session id with 256 bits of entropy. */
export function generateSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString('base64url')
}

/** True when `id` has the exact shape of an id made by {@link generateSessionId}. */
export function isWellFormedSessionId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id)
}

/**
 * The key a store files a session under: SHA-256 of the id. A store dump therefore cannot be
 * replayed as cookies, and keys are path- and key-safe by construction.
 */
export function storageKeyFor(id: string): string {
  return oneShotHash ? oneShotHash('sha256', id, 'base64url') : createHash('sha256').update(id).digest('base64url')
}

// crypto.hash (Node 20.12+) hashes without building a Hash object: this runs on every request.
const oneShotHash = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined
