import { EventEmitter } from 'node:events'
import type { SessionError, SessionStoreError } from '../lib/errors.js'

/** Names of the events a manager emits; subscribe with `manager.on(SessionEvents.X, …)`. */
export const SessionEvents = {
  /** A session was started (loaded or created): `(session)`. */
  STARTED: 'session:started',
  /** A session was committed to its store: `(session)`. */
  COMMITTED: 'session:committed',
  /** A session got a new id, keeping its data: `(session, oldId, newId)`. */
  REGENERATED: 'session:regenerated',
  /** A session was cleared and given a new id: `(session)`. */
  INVALIDATED: 'session:invalidated',
  /**
   * A session was ended and removed from its store (logout, deletion by id): `(sessionId)`. Not
   * emitted for the old id a regenerate retires: that session lives on, see `REGENERATED`.
   */
  DESTROYED: 'session:destroyed',
  /** A session presented by a client had passed its idle or absolute timeout, or was revoked: `(reason)`. */
  EXPIRED: 'session:expired',
  /** Stored data failed the configured schema; the request got an empty session: `(session, issues)`. */
  INVALID_DATA: 'session:invalid-data',
  /** A store call failed; `(error)`. Emitted also when the failure is handled (`onStoreError: 'anonymous'`). */
  STORE_ERROR: 'session:store-error',
  /** Garbage collection ran: `(removed, driverName)`. */
  GC: 'session:gc',
  /** Sessions of a user were revoked (`revokeAll`, remember-me theft, session limit): `(userId, removed)`. */
  REVOKED: 'session:revoked',
  /** A rotated remember-me token was presented again; all of the user's tokens and sessions were revoked: `(userId)`. */
  REMEMBER_ME_THEFT: 'session:remember-me-theft',
  /** A session was presented with another IP or User-Agent than it is bound to: `(session, mismatch)`. */
  BINDING_MISMATCH: 'session:binding-mismatch',
  /** Session creation was refused by the rate limit: `(scope)`. */
  RATE_LIMITED: 'session:rate-limited',
} as const

export type SessionEventName = (typeof SessionEvents)[keyof typeof SessionEvents]

/**
 * Listener arguments per event. `S` is the session type listeners receive; it is a parameter so
 * this module needs nothing from the session module (the manager fills it in with `Session`).
 */
export interface SessionEventMap<S = unknown> {
  'session:started': [session: S]
  'session:committed': [session: S]
  'session:regenerated': [session: S, oldId: string, newId: string]
  'session:invalidated': [session: S]
  'session:destroyed': [sessionId: string]
  'session:expired': [reason: 'idle' | 'absolute' | 'revoked']
  'session:invalid-data': [session: S, issues: readonly unknown[]]
  'session:store-error': [error: SessionStoreError | SessionError]
  'session:gc': [removed: number, driverName: string]
  'session:revoked': [userId: string, removed: number]
  'session:remember-me-theft': [userId: string]
  'session:binding-mismatch': [session: S, mismatch: { fields: readonly ('ip' | 'userAgent')[]; action: 'reject' | 'log' }]
  'session:rate-limited': [scope: 'ip' | 'user']
}

/** A typed event emitter; listener errors propagate to the emitting call as usual. */
export class SessionEventEmitter<S = unknown> {
  readonly #emitter = new EventEmitter()

  on<E extends SessionEventName>(event: E, listener: (...args: SessionEventMap<S>[E]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void)
    return this
  }

  once<E extends SessionEventName>(event: E, listener: (...args: SessionEventMap<S>[E]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void)
    return this
  }

  off<E extends SessionEventName>(event: E, listener: (...args: SessionEventMap<S>[E]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void)
    return this
  }

  emit<E extends SessionEventName>(event: E, ...args: SessionEventMap<S>[E]): boolean {
    return this.#emitter.emit(event, ...args)
  }

  listenerCount(event: SessionEventName): number {
    return this.#emitter.listenerCount(event)
  }
}
