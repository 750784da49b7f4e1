import { SessionEvents } from '../session/events.js'
import type { SessionManager } from '../manager/manager.js'
import type { Session, SessionData } from '../session/session.js'
import { supports } from '../drivers/contract.js'
import type { Unlock } from '../drivers/contract.js'
import { durationMs, optionKeys } from '../config/checks.js'
import type { Duration } from '../lib/durations.js'
import { rejectUnknownOptions } from '../lib/options.js'
import { RateLimitError, SessionConfigError, SessionError, SessionStoreError } from '../lib/errors.js'
import { storageKeyFor } from '../lib/ids.js'
import type { ClientFacts } from '../security/binding.js'
import { clientFactsOf, securityHooks, type SecurityHost } from './security-hooks.js'
import type { GuardedStore } from '../session/store.js'
import { cookieAttributes, RequestCookies, signId, verifyId } from './cookies.js'

/** Options every adapter takes. */
export interface SessionMiddlewareOptions {
  /** Driver name; default: the manager's default driver. */
  driver?: string
  /** Load sessions read-only and never commit them (e.g. for WebSocket upgrade requests). */
  readonly?: boolean
  /**
   * Called when a commit fails after the handler ran and the adapter had to answer with the
   * error's status itself (node:http and connect/Express). Use it to log; the error never
   * carries session ids or data.
   */
  onError?: (error: unknown) => void
  /**
   * Load the session on first use instead of in the middleware: a handler calls
   * `await session.start()` before touching it, and a request that never does costs no store
   * read at all. Store faults then surface from `start()` (to the app's error handling) rather
   * than through `onStoreError`. Cannot be combined with `binding`, which checks every request.
   */
  lazy?: boolean
  /**
   * Serialize the requests of one session: each request holds the session's lock from load to
   * commit, so a second request of the same session waits for the first (session blocking,
   * as in file-based PHP sessions). `true` or a lease such as `'10s'` (default 30 s): a holder that dies releases the
   * lock when its lease ends. Needs a driver with `lock` (memory, redis). Changes of concurrent
   * requests merge without it; use it when handlers must see each other's results in order.
   */
  lock?: boolean | Duration
}

const MIDDLEWARE_OPTIONS = optionKeys<SessionMiddlewareOptions>({ driver: true, readonly: true, onError: true, lazy: true, lock: true })

/** A manager as adapters accept it: any driver names. */
export type AnyManager<Data extends SessionData = SessionData> = SessionManager<Data, string>

/** What every request of one lifecycle shares; built once, on the first request. */
interface DriverFacts {
  /** Cookie Max-Age in seconds: the driver's session lifetime. */
  maxAge: number
  /** The driver keeps sessions in the request's cookies (sealed cookie driver). */
  requestScoped: boolean
  clearWithBrowser: boolean
  manager: Pick<AnyManager, 'cookie' | 'keyring' | 'events' | 'config'>
  /** The manager when binding or the creation rate limit is configured, else null (no hook runs). */
  guard: SecurityHost | null
  /** The driver's store, for locking. */
  store: GuardedStore
}

const NO_COOKIES: readonly string[] = Object.freeze([])
const DEFAULT_LOCK_LEASE = 30_000
const NO_CLIENT: ClientFacts = Object.freeze({})

/**
 * The framework-neutral request lifecycle: read and verify the id cookie, open the session,
 * and, after the handler, commit it once and say which cookies to set. Adapters build one per
 * middleware (setup work happens here, once) and call {@link begin} per request.
 */
export class SessionLifecycle<Data extends SessionData = SessionData> {
  readonly manager: AnyManager<Data>
  readonly #driver: string | undefined
  readonly #readonly: boolean
  readonly #lazy: boolean
  /** Lease of the per-session lock in ms, or null when requests are not serialized. */
  readonly #lockLease: number | null
  readonly #attributes: ReturnType<typeof cookieAttributes>
  /** Decided once here, so requests of an app without binding or rate limit pay nothing. */
  readonly #binding: boolean
  readonly #guard: SecurityHost | null
  #facts: DriverFacts | undefined
  #pendingFacts: Promise<DriverFacts> | undefined

