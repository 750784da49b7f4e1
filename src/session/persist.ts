import type { Change, RecordMeta, StoredRecord } from '../drivers/contract.js'
import { SessionEvents } from './events.js'
import type { SessionState } from './state.js'

/**
 * What a persistence step did: `stored` (record written, patched or touched), `unchanged`
 * (nothing to send), `missing` (the stored session was destroyed meanwhile; it stays destroyed).
 */
export type PersistOutcome = 'stored' | 'unchanged' | 'missing'

/**
 * The one sequence that persists a session, used by `save()` and `regenerate()`:
 * collect in-place edits → guard a new user binding → send (a full record for a session not
 * stored yet or one moving to a new key, else the change log as a patch, or a touch when one is
 * due) → settle the bags → report the binding.
 *
 * With `retiredKey` (regenerate) the record is moved in full to the session's current key,
 * keeping its creation time, only if the record under `retiredKey` still exists.
 *
 * Logout wins: when the stored session was destroyed meanwhile (the patch or the move finds no
 * record), or when a write binding a user (login) or moving a signed-in session raced a
 * `revokeAll` of that user that began after this session was started, nothing stays stored and
 * the session starts over empty under a new id (`missing`).
 */
export async function persist(state: SessionState, retiredKey?: string): Promise<PersistOutcome> {
  const bind: PendingBind = {}
  try {
    return await persistSteps(state, retiredKey, bind)
  } finally {
    // A bind announced to the guards that did not complete (the session was destroyed or revoked
    // meanwhile, or the store failed) releases what beforeBind holds, such as the user's lock.
    if (bind.userId !== undefined && bind.key !== undefined) await state.ctx.guards?.abandonBind?.(bind.userId, bind.key)
  }
}

/** The user binding announced to the guards by `beforeBind` and not yet settled by `afterBind`. */
interface PendingBind {
  userId?: string
  key?: string
}

async function persistSteps(state: SessionState, retiredKey: string | undefined, bind: PendingBind): Promise<PersistOutcome> {
  const { values, flash } = state
  const { store, codec, lifetimeMs: ttl, guards } = state.ctx
  values.collectMutations()
  const binding = state.binding
  const now = Date.now()
  let flashValue: string | null | undefined
  if (state.persisted && retiredKey === undefined) {
    const flashChange = flash.change()
    const changes: Change[] = [...values.changes]
    if (flashChange) changes.push(flashChange)
    if (state.pendingUser) changes.push({ op: 'user', ...state.pendingUser })
    if (changes.length > 0) {
      if (binding) await announceBind(state, binding, bind)
      if ((await store.patch(state.key, changes, { ttl, codec })) === 'missing') {
        // Another request destroyed this session meanwhile (logout): it stays destroyed.
        return ended(state)
      }
      state.meta = bumped(state, now, ttl)
      flashValue = flashChange?.value
    } else if (state.meta && now - state.meta.lastSeenAt >= state.ctx.touchAfterMs) {
      await store.touch(state.key, ttl)
      state.meta = bumped(state, now, ttl)
    } else {
      return 'unchanged'
    }
  } else {
    flashValue = flash.forRecord()
    if (retiredKey === undefined && values.size === 0 && flashValue === null && !state.pendingUser?.userId) {
      values.settle()
      return 'unchanged'
    }
    if (binding) await announceBind(state, binding, bind)
    const record = snapshot(state, flashValue, now)
    if (retiredKey !== undefined && state.meta) record.meta.createdAt = state.meta.createdAt
    if (retiredKey === undefined) await store.write(state.key, record, ttl)
    else {
      // A copy of a stateless session's old cookie must not outlive the old key either.
      if (state.meta) await guards?.beforeEnd?.(retiredKey, state.meta, ttl)
      if (!(await store.rename(retiredKey, state.key, record, ttl))) return ended(state)
    }
    state.persisted = true
    state.meta = record.meta
  }
  const userId = state.meta?.userId
  if (userId !== undefined && (binding || retiredKey !== undefined) && (await guards?.revokedSince?.(userId, state.key, state.startedAt))) {
    // revokeAll(userId) began after this session was started and may have missed this write.
    await store.destroy(state.key)
    state.ctx.events.emit(SessionEvents.EXPIRED, 'revoked')
    return ended(state)
  }
  values.settle()
  state.pendingUser = undefined
  if (flashValue !== undefined) flash.settle(flashValue)
  if (binding) {
    bind.userId = undefined // afterBind settles (and releases) the bind, also when it throws
    await guards?.afterBind?.(binding, state.key)
  }
  return 'stored'
}

/**
 * The stored session is gone (destroyed meanwhile, or revoked): this session object starts over
 * empty under a new id, so no later save in this request can write the old data back.
 */
function ended(state: SessionState): PersistOutcome {
  state.reset()
  return 'missing'
}

/** The whole session as a record written now. */
function snapshot(state: SessionState, flash: string | null, now: number): StoredRecord {
  const user = state.pendingUser ?? { userId: state.meta?.userId ?? null, device: state.meta?.device }
  const meta: RecordMeta = { createdAt: now, lastSeenAt: now, expiresAt: now + state.ctx.lifetimeMs, version: 1 }
  if (user.userId) meta.userId = user.userId
  if (user.device) meta.device = user.device
  return { data: state.values.toRecordData(), flash, meta }
}

/** The stored metadata after a patch or touch now (with the pending user binding applied). */
function bumped(state: SessionState, now: number, ttl: number): RecordMeta | null {
  if (!state.meta) return null
  const meta = { ...state.meta, lastSeenAt: now, expiresAt: now + ttl, version: state.meta.version + 1 }
  const user = state.pendingUser
  if (user) {
    if (user.userId === null) delete meta.userId
    else meta.userId = user.userId
    if (user.device) meta.device = user.device
  }
  return meta
}

async function announceBind(state: SessionState, userId: string, bind: PendingBind): Promise<void> {
  await state.ctx.guards?.beforeBind?.(userId, state.key)
  bind.userId = userId
  bind.key = state.key
}
