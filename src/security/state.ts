import { supports, type StoredRecord } from '../drivers/contract.js'
import { emptyData } from '../drivers/record.js'
import { sha256 } from '../lib/crypto.js'
import type { GuardedStore } from '../session/store.js'
import { lockMissing } from './requirements.js'

/**
 * Small server-side records the security features keep beside sessions (rate-limit buckets,
 * remember-me tokens, revocation markers). They are ordinary stored records without a user id,
 * so they never show up in a user's session list, and expire like sessions do.
 */

/** The storage key of a state record: a hash, so subjects (IPs, user ids) never reach a store as keys. */
export function stateKey(kind: string, subject: string): string {
  return sha256(`tessera:${kind}:${subject}`)
}

export async function readState(store: GuardedStore, key: string): Promise<Record<string, string> | null> {
  const record = await store.read(key)
  return record ? record.data : null
}

export async function writeState(store: GuardedStore, key: string, fields: Record<string, string>, ttl: number): Promise<void> {
  const now = Date.now()
  const record: StoredRecord = {
    data: Object.assign(emptyData(), fields),
    flash: null,
    meta: { createdAt: now, lastSeenAt: now, expiresAt: now + ttl, version: 1 },
  }
  await store.write(key, record, ttl)
}

/** How long a state lock may be held at most, in ms (a crashed holder's lease ends by itself). */
export const STATE_LOCK_TTL_MS = 5_000

/**
 * Runs a read-modify-write of a state record holding the driver's lock, so parallel requests in
 * every process that shares the store take turns (single-use remember-me tokens, rate-limit
 * buckets). A driver without `lock` cannot do that, so it is refused with a SessionConfigError.
 */
export async function withStateLock<T>(store: GuardedStore, key: string, work: () => Promise<T>): Promise<T> {
  if (!supports(store.driver, 'lock')) throw lockMissing(store.name, 'rememberMe and rateLimit.create')
  const unlock = await store.lock(`${key}.lock`, STATE_LOCK_TTL_MS)
  try {
    return await work()
  } finally {
    await unlock()
  }
}

/** A finite number parsed from a state field, or the fallback. */
export function numberField(fields: Record<string, string> | null, name: string, fallback: number): number {
  const value = fields ? Number(fields[name]) : Number.NaN
  return Number.isFinite(value) ? value : fallback
}
