import { randomBytes } from 'node:crypto'
import type { Change, DeviceInfo, RecordMeta, StoredRecord } from '../drivers/contract.js'
import { MemoryDriver } from '../drivers/memory.js'
import { emptyData } from '../drivers/record.js'
import { SessionNotStartedError, SessionReadonlyError, SessionTypeError } from '../lib/errors.js'
import { generateSessionId, isWellFormedSessionId, storageKeyFor } from '../lib/ids.js'
import { SessionCodec } from './codec.js'
import type { StandardSchemaV1 } from '../core/config.js'
import { SessionEventEmitter, SessionEvents } from './events.js'
import { FlashMessages } from './flash.js'
import { typedJsonSerializer } from './serializer.js'
import { GuardedStore } from './store.js'

/** Shape of session data; narrow it with a generic: `createSession<{ userId: number }>()`. */
export type SessionData = Record<string, unknown>

/** Keys of `Data` whose values are numbers (for increment/decrement). */
export type NumericKeys<Data> = { [K in keyof Data]-?: NonNullable<Data[K]> extends number ? K : never }[keyof Data] & string
/** Keys of `Data` whose values are arrays (for push). */
export type ArrayKeys<Data> = { [K in keyof Data]-?: NonNullable<Data[K]> extends readonly unknown[] ? K : never }[keyof Data] & string
type Element<T> = NonNullable<T> extends readonly (infer E)[] ? E : never

/** What a session needs from its manager: a store, a codec, timing rules and an event sink. */
export interface SessionContext {
  store: GuardedStore
  codec: SessionCodec
  lifetimeMs: number
  touchAfterMs: number
  idleTimeoutMs: number | null
  absoluteTimeoutMs: number | null
  schema: StandardSchemaV1 | undefined
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
  /** At load: true when the stored session was revoked by a server-side record (stateless stores). */
  isRevoked?(key: string, meta: RecordMeta): Promise<boolean>
}

/** Data key under which `csrfToken()` keeps the session's synchronizer token. */
export const CSRF_SESSION_KEY = '_csrf'

const newCsrfToken = (): string => randomBytes(32).toString('base64url')

export interface SessionInit {
  /**
   * Store and rules (or a promise of them, awaited by `start()`); default: a process-wide
   * in-memory store with a 2 h lifetime.
   */
  context?: SessionContext | Promise<SessionContext>
  /** The id presented by the client (from a cookie); adopted only if a live session has it. */
  id?: string | null
  readonly?: boolean
}

let fallbackContext: SessionContext | undefined
function defaultContext(): SessionContext {
  fallbackContext ??= {
    store: new GuardedStore(new MemoryDriver(), 'memory', 5_000),
    codec: new SessionCodec(typedJsonSerializer),
    lifetimeMs: 120 * 60_000,
    touchAfterMs: 12 * 60_000,
    idleTimeoutMs: null,
    absoluteTimeoutMs: null,
    schema: undefined,
    events: new SessionEventEmitter(),
  }
  return fallbackContext
}

function nullObject(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>
}

/**
 * One session: its data API, flash messages and lifecycle. Reads are synchronous after
 * `start()`; changes are recorded in a change log that `save()` sends to the store, so concurrent
 * requests on one session merge per key instead of overwriting each other.
 *
 * Extend it for custom session objects (it is also exported as `SessionStore`).
 */
export class Session<Data extends SessionData = SessionData> {
  #context: SessionContext | undefined
  readonly #pendingContext: Promise<SessionContext> | undefined
  #candidateId: string | null
  #id = ''
  #key = ''
  #started = false
  #fresh = true
  #persisted = false
  #readonly: boolean
  #invalidated = false
  #meta: RecordMeta | null = null
  /** Values as stored (encoded strings), kept in step with every change. */
  readonly #encoded = new Map<string, string>()
  /** Values decoded so far; decoding is lazy, so a request pays only for what it reads. */
  readonly #values = new Map<string, unknown>()
  /** Object values handed out or put: compared at commit, so in-place mutations are saved too. */
  readonly #watched = new Set<string>()
  #changes: Change[] = []
  #incomingFlash: Record<string, unknown> = nullObject()
  /** What the stored record's flash bag holds: nothing, last request's messages, or ours. */
  #storedFlash: 'none' | 'incoming' | 'outgoing' = 'none'
  readonly #outgoingFlash = new Map<string, unknown>()
  #outgoingFlashDirty = false
  #flashMessages = new FlashMessages()
  #pendingUser: { userId: string | null; device?: DeviceInfo } | undefined

