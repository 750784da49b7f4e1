import type { StoredRecord } from '../drivers/contract.js'
import { SessionContextError, SessionNotStartedError } from '../lib/errors.js'
import { isWellFormedSessionId, storageKeyFor } from '../lib/ids.js'
import { CSRF_SESSION_KEY, SessionAuth, newCsrfToken } from './auth.js'
import type { SessionContext } from './context.js'
import { SessionEvents } from './events.js'
import { FlashMessages } from './flash.js'
import { persist } from './persist.js'
import { SessionState } from './state.js'
import { SessionStatus } from './status.js'

export { CSRF_SESSION_KEY } from './auth.js'
export type { SessionContext, SessionGuards } from './context.js'

/** Shape of session data; narrow it with a generic: `createSession<{ userId: number }>()`. */
export type SessionData = Record<string, unknown>

/** Keys of `Data` whose values are numbers (for increment/decrement). */
export type NumericKeys<Data> = { [K in keyof Data]-?: NonNullable<Data[K]> extends number ? K : never }[keyof Data] & string
/** Keys of `Data` whose values are arrays (for push). */
export type ArrayKeys<Data> = { [K in keyof Data]-?: NonNullable<Data[K]> extends readonly unknown[] ? K : never }[keyof Data] & string
type Element<T> = NonNullable<T> extends readonly (infer E)[] ? E : never

/** What `flashMessages` shows before the session is started. */
const NO_FLASH = new FlashMessages()

export interface SessionInit {
  /**
   * Store and rules (or a promise of them, awaited by `start()`). A manager passes them; a
   * session without them cannot start (`SessionContextError`).
   */
  context?: SessionContext | Promise<SessionContext>
  /** The id presented by the client (from a cookie); adopted only if a live session has it. */
  id?: string | null
  readonly?: boolean
}

export interface StartOptions {
  /** The id to load (default: the id given at construction); adopted only if a live session has it. */
  id?: string | null
  /** Start read-only: reads work, every change throws, `save()` writes nothing. */
  readonly?: boolean
}

/**
 * One session. It orchestrates the lifecycle (start → change → save, regenerate, invalidate);
 * its values and flash messages live in two bags that track their own changes, and the
 * persistence sequence lives in `persist.ts`. Reads are synchronous after `start()`; `save()`
 * sends this request's change log, so concurrent requests on one session merge per key.
 *
 * Extend it for custom session objects and pass the class as the manager's `sessionClass`.
 */
export class Session<Data extends SessionData = SessionData> {
  readonly #state: SessionState
  readonly #pendingContext: Promise<SessionContext> | undefined
  readonly #candidateId: string | null
  /** Where the session stands: fresh, initiated, readonly, persisted, invalidated, meta, … */
  readonly status: SessionStatus
  /** Who the session belongs to (`userId`, `setUser`) and its CSRF token. */
  readonly auth: SessionAuth

