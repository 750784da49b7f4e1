import { isSessionDriver, supports, type CookieJar, type SessionDriver } from '../drivers/contract.js'
import { BUILTIN_DRIVERS, isBuiltinDriver, type DriverConfig, type DriverFactory } from '../drivers/registry.js'
import type { Keyring } from '../lib/crypto.js'
import { SessionConfigError, SessionError } from '../lib/errors.js'
import { storageKeyFor } from '../lib/ids.js'
import { SessionCodec } from '../session/codec.js'
import { resolveConfig, type ResolvedConfig, type ResolvedCookie, type SessionConfig } from '../config/resolve.js'
import { SessionEventEmitter, SessionEvents, type SessionEventMap, type SessionEventName } from '../session/events.js'
import { MetricsCollector, type MetricsOptions, type SessionMetrics } from '../metrics/collector.js'
import { Session, type SessionContext, type SessionData, type SessionInit } from '../session/session.js'
import { GuardedStore } from '../session/store.js'
import { SecurityState } from '../security/security-state.js'
import { sessionGuards } from '../users/guards.js'
import { checkLockRequirements } from '../security/requirements.js'
import { UserSessions } from '../users/users.js'

/** A Session subclass a manager can build instead of `Session`. */
export type SessionClass<Data extends SessionData> = new (init: SessionInit) => Session<Data>

export type SessionManagerOptions<Data extends SessionData = SessionData, Names extends string = string> = SessionConfig<Names> & {
  /** Build sessions of this class (a subclass of `Session`/`SessionStore`). */
  sessionClass?: SessionClass<Data>
  /**
   * How `manager.metrics()` counts (active window, series sampling, tracking bound), or `false`
   * to keep no metrics at all (no per-request bookkeeping, no tracked sessions in memory).
   */
  metrics?: MetricsOptions | false
}

export interface OpenOptions {
  /** The id the client presented; adopted only if a live session has it. */
  id?: string | null
  /** Driver name; default: the configured default driver. */
  driver?: string
  /** Open read-only: reads work, changes throw, nothing is written. */
  readonly?: boolean
  /**
   * The request's cookie jar. Request-scoped drivers (the sealed cookie driver) keep the session
   * in it; other drivers ignore it. The HTTP adapters pass it for you.
   */
  jar?: CookieJar
}

const globalExtensions = new Map<string, DriverFactory>()

/**
 * Owns the configuration, the named drivers, events and garbage collection, and makes the
 * {@link Session}s. One manager per cookie: several can serve one app side by side.
 */
export class SessionManager<Data extends SessionData = SessionData, Names extends string = string> {
  readonly config: ResolvedConfig
  readonly events = new SessionEventEmitter<Session>()
  /** Server-side security state (rate-limit buckets, revocation markers, remember-me's store): for the security features, not for apps. */
  readonly security: SecurityState
  readonly #extensions = new Map<string, DriverFactory>()
  readonly #contexts = new Map<string, Promise<SessionContext>>()
  readonly #codec: SessionCodec
  readonly #sessionClass: SessionClass<Data>
  readonly #gcTimer: NodeJS.Timeout | undefined
  readonly #users: UserSessions<Data>
  readonly #metrics: MetricsCollector | undefined
  #closed = false

