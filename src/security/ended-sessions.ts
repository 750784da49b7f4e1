import type { GuardedStore } from '../session/store.js'
import { readState, stateKey, writeState } from './state.js'

/**
 * Logout records of request-scoped (sealed cookie) sessions: the server holds no such session, so
 * `invalidate()` cannot delete it, and a copy of its cookie taken before logout would stay signed
 * in until its sealed expiry. Instead, ending one writes a record under its storage key, and a
 * user-bound sealed session whose key has a record is refused at load.
 *
 * One record per session: concurrent logouts never share a read-modify-write.
 */

/**
 * How much longer than the session lifetime a record lives: every seal of the session was written
 * by a request that began before the record was written, and expires a lifetime after that
 * request began (src/drivers/cookie.ts), so the lifetime alone covers it on one clock; the margin
 * covers clock skew between servers.
 */
export const ENDED_MARGIN_MS = 60_000

/** Records that the session stored under `key` has ended; it is refused for `lifetimeMs` (+ margin). */
export async function markEnded(store: GuardedStore, key: string, lifetimeMs: number): Promise<void> {
  await writeState(store, stateKey('ended', key), { endedAt: String(Date.now()) }, lifetimeMs + ENDED_MARGIN_MS)
}

/** True when the session stored under `key` was ended (logout) and must not be loaded again. */
export async function isEnded(store: GuardedStore, key: string): Promise<boolean> {
  return (await readState(store, stateKey('ended', key))) !== null
}