  /**
   * @param adapterOptions the option names an adapter accepts beyond {@link SessionMiddlewareOptions}
   *   (Fetch and Hono: `clientFacts`); any other unknown option is a misspelling and refused.
   */
  constructor(manager: AnyManager<Data>, options: SessionMiddlewareOptions = {}, adapterOptions: readonly string[] = []) {
    rejectUnknownOptions(options, [...MIDDLEWARE_OPTIONS, ...adapterOptions], 'session middleware options')
    this.manager = manager
    this.#driver = options.driver
    this.#readonly = options.readonly ?? false
    this.#lazy = options.lazy ?? false
    this.#attributes = cookieAttributes(manager.cookie)
    const { security } = manager.config
    if (this.#lazy && security.binding !== null) {
      throw new SessionConfigError(
        'lazy: true cannot be combined with binding: a bound session must be checked on every request. Drop one of the two options.',
      )
    }
    this.#lockLease =
      options.lock === undefined || options.lock === false
        ? null
        : options.lock === true
          ? DEFAULT_LOCK_LEASE
          : durationMs('lock', options.lock)
    if (this.#lockLease !== null && this.#lazy) {
      throw new SessionConfigError(
        'lock cannot be combined with lazy: true (a lazy session is loaded by the handler, after the middleware would have locked it). Drop one of the two options.',
      )
    }
    this.#binding = security.binding !== null
    this.#guard = security.binding !== null || security.createLimit !== null ? manager : null
  }

  /**
   * True when binding or the creation rate limit is configured: only then do adapters build client
   * facts, so other apps pay nothing per request.
   */
  get wantsClient(): boolean {
    return this.#guard !== null
  }

  /** True when binding or the creation rate limit needs the client's IP address. */
  get needsClientIp(): boolean {
    const { binding, createLimit } = this.manager.config.security
    return createLimit !== null || (binding !== null && binding.ip !== false)
  }

  /** False when the manager is switched off (`enabled: false`): adapters then pass requests through. */
  get enabled(): boolean {
    return this.manager.enabled
  }

