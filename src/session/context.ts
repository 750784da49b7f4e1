import type { RecordMeta } from '../drivers/contract.js'
import type { StandardSchemaV1 } from '../config/resolve.js'
import type { SessionCodec } from './codec.js'
import type { SessionEventEmitter } from './events.js'
import type { GuardedStore } from './store.js'

/** What a session needs from its manager: a store, a codec, timing rules and an event sink. */
export interface SessionContext {
  store: GuardedStore
  codec: SessionCodec
  lifetimeMs: number
  touchAfterMs: number
  idleTimeoutMs: number | null
  absoluteTimeoutMs: number | null
  schema: StandardSchemaV1 | undefined
  /** Where the session reports its lifecycle (the manager's emitter). */
  events: SessionEventEmitter
  /** Security hooks installed by the manager (session limit, stateless revocation). */
  guards?: SessionGuards
}

/** Hooks a Session calls at load and when it is bound to a user. */
export interface SessionGuards {
  /** Before a session is stored as bound to `userId` (login); may throw to refuse it. */
  beforeBind?(userId: string, key: string): Promise<void>
  /** After the bound session is stored; may end the user's other sessions. */
  afterBind?(userId: string, key: string): Promise<void>
  /** The bind announced by `beforeBind` did not happen (the session was destroyed meanwhile). */
  abandonBind?(userId: string, key: string): Promise<void>
  /** At load: true when the stored session was revoked by a server-side record (stateless stores). */
  isRevoked?(key: string, meta: RecordMeta): Promise<boolean>
  /**
   * After a write that binds `userId` (login) or moves the user's session to a new key
   * (regenerate): true when a revokeAll of that user began at or after `since` (when this
   * session was started), so the write may have been missed by it and must be undone.
   */
  revokedSince?(userId: string, key: string, since: number): Promise<boolean>
  /**
   * Before a stored session ends under `key` (`invalidate()`, or the old key of `regenerate()`):
   * stateless stores record it, so a copy of its cookie is refused afterwards. `lifetimeMs` is how
   * long any copy of it can live.
   */
  beforeEnd?(key: string, meta: RecordMeta, lifetimeMs: number): Promise<void>
}