  constructor(init: SessionInit = {}) {
    const { context } = init
    this.#state = new SessionState(context instanceof Promise ? undefined : context, init.readonly ?? false)
    if (context instanceof Promise) {
      this.#pendingContext = context
      context.catch(() => undefined) // surfaced by start()
    }
    this.#candidateId = init.id ?? null
    this.status = new SessionStatus(this.#state)
    this.auth = new SessionAuth(this.#state)
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Loads the session named by `options.id` (or the id given at construction) if it is live,
   * otherwise starts a new one with a fresh id. Calling it again does nothing (but `readonly`,
   * when given, still sets the mode).
   */
  async start(options: StartOptions = {}): Promise<void> {
    const state = this.#state
    if (options.readonly !== undefined) state.readonly = options.readonly
    if (state.started) return
    state.context ??= await this.#pendingContext
    if (!state.context) throw new SessionContextError()
    state.startedAt = Date.now()
    const candidate = options.id ?? this.#candidateId
    const record = isWellFormedSessionId(candidate) ? await this.#loadLive(candidate) : null
    if (record && candidate) {
      state.adopt(candidate, record)
      if (state.ctx.schema && !(await this.#validate())) state.reset()
    } else {
      state.reset()
    }
    state.started = true
    state.ctx.events.emit(SessionEvents.STARTED, this)
  }

  /** Sends this request's changes to the store (nothing for a read-only session). */
  async save(): Promise<void> {
    this.#state.assert('save', 'read') // not 'write': a read-only session saves nothing, without an error
    if (this.#state.readonly) return
    if ((await persist(this.#state)) === 'stored') this.#state.ctx.events.emit(SessionEvents.COMMITTED, this)
  }

  /**
   * Gives the session a new id and keeps its data; the old id is removed from the store at once.
   * Call it whenever privileges change (login), against session fixation. When the stored session
   * was destroyed meanwhile (a logout in another request), it is not brought back: this session
   * starts over empty under a new id.
   */
  async regenerate(): Promise<void> {
    const state = this.#state
    const values = state.valuesFor('regenerate', 'write')
    const oldId = state.id
    const oldKey = state.key
    // A token seen under the old id must not work under the new one (login = privilege change).
    if (values.contains(CSRF_SESSION_KEY)) values.set(CSRF_SESSION_KEY, newCsrfToken())
    state.renew()
    // 'missing': the session was destroyed meanwhile (logout won); this one starts over empty.
    if (state.persisted && (await persist(state, oldKey)) === 'missing') return
    state.ctx.events.emit(SessionEvents.REGENERATED, this, oldId, state.id)
  }

  /** Clears all data and flash messages, destroys the stored session and starts over with a new id. */
  async invalidate(): Promise<void> {
    const state = this.#state
    state.assert('invalidate', 'write')
    const oldId = state.id
    if (state.persisted) {
      if (state.meta) await state.ctx.guards?.beforeEnd?.(state.key, state.meta, state.ctx.lifetimeMs)
      await state.ctx.store.destroy(state.key)
      state.ctx.events.emit(SessionEvents.DESTROYED, oldId)
    }
    state.reset()
    state.invalidated = true
    state.ctx.events.emit(SessionEvents.INVALIDATED, this)
  }

  /** The session id (the cookie value). */
  get sessionId(): string {
    return this.#state.id
  }

  /** The store, codec and rules this session runs with (available once started). */
  protected get context(): SessionContext {
    if (!this.#state.context && this.#pendingContext) throw new SessionNotStartedError('context')
    return this.#state.ctx
  }

  // ---------------------------------------------------------------- data API

  /** The value of `key`; `defaultValue` when it is missing, null or undefined. */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined
  get<K extends keyof Data & string>(key: K, defaultValue: NonNullable<Data[K]>): NonNullable<Data[K]>
  get(key: string, defaultValue?: unknown): unknown {
    return this.#state.valuesFor('get', 'read').readWatched(key) ?? defaultValue
  }

  /** Stores a value, or several from an object. Values must be data; anything else throws now. */
  put<K extends keyof Data & string>(key: K, value: Data[K]): void
  put(values: Partial<Data>): void
  put(keyOrValues: string | Partial<Data>, value?: unknown): void {
    const values = this.#state.valuesFor('put', 'write')
    if (typeof keyOrValues === 'string') return values.set(keyOrValues, value)
    for (const key of Object.keys(keyOrValues)) values.set(key, (keyOrValues as Record<string, unknown>)[key])
  }

  /** True when `key` holds a value other than null/undefined. */
  has(key: keyof Data & string): boolean {
    return this.#state.valuesFor('has', 'read').read(key) != null
  }

  /** All data as a new object. */
  all(): Partial<Data> {
    const values = this.#state.valuesFor('all', 'read')
    return values.pick(values.keys()) as Partial<Data>
  }

  /** Only the named keys (those present). */
  only<K extends keyof Data & string>(keys: readonly K[]): Partial<Pick<Data, K>> {
    return this.#state.valuesFor('only', 'read').pick(keys) as Partial<Pick<Data, K>>
  }

  /** All data except the named keys. */
  except<K extends keyof Data & string>(keys: readonly K[]): Partial<Omit<Data, K>> {
    const values = this.#state.valuesFor('except', 'read')
    const skip = new Set<string>(keys)
    return values.pick(values.keys().filter((key) => !skip.has(key))) as Partial<Omit<Data, K>>
  }

  /** Appends to the array at `key` (created when missing). Concurrent pushes all persist. */
  push<K extends ArrayKeys<Data>>(key: K, value: Element<Data[K]>): void
  push(key: string, value: unknown): void
  push(key: string, value: unknown): void {
    this.#state.valuesFor('push', 'write').push(key, value)
  }

  /** Adds `by` (default 1) to the number at `key` (0 when missing); returns the new value. */
  increment<K extends NumericKeys<Data>>(key: K, by?: number): number
  increment(key: string, by?: number): number
  increment(key: string, by = 1): number {
    return this.#state.valuesFor('increment', 'write').increment(key, by)
  }

  /** Subtracts `by` (default 1) from the number at `key`; returns the new value. */
  decrement<K extends NumericKeys<Data>>(key: K, by?: number): number
  decrement(key: string, by?: number): number
  decrement(key: string, by = 1): number {
    return this.#state.valuesFor('decrement', 'write').increment(key, by, -1)
  }

  /** Removes one key or several. */
  forget(keys: (keyof Data & string) | readonly (keyof Data & string)[]): void {
    const values = this.#state.valuesFor('forget', 'write')
    for (const key of typeof keys === 'string' ? [keys] : keys) values.forget(key)
  }

  /** Returns the value of `key` and removes it. */
  pull<K extends keyof Data & string>(key: K, defaultValue?: Data[K]): Data[K] | undefined {
    const values = this.#state.valuesFor('pull', 'write')
    const value = (values.read(key) ?? defaultValue) as Data[K] | undefined
    if (values.contains(key)) values.forget(key)
    return value
  }

  /** Removes all data and pending flash messages. */
  clear(): void {
    this.#state.valuesFor('clear', 'write').clear()
    this.#state.flash.discardOutgoing()
  }

  // ---------------------------------------------------------------- flash

  /** Flash messages from the previous request (read-only): `flashMessages.get('errors.title')`. */
  get flashMessages(): FlashMessages {
    return this.#state.started ? this.#state.flash.messages : NO_FLASH
  }

  /** Stores a value for the next request only. */
  flash(key: string, value: unknown): void
  flash(values: Record<string, unknown>): void
  flash(keyOrValues: string | Record<string, unknown>, value?: unknown): void {
    const flash = this.#state.flashFor('flash', 'write')
    if (typeof keyOrValues === 'string') return flash.set(keyOrValues, value)
    for (const key of Object.keys(keyOrValues)) flash.set(key, keyOrValues[key])
  }

  /** Flashes every field of `body` (e.g. a submitted form, to refill it after a validation error). */
  flashAll(body: Record<string, unknown>): void {
    this.flash(body)
  }

  /** Flashes the named fields of `body`. */
  flashOnly(body: Record<string, unknown>, keys: readonly string[]): void {
    const flash = this.#state.flashFor('flashOnly', 'write')
    for (const key of keys) if (Object.hasOwn(body, key)) flash.set(key, body[key])
  }

  /** Flashes every field of `body` except the named ones (e.g. passwords). */
  flashExcept(body: Record<string, unknown>, keys: readonly string[]): void {
    const flash = this.#state.flashFor('flashExcept', 'write')
    const skip = new Set(keys)
    for (const key of Object.keys(body)) if (!skip.has(key)) flash.set(key, body[key])
  }

  /** Keeps all flash messages of the previous request for one more request. */
  reflash(): void {
    this.#state.flashFor('reflash', 'write').reflash(null)
  }

  /** Keeps the named flash messages of the previous request for one more request. */
  reflashOnly(keys: readonly string[]): void {
    this.#state.flashFor('reflashOnly', 'write').reflash(keys)
  }

  /** Keeps all flash messages of the previous request but the named ones. */
  reflashExcept(keys: readonly string[]): void {
    this.#state.flashFor('reflashExcept', 'write').reflash(null, keys)
  }

  // ---------------------------------------------------------------- internals

  async #loadLive(id: string): Promise<StoredRecord | null> {
    const key = storageKeyFor(id)
    const { store, idleTimeoutMs, absoluteTimeoutMs, guards, events } = this.#state.ctx
    const record = await store.read(key)
    if (!record) return null
    const now = Date.now()
    const reason =
      absoluteTimeoutMs !== null && now - record.meta.createdAt >= absoluteTimeoutMs
        ? 'absolute'
        : idleTimeoutMs !== null && now - record.meta.lastSeenAt >= idleTimeoutMs
          ? 'idle'
          : null
    if (reason === null) {
      const revoked = record.meta.userId !== undefined && (await guards?.isRevoked?.(key, record.meta))
      if (!revoked) return record
      await store.destroy(key)
      events.emit(SessionEvents.EXPIRED, 'revoked')
      return null
    }
    await store.destroy(key)
    events.emit(SessionEvents.EXPIRED, reason)
    return null
  }

  async #validate(): Promise<boolean> {
    const { schema, store, events } = this.#state.ctx
    const values = this.#state.values
    const data = Object.fromEntries(values.keys().map((key) => [key, values.read(key)]))
    const result = await (schema as NonNullable<typeof schema>)['~standard'].validate(data)
    if (!result.issues) return true
    await store.destroy(this.#state.key)
    events.emit(SessionEvents.INVALID_DATA, this, result.issues)
    return false
  }
}
