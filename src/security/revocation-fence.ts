import { setTimeout as sleep } from 'node:timers/promises'
import type { GuardedStore } from '../session/store.js'
import { numberField, readState, stateKey, writeState } from './state.js'

/**
 * The fence `revokeAll` raises before it deletes a user's sessions: one small state record per
 * user with the time of the latest revocation. A write that binds the user (login) or moves the
 * user's session to a new key (regenerate) can land after the deletion has listed the user's
 * sessions; such a write checks the fence afterwards, and undoes itself when its session was
 * started before the revocation. Fence first, delete second, check after the write: whichever
 * order the two requests take, the session does not outlive the revokeAll.
 */

const KIND = 'revoked-writes'

/** Records that writes of `userId`'s sessions started up to now are revoked (but for `keep`). */
export async function raiseFence(store: GuardedStore, userId: string, keep: readonly string[], ttl: number): Promise<void> {
  const key = stateKey(KIND, userId)
  const previous = numberField(await readState(store, key), 'before', 0)
  const revokedAt = Date.now()
  // Sessions started up to and including this millisecond are fenced: revocation wins a tie.
  const before = Math.max(previous, revokedAt + 1)
  await writeState(store, key, { before: String(before), keep: JSON.stringify(keep) }, ttl)
  // Return once the clock has moved on, so a session started after this call is never fenced.
  while (Date.now() <= revokedAt) await sleep(1)
}

/** True when a revokeAll of `userId` began at or after `since`, and `key` was not kept. */
export async function fencedSince(store: GuardedStore, userId: string, since: number, key: string): Promise<boolean> {
  const fields = await readState(store, stateKey(KIND, userId))
  if (!fields || since >= numberField(fields, 'before', Number.NEGATIVE_INFINITY)) return false
  try {
    const keep: unknown = JSON.parse(fields.keep ?? '[]')
    return !(Array.isArray(keep) && keep.includes(key))
  } catch {
    return true
  }
}
