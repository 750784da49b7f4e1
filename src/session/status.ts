import type { RecordMeta } from '../drivers/contract.js'
import type { SessionState } from './state.js'

/**
 * Where a session stands, read-only: `session.status.fresh`, `.persisted`, `.meta`, … Adapters
 * and security features read it to decide what a request must store and which cookie to send.
 */
export class SessionStatus {
  readonly #state: SessionState

  constructor(state: SessionState) {
    this.#state = state
  }

  /** True when this session was created by this request (no live session was presented). */
  get fresh(): boolean {
    return this.#state.fresh
  }

  /** True once `start()` has run. */
  get initiated(): boolean {
    return this.#state.started
  }

  /** True when the session was opened read-only: reads work, changes throw, `save()` writes nothing. */
  get readonly(): boolean {
    return this.#state.readonly
  }

  /** True when the session exists in the store (it was loaded or has been saved). */
  get persisted(): boolean {
    return this.#state.persisted
  }

  /** True after `invalidate()` in this request. */
  get invalidated(): boolean {
    return this.#state.invalidated
  }

  /** The key the store files this session under: SHA-256 of the id. */
  get storageKey(): string {
    return this.#state.key
  }

  /** Created-at, last-seen-at, expiry, user and device as stored; null before the first save. */
  get meta(): Readonly<RecordMeta> | null {
    return this.#state.meta
  }

  /** True when `save()` would create or change the stored record (not counting in-place edits of objects). */
  get hasPendingWrites(): boolean {
    return this.#state.hasPendingWrites
  }

  /**
   * True when `save()` would call the store: changes, flash to rotate, a user binding, or an
   * expiry touch that is due. Synchronous, so adapters can skip the save of a read-only request
   * without an async hop. In-place changes to objects read in this request are collected first.
   */
  needsSave(now = Date.now()): boolean {
    const state = this.#state
    if (!state.started || state.readonly) return false
    state.values.collectMutations()
    if (state.hasPendingWrites) return true
    return state.persisted && state.meta !== null && now - state.meta.lastSeenAt >= state.ctx.touchAfterMs
  }
}