  /**
   * `new SessionManager()` is a working in-memory manager with safe defaults;
   * `new SessionManager(driver)` uses that driver instance; otherwise pass a config.
   */
  constructor(config: SessionManagerOptions<Data, Names> | SessionDriver = {}) {
    const instance = isSessionDriver(config) ? config : undefined
    const options = (instance ? {} : config) as SessionManagerOptions<Data, Names>
    this.config = resolveConfig(options as SessionConfig, instance)
    for (const [name, { config: entry, instance: given }] of this.config.drivers) {
      if (given) {
        checkLockRequirements(this.config, name, given)
        continue
      }
      if (!isBuiltinDriver(entry.driver) && !globalExtensions.has(entry.driver)) {
        throw new SessionConfigError(
          `drivers.${name} uses the unknown driver "${entry.driver}". Built-in drivers: ${Object.keys(BUILTIN_DRIVERS).join(', ')}. Register a custom driver first with SessionManager.extend('${entry.driver}', factory), or call manager.extend() and open it with manager.open({ driver: '${entry.driver}' }).`,
        )
      }
    }
    this.#codec = new SessionCodec(this.config.serializer, this.config.sealing)
    this.#sessionClass = options.sessionClass ?? (Session as SessionClass<Data>)
    this.security = new SecurityState(this)
    this.#users = new UserSessions<Data>(this)
    this.#metrics = options.metrics === false ? undefined : new MetricsCollector(this.events, options.metrics)
    if (this.config.gcIntervalMs !== null) {
      this.#gcTimer = setInterval(() => void this.#collectInBackground(), this.config.gcIntervalMs)
      this.#gcTimer.unref()
    }
  }

  /** Registers a driver for every manager created afterwards (and config entries naming it). */
  static extend(name: string, factory: DriverFactory): void {
    globalExtensions.set(name, factory)
  }

  /** The key stores file the session with this id under (SHA-256 of the id). */
  static storageKey(id: string): string {
    return storageKeyFor(id)
  }

  /** Whether sessions are switched on (`enabled`). */
  get enabled(): boolean {
    return this.config.enabled
  }

  get cookie(): ResolvedCookie {
    return this.config.cookie
  }

  /** Keys for signing cookies, newest first. */
  get keyring(): Keyring {
    return this.config.keyring
  }

  /** Registers a custom driver under `name`: `manager.extend('database', (config) => new DatabaseDriver(config))`. */
  extend(name: string, factory: DriverFactory): this {
    if (typeof factory !== 'function')
      throw new SessionConfigError(`extend('${name}', factory): factory must be a function returning a driver.`)
    this.#extensions.set(name, factory)
    return this
  }

  /**
   * A session that is not started yet: `await session.start()` loads the live session with
   * `options.id` or creates a new one. The HTTP adapters use it to load lazily; most code wants
   * {@link open}.
   */
  prepare(options: OpenOptions = {}): Session<Data> {
    this.#assertOpen()
    const context = options.jar ? this.#requestContext(options.driver, options.jar) : this.context(options.driver)
    const session = new this.#sessionClass({ context, id: options.id ?? null, readonly: options.readonly ?? false })
    if (this.config.gcProbability > 0 && Math.random() < this.config.gcProbability) void this.#collectInBackground()
    return session
  }

  /** Opens and starts a session: the live session with `id`, or a new one. */
  async open(options: OpenOptions = {}): Promise<Session<Data>> {
    const session = this.prepare(options)
    await session.start()
    return session
  }

