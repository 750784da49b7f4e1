import { setTimeout as sleep } from 'node:timers/promises'
import type { ResolvedConfig } from '../config/resolve.js'
import type { GuardedStore } from '../session/store.js'
import { numberField, readState, stateKey, writeState } from './state.js'

/**
 * Revocation markers: one small state record per user saying which of the user's sessions and
 * remember-me tokens issued until now are revoked. Stores without a per-user index (the sealed
 * cookie driver) cannot delete a user's sessions, so such a session is refused at load instead;
 * remember-me tokens carry a generation that a revocation bumps.
 */

/** What to revoke: `sessions` created until now (but those in `keep`), and/or remember-me tokens. */
export interface RevocationScope {
  sessions: boolean
  rememberMe: boolean
  /** Storage keys of sessions that stay valid (typically the current one). */
  keep?: readonly string[]
}

/** Records that the user's sessions and/or remember-me tokens issued until now are revoked. */
export async function markRevoked(store: GuardedStore, userId: string, what: RevocationScope, ttl: number): Promise<void> {
  if (!what.sessions && !what.rememberMe) return
  const key = stateKey('revoked', userId)
  const fields = { ...(await readState(store, key)) }
  const revokedAt = Date.now()
  if (what.sessions) {
    // Sessions created up to and including this millisecond are revoked: one minted in the
    // same millisecond raced the revocation (a stolen token's session), and revocation wins.
    fields.sessions = String(revokedAt + 1)
    fields.keep = JSON.stringify(what.keep ?? [])
  }
  // Tokens carry the generation they were issued in: a counter, so a token issued in the same
  // millisecond right after a revocation (password change, then "remember me") still works.
  if (what.rememberMe) fields.rememberMe = String(numberField(fields, 'rememberMe', 0) + 1)
  await writeState(store, key, fields, ttl)
  // Return only once the clock has moved on, so a session created after this call (a fresh
  // login) is never mistaken for one created with the revoked ones.
  if (what.sessions) while (Date.now() <= revokedAt) await sleep(1)
}

/** The user's current remember-me generation: tokens issued in an older one are revoked. */
export async function rememberGeneration(store: GuardedStore, userId: string): Promise<number> {
  return numberField(await readState(store, stateKey('revoked', userId)), 'rememberMe', 0)
}

/**
 * True when a session created at `createdAt` was revoked afterwards (a session created in the
 * same millisecond as the revocation counts as revoked), unless its storage `key` was kept.
 */
export async function isRevoked(store: GuardedStore, userId: string, createdAt: number, key?: string): Promise<boolean> {
  const fields = await readState(store, stateKey('revoked', userId))
  if (!fields || createdAt >= numberField(fields, 'sessions', Number.NEGATIVE_INFINITY)) return false
  return key === undefined || !parseKeep(fields.keep).includes(key)
}

/**
 * How long a marker must live: as long as the longest session or remember-me lifetime, since
 * anything older has expired by itself anyway.
 */
export function markerLifetime(config: ResolvedConfig): number {
  let longest = Math.max(config.lifetimeMs, config.security.rememberMe.lifetimeMs)
  for (const { lifetimeMs } of config.drivers.values()) longest = Math.max(longest, lifetimeMs)
  return longest
}

function parseKeep(text: string | undefined): string[] {
  try {
    const parsed: unknown = JSON.parse(text ?? '[]')
    return Array.isArray(parsed) ? parsed.filter((entry): entry is string => typeof entry === 'string') : []
  } catch {
    return []
  }
}