  constructor(init: SessionInit = {}) {
    const context = init.context ?? defaultContext()
    if (context instanceof Promise) {
      this.#pendingContext = context
      context.catch(() => undefined) // surfaced by start()
    } else {
      this.#context = context
    }
    this.#candidateId = init.id ?? null
    this.#readonly = init.readonly ?? false
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Loads the session named by `id` (or the id given at construction) if it is live, otherwise
   * starts a new one with a fresh id. Calling it again does nothing.
   */
  async start(id?: string | null): Promise<void> {
    if (this.#started) return
    this.#context ??= await this.#pendingContext
    const candidate = id ?? this.#candidateId
    const record = isWellFormedSessionId(candidate) ? await this.#loadLive(candidate) : null
    if (record && candidate) {
      this.#adopt(candidate, record)
      if (this.context.schema && !(await this.#validate())) this.#reset()
    } else {
      this.#reset()
    }
    this.#started = true
    this.context.events.emit(SessionEvents.STARTED, this as Session)
  }

  /** Starts the session; with `readonly` true, every change throws and `save()` writes nothing. */
  async initiate(readonly = false): Promise<void> {
    this.#readonly = readonly
    await this.start()
  }

  /** Sends this request's changes to the store. Alias: `commit()`. */
  async save(): Promise<void> {
    this.#assertStarted('save')
    if (this.#readonly) return
    this.#collectMutations()
    const flashChange = this.#flashChange()
    const now = Date.now()
    const { lifetimeMs: ttl, store, codec } = this.context
    const binding = this.#binding()
    if (!this.#persisted) {
      const flash = flashChange?.value ?? null
      if (this.#encoded.size === 0 && flash === null && !this.#pendingUser?.userId) {
        this.#changes = []
        return
      }
      if (binding) await this.context.guards?.beforeBind?.(binding, this.#key)
      const record = this.#snapshot(flash, now)
      await store.write(this.#key, record, ttl)
      this.#persisted = true
      this.#meta = record.meta
    } else {
      if (flashChange) this.#changes.push(flashChange)
      if (this.#pendingUser) this.#changes.push({ op: 'user', ...this.#pendingUser })
      if (this.#changes.length > 0) {
        if (binding) await this.context.guards?.beforeBind?.(binding, this.#key)
        const result = await store.patch(this.#key, this.#changes, { ttl, codec })
        if (result === 'missing') {
          // Another request destroyed this session meanwhile (logout): it stays destroyed.
          this.#persisted = false
          this.#changes = []
          this.#pendingUser = undefined
          return
        }
        this.#bumpMeta(now, ttl)
      } else if (this.#meta && now - this.#meta.lastSeenAt >= this.context.touchAfterMs) {
        await store.touch(this.#key, ttl)
        this.#bumpMeta(now, ttl)
      } else {
        return
      }
    }
    this.#changes = []
    this.#pendingUser = undefined
    if (flashChange) this.#flashStored(flashChange.value)
    if (binding) await this.context.guards?.afterBind?.(binding, this.#key)
    this.context.events.emit(SessionEvents.COMMITTED, this as Session)
  }

  /** Alias of {@link save}. */
  commit(): Promise<void> {
    return this.save()
  }

  /**
   * Gives the session a new id and keeps its data; the old id is destroyed in the store at once.
   * Call it whenever privileges change (login), against session fixation.
   */
  async regenerate(): Promise<void> {
    this.#assertWritable('regenerate')
    const oldId = this.#id
    const oldKey = this.#key
    // A token seen under the old id must not work under the new one (login = privilege change).
    if (this.#encoded.has(CSRF_SESSION_KEY)) this.#set(CSRF_SESSION_KEY, newCsrfToken())
    this.#assignId(generateSessionId())
    if (this.#persisted) {
      const binding = this.#binding()
      if (binding) await this.context.guards?.beforeBind?.(binding, this.#key)
      this.#collectMutations()
      const flashChange = this.#flashChange()
      const now = Date.now()
      const flash = flashChange ? flashChange.value : this.#storedFlash === 'outgoing' ? this.#encodeFlash(Object.fromEntries(this.#outgoingFlash)) : null
      const record = this.#snapshot(flash, now)
      if (this.#meta) record.meta.createdAt = this.#meta.createdAt
      await this.context.store.write(this.#key, record, this.context.lifetimeMs)
      await this.context.store.destroy(oldKey)
      this.#meta = record.meta
      this.#changes = []
      this.#pendingUser = undefined
      this.#flashStored(flash)
      this.context.events.emit(SessionEvents.DESTROYED, oldId)
      if (binding) await this.context.guards?.afterBind?.(binding, this.#key)
    }
    this.context.events.emit(SessionEvents.REGENERATED, this as Session, oldId, this.#id)
  }

  /** Clears all data and flash messages, destroys the stored session and starts over with a new id. */
  async invalidate(): Promise<void> {
    this.#assertWritable('invalidate')
    const oldId = this.#id
    if (this.#persisted) {
      await this.context.store.destroy(this.#key)
      this.context.events.emit(SessionEvents.DESTROYED, oldId)
    }
    this.#reset()
    this.#invalidated = true
    this.context.events.emit(SessionEvents.INVALIDATED, this as Session)
  }

  // ---------------------------------------------------------------- state

  /** The store, codec and rules this session runs with (available once started). */
  protected get context(): SessionContext {
    if (!this.#context) throw new SessionNotStartedError('context')
    return this.#context
  }

  /** The session id (the cookie value). */
  getId(): string {
    return this.#id
  }

  get sessionId(): string {
    return this.#id
  }

  /** The key the store files this session under: SHA-256 of the id. */
  get storageKey(): string {
    return this.#key
  }

  /** True when this session was created by this request (no live session was presented). */
  get fresh(): boolean {
    return this.#fresh
  }

  /** True once `start()`/`initiate()` has run. */
  get initiated(): boolean {
    return this.#started
  }

  get readonly(): boolean {
    return this.#readonly
  }

  /** True when the session exists in the store (it was loaded or has been saved). */
  get persisted(): boolean {
    return this.#persisted
  }

  /** True when `save()` would create or change the stored record (not counting in-place edits of objects). */
  get hasPendingWrites(): boolean {
    if (!this.#persisted) return this.#encoded.size > 0 || this.#outgoingFlash.size > 0 || Boolean(this.#pendingUser?.userId)
    return this.#changes.length > 0 || this.#outgoingFlashDirty || this.#pendingUser !== undefined || this.#storedFlash === 'incoming'
  }

  /**
   * True when `save()` would call the store: changes, flash to rotate, a user binding, or an
   * expiry touch that is due. Synchronous, so adapters can skip the commit of a read-only request
   * without an async hop. In-place changes to objects read in this request are collected first.
   */
  needsSave(now = Date.now()): boolean {
    if (!this.#started || this.#readonly) return false
    this.#collectMutations()
    if (this.hasPendingWrites) return true
    return this.#persisted && this.#meta !== null && now - this.#meta.lastSeenAt >= this.context.touchAfterMs
  }

  /** True after `invalidate()` in this request. */
  get invalidated(): boolean {
    return this.#invalidated
  }

  /** Created-at, last-seen-at, expiry, user and device as stored; null before the first save. */
  get meta(): Readonly<RecordMeta> | null {
    return this.#meta
  }

  /** The user this session belongs to (for per-user session lists), if bound. */
  get userId(): string | undefined {
    const pending = this.#pendingUser
    return pending ? (pending.userId ?? undefined) : this.#meta?.userId
  }

  /** Binds the session to a user (and device), so it shows up in that user's session list. */
  setUser(userId: string | null, device?: DeviceInfo): void {
    this.#assertWritable('setUser')
    this.#pendingUser = device ? { userId, device } : { userId }
  }

  /**
   * The session's CSRF synchronizer token, created on first use and kept in the session. Render
   * it into forms (`_csrf`) or send it as `x-csrf-token`; it changes on `regenerate()`.
   */
  csrfToken(): string {
    this.#assertStarted('csrfToken')
    const existing = this.#read(CSRF_SESSION_KEY)
    if (typeof existing === 'string' && existing !== '') return existing
    this.#assertWritable('csrfToken')
    const token = newCsrfToken()
    this.#set(CSRF_SESSION_KEY, token)
    return token
  }

  // ---------------------------------------------------------------- data API

  /** The value of `key`; `defaultValue` when it is missing, null or undefined. */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined
  get<K extends keyof Data & string>(key: K, defaultValue: NonNullable<Data[K]>): NonNullable<Data[K]>
  get(key: string, defaultValue?: unknown): unknown {
    this.#assertStarted('get')
    return this.#readWatched(key) ?? defaultValue
  }

  /** Stores a value, or several from an object. Values must be data; anything else throws now. */
  put<K extends keyof Data & string>(key: K, value: Data[K]): void
  put(values: Partial<Data>): void
  put(keyOrValues: string | Partial<Data>, value?: unknown): void {
    this.#assertWritable('put')
    if (typeof keyOrValues === 'string') return this.#set(keyOrValues, value)
    for (const key of Object.keys(keyOrValues)) this.#set(key, (keyOrValues as Record<string, unknown>)[key])
  }

  /** True when `key` holds a value other than null/undefined. */
  has(key: keyof Data & string): boolean {
    this.#assertStarted('has')
    return this.#read(key) != null
  }

  /** All data as a new object. */
  all(): Partial<Data> {
    this.#assertStarted('all')
    return Object.fromEntries([...this.#encoded.keys()].map((key) => [key, this.#readWatched(key)])) as Partial<Data>
  }

  /** Only the named keys (those present). */
  only<K extends keyof Data & string>(keys: readonly K[]): Partial<Pick<Data, K>> {
    this.#assertStarted('only')
    return Object.fromEntries(keys.filter((key) => this.#encoded.has(key)).map((key) => [key, this.#readWatched(key)])) as Partial<Pick<Data, K>>
  }

  /** All data except the named keys. */
  except<K extends keyof Data & string>(keys: readonly K[]): Partial<Omit<Data, K>> {
    this.#assertStarted('except')
    const skip = new Set<string>(keys)
    return Object.fromEntries(
      [...this.#encoded.keys()].filter((key) => !skip.has(key)).map((key) => [key, this.#readWatched(key)]),
    ) as Partial<Omit<Data, K>>
  }

  /** Appends to the array at `key` (created when missing). Concurrent pushes all persist. */
  push<K extends ArrayKeys<Data>>(key: K, value: Element<Data[K]>): void
  push(key: string, value: unknown): void
  push(key: string, value: unknown): void {
    this.#assertWritable('push')
    const current = this.#read(key) ?? []
    if (!Array.isArray(current)) {
      throw new SessionTypeError(`Cannot push to "${key}": it holds ${describe(current)}, not an array.`)
    }
    const next = [...current, value]
    const { codec } = this.context
    const element = codec.encode(value, key)
    this.#store(key, next, codec.encode(next, key))
    this.#changes.push({ op: 'push', key, value: element })
  }

  /** Adds `by` (default 1) to the number at `key` (0 when missing); returns the new value. */
  increment<K extends NumericKeys<Data>>(key: K, by?: number): number
  increment(key: string, by?: number): number
  increment(key: string, by = 1): number {
    this.#assertWritable('increment')
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new SessionTypeError(`Cannot increment "${key}" by ${String(by)}: the amount must be a finite number.`)
    }
    const current = this.#read(key) ?? 0
    if (typeof current !== 'number') {
      throw new SessionTypeError(`Cannot increment or decrement "${key}": it holds ${describe(current)}, not a number.`)
    }
    const next = current + by
    this.#store(key, next, this.context.codec.encode(next, key))
    this.#changes.push({ op: 'increment', key, by })
    return next
  }

  /** Subtracts `by` (default 1) from the number at `key`; returns the new value. */
  decrement<K extends NumericKeys<Data>>(key: K, by?: number): number
  decrement(key: string, by?: number): number
  decrement(key: string, by = 1): number {
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new SessionTypeError(`Cannot decrement "${key}" by ${String(by)}: the amount must be a finite number.`)
    }
    return this.increment(key, -by)
  }

  /** Removes one key or several. */
  forget(keys: (keyof Data & string) | readonly (keyof Data & string)[]): void {
    this.#assertWritable('forget')
    for (const key of typeof keys === 'string' ? [keys] : keys) {
      this.#encoded.delete(key)
      this.#values.delete(key)
      this.#watched.delete(key)
      this.#changes.push({ op: 'delete', key })
    }
  }

  /** Returns the value of `key` and removes it. */
  pull<K extends keyof Data & string>(key: K, defaultValue?: Data[K]): Data[K] | undefined {
    this.#assertWritable('pull')
    const value = (this.#read(key) ?? defaultValue) as Data[K] | undefined
    if (this.#encoded.has(key)) this.forget(key)
    return value
  }

  /** Removes all data and pending flash messages. Alias: `clear()`. */
  flush(): void {
    this.#assertWritable('flush')
    this.#encoded.clear()
    this.#values.clear()
    this.#watched.clear()
    this.#changes = [{ op: 'clear' }]
    if (this.#outgoingFlash.size > 0) this.#outgoingFlashDirty = true
    this.#outgoingFlash.clear()
  }

  /** Alias of {@link flush}. */
  clear(): void {
    this.flush()
  }

  // ---------------------------------------------------------------- flash

  /** Flash messages from the previous request (read-only): `flashMessages.get('errors.title')`. */
  get flashMessages(): FlashMessages {
    return this.#flashMessages
  }

  /** Stores a value for the next request only. */
  flash(key: string, value: unknown): void
  flash(values: Record<string, unknown>): void
  flash(keyOrValues: string | Record<string, unknown>, value?: unknown): void {
    this.#assertWritable('flash')
    if (typeof keyOrValues === 'string') return this.#flashOne(keyOrValues, value)
    for (const key of Object.keys(keyOrValues)) this.#flashOne(key, keyOrValues[key])
  }

  /** Flashes every field of `body` (e.g. a submitted form, to refill it after a validation error). */
  flashAll(body: Record<string, unknown>): void {
    this.flash(body)
  }

  /** Flashes the named fields of `body`. */
  flashOnly(body: Record<string, unknown>, keys: readonly string[]): void {
    this.#assertWritable('flashOnly')
    for (const key of keys) if (Object.hasOwn(body, key)) this.#flashOne(key, body[key])
  }

  /** Flashes every field of `body` except the named ones (e.g. passwords). */
  flashExcept(body: Record<string, unknown>, keys: readonly string[]): void {
    this.#assertWritable('flashExcept')
    const skip = new Set(keys)
    for (const key of Object.keys(body)) if (!skip.has(key)) this.#flashOne(key, body[key])
  }

  /** Keeps all flash messages of the previous request for one more request. */
  reflash(): void {
    this.reflashExcept([])
  }

  /** Keeps the named flash messages of the previous request for one more request. */
  reflashOnly(keys: readonly string[]): void {
    this.#assertWritable('reflashOnly')
    for (const key of keys) if (Object.hasOwn(this.#incomingFlash, key)) this.#reflashOne(key)
  }

  /** Keeps all flash messages of the previous request but the named ones. */
  reflashExcept(keys: readonly string[]): void {
    this.#assertWritable('reflashExcept')
    const skip = new Set(keys)
    for (const key of Object.keys(this.#incomingFlash)) if (!skip.has(key)) this.#reflashOne(key)
  }

  /** Keeps the named flash messages (all when no keys are given) for one more request. */
  keep(keys?: readonly string[]): void {
    if (keys === undefined) this.reflash()
    else this.reflashOnly(keys)
  }

  // ---------------------------------------------------------------- internals

  async #loadLive(id: string): Promise<StoredRecord | null> {
    const key = storageKeyFor(id)
    const record = await this.context.store.read(key)
    if (!record) return null
    const now = Date.now()
    const { idleTimeoutMs, absoluteTimeoutMs } = this.context
    const reason =
      absoluteTimeoutMs !== null && now - record.meta.createdAt >= absoluteTimeoutMs
        ? 'absolute'
        : idleTimeoutMs !== null && now - record.meta.lastSeenAt >= idleTimeoutMs
          ? 'idle'
          : null
    if (reason === null) {
      const revoked = record.meta.userId !== undefined && (await this.context.guards?.isRevoked?.(key, record.meta))
      if (!revoked) return record
      await this.context.store.destroy(key)
      this.context.events.emit(SessionEvents.EXPIRED, 'revoked')
      return null
    }
    await this.context.store.destroy(key)
    this.context.events.emit(SessionEvents.EXPIRED, reason)
    return null
  }

  #adopt(id: string, record: StoredRecord): void {
    this.#assignId(id)
    this.#fresh = false
    this.#persisted = true
    this.#meta = record.meta
    for (const key of Object.keys(record.data)) this.#encoded.set(key, record.data[key] as string)
    if (record.flash !== null) {
      this.#storedFlash = 'incoming'
      const bag = this.#decodeFlash(record.flash)
      this.#incomingFlash = bag
      this.#flashMessages = new FlashMessages(bag)
    }
  }

  /** Empty state under a brand-new id. */
  #reset(): void {
    this.#assignId(generateSessionId())
    this.#fresh = true
    this.#persisted = false
    this.#meta = null
    this.#encoded.clear()
    this.#values.clear()
    this.#watched.clear()
    this.#changes = []
    this.#incomingFlash = nullObject()
    this.#storedFlash = 'none'
    this.#outgoingFlash.clear()
    this.#outgoingFlashDirty = false
    this.#flashMessages = new FlashMessages()
    this.#pendingUser = undefined
  }

  async #validate(): Promise<boolean> {
    const schema = this.context.schema as StandardSchemaV1
    const data = Object.fromEntries([...this.#encoded.keys()].map((key) => [key, this.#read(key)]))
    const result = await schema['~standard'].validate(data)
    if (!result.issues) return true
    const oldKey = this.#key
    await this.context.store.destroy(oldKey)
    this.context.events.emit(SessionEvents.INVALID_DATA, this as Session, result.issues)
    return false
  }

  #assignId(id: string): void {
    this.#id = id
    this.#key = storageKeyFor(id)
  }

  #read(key: string): unknown {
    if (this.#values.has(key)) return this.#values.get(key)
    const encoded = this.#encoded.get(key)
    if (encoded === undefined) return undefined
    const value = this.context.codec.decode(encoded, key)
    this.#values.set(key, value)
    return value
  }

  /** Reads a value that leaves this object: objects are watched for in-place changes. */
  #readWatched(key: string): unknown {
    const value = this.#read(key)
    if (value !== null && typeof value === 'object') this.#watched.add(key)
    return value
  }

  #set(key: string, value: unknown): void {
    const encoded = this.context.codec.encode(value, key)
    this.#store(key, value, encoded)
    this.#changes.push({ op: 'set', key, value: encoded })
  }

  #store(key: string, value: unknown, encoded: string): void {
    this.#values.set(key, value)
    this.#encoded.set(key, encoded)
    if (value !== null && typeof value === 'object') this.#watched.add(key)
    else this.#watched.delete(key)
  }

  /** Object values may have been changed in place after `get`/`put`: re-encode and compare. */
  #collectMutations(): void {
    const { codec } = this.context
    for (const key of this.#watched) {
      if (!this.#values.has(key)) continue
      const value = this.#values.get(key)
      const stored = this.#encoded.get(key)
      if (stored !== undefined && codec.matches(value, stored, key)) continue
      const encoded = codec.encode(value, key)
      this.#encoded.set(key, encoded)
      this.#changes.push({ op: 'set', key, value: encoded })
    }
  }

  #flashOne(key: string, value: unknown): void {
    this.context.codec.encode(value, key) // refuse unstorable values now, not at save
    this.#outgoingFlash.set(key, value)
    this.#outgoingFlashDirty = true
  }

  #reflashOne(key: string): void {
    if (!this.#outgoingFlash.has(key)) this.#outgoingFlash.set(key, this.#incomingFlash[key])
    this.#outgoingFlashDirty = true
  }

  /** The flash change this save must send: our new messages, or clearing the ones just shown. */
  #flashChange(): Extract<Change, { op: 'flash' }> | null {
    if (this.#outgoingFlashDirty) {
      if (this.#outgoingFlash.size > 0) return { op: 'flash', value: this.#encodeFlash(Object.fromEntries(this.#outgoingFlash)) }
      return this.#storedFlash === 'none' ? null : { op: 'flash', value: null }
    }
    return this.#storedFlash === 'incoming' ? { op: 'flash', value: null } : null
  }

  #flashStored(value: string | null): void {
    this.#storedFlash = value === null ? 'none' : 'outgoing'
    this.#outgoingFlashDirty = false
  }

  #encodeFlash(bag: Record<string, unknown>): string {
    return this.context.codec.encode(bag, '__flash__')
  }

  #decodeFlash(encoded: string): Record<string, unknown> {
    try {
      const bag = this.context.codec.decode(encoded, '__flash__')
      if (typeof bag === 'object' && bag !== null && !Array.isArray(bag)) return Object.assign(nullObject(), bag)
    } catch {
      // Undecodable flash (e.g. sealed with a retired key) is dropped: flash is disposable.
    }
    return nullObject()
  }

  #snapshot(flash: string | null, now: number): StoredRecord {
    const data = emptyData()
    for (const [key, encoded] of this.#encoded) data[key] = encoded
    const user = this.#pendingUser ?? { userId: this.#meta?.userId ?? null, device: this.#meta?.device }
    const meta: RecordMeta = { createdAt: now, lastSeenAt: now, expiresAt: now + this.context.lifetimeMs, version: 1 }
    if (user.userId) meta.userId = user.userId
    if (user.device) meta.device = user.device
    return { data, flash, meta }
  }

  #bumpMeta(now: number, ttl: number): void {
    if (!this.#meta) return
    const meta = { ...this.#meta, lastSeenAt: now, expiresAt: now + ttl, version: this.#meta.version + 1 }
    const user = this.#pendingUser
    if (user) {
      if (user.userId === null) delete meta.userId
      else meta.userId = user.userId
      if (user.device) meta.device = user.device
    }
    this.#meta = meta
  }

  /** The user this save binds the session to, when that is new (login), else null. */
  #binding(): string | null {
    const userId = this.#pendingUser?.userId
    return userId && (!this.#persisted || userId !== this.#meta?.userId) ? userId : null
  }

  #assertStarted(operation: string): void {
    if (!this.#started) throw new SessionNotStartedError(operation)
  }

  #assertWritable(operation: string): void {
    this.#assertStarted(operation)
    if (this.#readonly) throw new SessionReadonlyError(operation)
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