  /** The store, codec and rules for a driver name; built once per name. */
  context(name: string = this.config.defaultDriver): Promise<SessionContext> {
    let context = this.#contexts.get(name)
    if (!context) {
      context = this.#buildContext(name)
      context.catch(() => this.#contexts.delete(name))
      this.#contexts.set(name, context)
    }
    return context
  }

  /** The guarded store of a driver name (built on first use). */
  async store(name?: string): Promise<GuardedStore> {
    return (await this.context(name)).store
  }

  /** Removes expired sessions from every driver in use; returns how many were removed (when known). */
  async gc(): Promise<number> {
    let total = 0
    for (const [name, context] of this.#contexts) {
      const { store } = await context
      const removed = (await store.gc()) ?? 0
      total += removed
      this.events.emit(SessionEvents.GC, removed, name)
    }
    return total
  }

  /** Server-side sessions per user: create/get/update/refresh/revoke by id, list, revokeAll. */
  get users(): UserSessions<Data> {
    return this.#users
  }

  /**
   * Session metrics (framework-neutral): total, active and per-user session counts, average
   * session length, lifecycle counts, store latency percentiles per driver and error counts.
   * Computed from counters kept as the manager works, never by scanning the store; they describe
   * this process since the manager was created (see {@link SessionMetrics} for each figure).
   */
  metrics(options: { topUsers?: number } = {}): SessionMetrics {
    if (!this.#metrics)
      throw new SessionConfigError(
        'metrics() is not available: this manager was created with metrics: false. Remove that option to keep metrics.',
      )
    return this.#metrics.snapshot(options)
  }

  on<E extends SessionEventName>(event: E, listener: (...args: SessionEventMap<Session>[E]) => void): this {
    this.events.on(event, listener)
    return this
  }

  once<E extends SessionEventName>(event: E, listener: (...args: SessionEventMap<Session>[E]) => void): this {
    this.events.once(event, listener)
    return this
  }

  off<E extends SessionEventName>(event: E, listener: (...args: SessionEventMap<Session>[E]) => void): this {
    this.events.off(event, listener)
    return this
  }

  /** Stops the gc timer and closes every driver's connections. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#gcTimer)
    this.#metrics?.close()
    const contexts = [...this.#contexts.values()]
    this.#contexts.clear()
    await Promise.all(contexts.map(async (context) => (await context.catch(() => null))?.store.close()))
  }

  async #buildContext(name: string): Promise<SessionContext> {
    const configured = this.config.drivers.get(name)
    const entry: DriverConfig = configured?.config ?? { driver: name }
    const lifetimeMs = configured?.lifetimeMs ?? this.config.lifetimeMs
    let driver: SessionDriver
    if (configured?.instance) {
      driver = configured.instance
    } else {
      const factory = this.#extensions.get(entry.driver) ?? globalExtensions.get(entry.driver) ?? (await BUILTIN_DRIVERS[entry.driver]?.())
      if (!factory) {
        throw new SessionConfigError(
          `No session driver is registered as "${entry.driver}". Configure it under "drivers" or register it with manager.extend('${entry.driver}', factory).`,
        )
      }
      // The entry holds the driver's options; what the manager knows besides goes apart (drivers
      // that seal data themselves, cookie, use the manager's keys and cookie name).
      const keyring = this.config.keysConfigured ? { keyring: this.config.keyring } : {}
      driver = await factory(entry, { cookieName: this.config.cookie.name, lifetimeMs, ...keyring })
      if (!isSessionDriver(driver)) {
        throw new SessionConfigError(
          `The factory for the "${entry.driver}" driver did not return a driver (an object with read, write and destroy).`,
        )
      }
    }
    checkLockRequirements(this.config, name, driver)
    const { touchAfter, idleTimeoutMs, absoluteTimeoutMs, schema, storeTimeoutMs } = this.config
    const touchBase = idleTimeoutMs === null ? lifetimeMs : Math.min(lifetimeMs, idleTimeoutMs)
    const store = new GuardedStore(driver, driver.name ?? entry.driver, storeTimeoutMs, this.#metrics)
    return {
      store,
      codec: this.#codec,
      lifetimeMs,
      touchAfterMs: touchBase * touchAfter,
      idleTimeoutMs,
      absoluteTimeoutMs,
      schema,
      events: this.events,
      guards: sessionGuards(this, store, { idleTimeoutMs, absoluteTimeoutMs }),
    }
  }

  /** The context with its store bound to one request's cookie jar, for request-scoped drivers. */
  async #requestContext(name: string | undefined, jar: CookieJar): Promise<SessionContext> {
    const context = await this.context(name)
    const { driver, name: driverName } = context.store
    if (!supports(driver, 'forRequest')) return context
    return { ...context, store: new GuardedStore(driver.forRequest(jar), driverName, this.config.storeTimeoutMs, this.#metrics) }
  }

  async #collectInBackground(): Promise<void> {
    try {
      await this.gc()
    } catch (error) {
      const reported =
        error instanceof SessionError
          ? error
          : new SessionError('Session garbage collection failed.', { code: 'E_SESSION_GC', cause: error })
      if (this.events.listenerCount(SessionEvents.STORE_ERROR) > 0) this.events.emit(SessionEvents.STORE_ERROR, reported)
    }
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SessionError('This session manager has been closed; create a new one.', { code: 'E_SESSION_MANAGER_CLOSED' })
  }
}