  /**
   * Opens the session of one request from its Cookie header. A store failure either throws the
   * {@link SessionStoreError} (`onStoreError: 'fail'`) or yields an empty session that is never
   * saved (`'anonymous'`); both emit `SessionEvents.STORE_ERROR`.
   *
   * `client` (IP, forwarded chain, User-Agent) feeds `binding` and `rateLimit.create`; adapters
   * pass it. A bound session presented by another client is replaced by a fresh one
   * (`onMismatch: 'reject'`); a read-only request then gets an empty session.
   */
  async begin(cookieHeader: string | undefined, options: { readonly?: boolean; client?: ClientFacts } = {}): Promise<RequestSession<Data>> {
    const facts = this.#facts ?? (await (this.#pendingFacts ??= this.#resolveFacts()))
    const { manager } = this
    const { name, clearWithBrowser } = manager.cookie
    const jar = new RequestCookies(cookieHeader, this.#attributes, clearWithBrowser)
    const presented = jar.get(name)
    const verified = verifyId(manager.keyring, presented)
    const readonly = options.readonly ?? this.#readonly
    const session = manager.prepare({
      id: verified?.id ?? null,
      driver: this.#driver,
      readonly,
      jar: facts.requestScoped ? jar : undefined,
    })
    const flags = presented === undefined ? 0 : verified?.rotated ? PRESENTED | ROTATED : PRESENTED
    const presentedId = verified?.id ?? ''
    if (this.#lazy) return new RequestSession(session, jar, facts, flags, options.client ?? NO_CLIENT, presentedId)
    let unlock: Unlock | undefined
    try {
      // Only an existing session can be contended; a new id is this request's alone.
      if (this.#lockLease !== null && presentedId !== '' && !readonly)
        unlock = await facts.store.lock(storageKeyFor(presentedId), this.#lockLease)
      await session.start()
    } catch (error) {
      await unlock?.().catch(() => undefined)
      if (!(error instanceof SessionStoreError)) throw error
      manager.events.emit(SessionEvents.STORE_ERROR, error)
      if (manager.config.onStoreError === 'fail') throw error
      const anonymous = manager.prepare({ driver: this.#driver, readonly })
      await anonymous.start() // no id: no store call
      return new RequestSession(anonymous, jar, facts, ANONYMOUS, NO_CLIENT, '')
    }
    const client = options.client ?? NO_CLIENT
    if (this.#binding && (await securityHooks.afterStart(manager, session, client)) === 'rejected' && readonly) {
      // A read-only session cannot be invalidated: serve an empty one instead of the other client's.
      const empty = manager.prepare({ driver: this.#driver, readonly })
      await empty.start() // no id: no store call
      return new RequestSession(empty, jar, facts, 0, client, '')
    }
    const handle = new RequestSession(session, jar, facts, flags, client, presentedId)
    if (unlock) handle.holdLock(unlock)
    return handle
  }

  async #resolveFacts(): Promise<DriverFacts> {
    try {
      const context = await this.manager.context(this.#driver)
      this.#facts = {
        manager: this.manager,
        clearWithBrowser: this.manager.cookie.clearWithBrowser,
        maxAge: Math.ceil(context.lifetimeMs / 1000),
        requestScoped: supports(context.store.driver, 'forRequest'),
        guard: this.#guard,
        store: context.store,
      }
      if (this.#lockLease !== null && !supports(context.store.driver, 'lock')) {
        throw new SessionConfigError(
          `lock needs a driver that can lock sessions (memory, redis); the "${context.store.name}" driver cannot. Remove the lock option or switch drivers.`,
        )
      }
      return this.#facts
    } catch (error) {
      this.#pendingFacts = undefined // a failed driver setup is retried by the next request
      throw error
    }
  }
}

/** Per-request flags, packed so a request allocates no facts object. */
const PRESENTED = 1
const ROTATED = 2
const ANONYMOUS = 4

/** One request's session and its cookies. `commit()` runs once; later calls do nothing. */
export class RequestSession<Data extends SessionData = SessionData> {
  readonly session: Session<Data>
  readonly cookies: RequestCookies
  readonly #facts: DriverFacts
  readonly #flags: number
  /** The verified id the client presented ('' when none): a different id means a new cookie. */
  readonly #initialId: string
  readonly #client: ClientFacts
  #committed = false
  #unlock: Unlock | undefined

  /** @internal Built by {@link SessionLifecycle.begin}. */
  constructor(
    session: Session<Data>,
    cookies: RequestCookies,
    facts: DriverFacts,
    flags: number,
    client: ClientFacts,
    presentedId: string,
  ) {
    this.session = session
    this.cookies = cookies
    this.#facts = facts
    this.#flags = flags
    this.#client = client
    this.#initialId = presentedId
  }

  /** True when the store failed and this request runs with an empty session that is never saved. */
  get anonymous(): boolean {
    return (this.#flags & ANONYMOUS) !== 0
  }

  /** True once `commit()` has been called. */
  get committed(): boolean {
    return this.#committed
  }

  /** @internal The session's lock, held until this request commits (or skips its commit). */
  holdLock(unlock: Unlock): void {
    this.#unlock = unlock
  }

  #releaseLock(): void {
    const unlock = this.#unlock
    this.#unlock = undefined
    // A failed release is harmless: the lease ends by itself.
    unlock?.().catch(() => undefined)
  }

  /**
   * Decides synchronously whether `commit()` would neither call the store nor set a cookie (a
   * request that only read), and if so marks it committed. Adapters call it first so such a
   * request goes out without waiting on a promise.
   */
  skipCommit(): boolean {
    if (this.#committed) return true
    const { session } = this
    const { status } = session
    const skip =
      !status.initiated ||
      status.readonly ||
      this.anonymous ||
      (!this.#facts.guard &&
        !status.needsSave() &&
        (status.persisted ? session.sessionId === this.#initialId && !(this.#flags & ROTATED) : !(this.#flags & PRESENTED)))
    if (skip) {
      this.#committed = true
      this.#releaseLock()
    }
    return skip
  }

  /**
   * Saves the session (once) and returns the Set-Cookie values the response must carry. A request
   * that changed nothing and is not due for a touch gets no store write and no cookie. Throws
   * `RateLimitError` (429) when a new session would exceed `rateLimit.create`.
   */
  async commit(): Promise<readonly string[]> {
    if (this.#committed) return NO_COOKIES
    this.#committed = true
    try {
      return await this.#commit()
    } finally {
      this.#releaseLock()
    }
  }

  async #commit(): Promise<readonly string[]> {
    const { session, cookies } = this
    const facts = this.#facts
    // A lazy session the handler never started was not loaded: nothing to save, no cookie to set.
    const { status } = session
    if (!status.initiated || status.readonly || this.anonymous) return NO_COOKIES
    const seenBefore = status.meta?.lastSeenAt
    try {
      // Inside the try: a store fault while taking a rate-limit token follows onStoreError too.
      if (facts.guard) await securityHooks.beforeCommit(facts.guard, session, this.#client)
      await session.save()
    } catch (error) {
      const { manager } = facts
      if (!(error instanceof SessionStoreError)) throw error
      manager.events.emit(SessionEvents.STORE_ERROR, error)
      if (manager.config.onStoreError === 'fail') throw error
      return NO_COOKIES
    }
    const { name } = facts.manager.cookie
    if (status.persisted) {
      const id = session.sessionId
      // A touch or write moved the expiry: a cookie with Max-Age must move with it.
      const refreshed = !facts.clearWithBrowser && status.meta?.lastSeenAt !== seenBefore
      if (id !== this.#initialId || this.#flags & ROTATED || refreshed) {
        cookies.set(name, signId(facts.manager.keyring, id), { maxAge: facts.maxAge })
      }
    } else if (this.#flags & PRESENTED) {
      // Logout, or a cookie that named no live session: nothing is stored, so drop the cookie.
      cookies.delete(name)
    }
    return cookies.setCookies()
  }
}

/** A Node request (`IncomingMessage`) or anything with its headers and socket. */
export interface ReadonlyRequest {
  headers: Record<string, string | string[] | undefined>
  socket?: { remoteAddress?: string | undefined } | undefined
}

/**
 * A read-only session for a request that must not write, such as a WebSocket upgrade: it is
 * never committed and sets no cookie. Pass the request (its client facts are checked when
 * `binding` is configured) or only its Cookie header (then pass `client` yourself when binding
 * is on, or a bound session is refused as another client's).
 */
export async function readonlySession<Data extends SessionData>(
  manager: AnyManager<Data>,
  request: ReadonlyRequest | string | undefined,
  options: { driver?: string; client?: ClientFacts } = {},
): Promise<Session<Data>> {
  const fromRequest = typeof request === 'object'
  const cookieHeader = fromRequest ? [request.headers.cookie].flat().join('; ') || undefined : request
  const client = options.client ?? (fromRequest ? clientFactsOf(request) : undefined)
  const lifecycle = new SessionLifecycle(manager, { driver: options.driver, readonly: true })
  return (await lifecycle.begin(cookieHeader, { client })).session
}

/** The HTTP status for an error that escaped the session layer (503 for store faults). */
export function statusOf(error: unknown): number {
  return error instanceof SessionError ? error.status : 500
}

/** A short response text for an error status; never the error's message (it may name internals). */
export function statusText(status: number): string {
  switch (status) {
    case 503:
      return 'Service Unavailable: the session store is not reachable.'
    case 429:
      return 'Too Many Requests: too many new sessions from this client; retry later.'
    case 403:
      return 'Forbidden'
    case 409:
      return 'Conflict: retry the request.'
    default:
      return status >= 500 ? 'Internal Server Error' : 'Request refused'
  }
}

/** Headers for an error response: the content type, and `Retry-After` for a rate-limit refusal. */
export function errorHeaders(error: unknown): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' }
  if (error instanceof RateLimitError) headers['retry-after'] = String(error.retryAfter)
  return headers
}
