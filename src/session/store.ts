import type { Change, PatchOptions, PatchResult, SessionDriver, SessionSummary, StoredRecord, Unlock } from '../drivers/contract.js'
import { supports } from '../drivers/contract.js'
import { collectExpired, patchRecord, readRecord, renameRecord, touchRecord } from '../drivers/fallbacks.js'
import { SessionError, SessionStoreError } from '../lib/errors.js'

/** The store calls, as an observer (metrics) names them. */
export type StoreOperation = 'read' | 'write' | 'destroy' | 'touch' | 'patch' | 'gc' | 'listByUser' | 'destroyByUser' | 'lock' | 'close'

const DESCRIPTIONS: Readonly<Record<StoreOperation, string>> = {
  read: 'read a session',
  write: 'write a session',
  destroy: 'destroy a session',
  touch: 'touch a session',
  patch: 'update a session',
  gc: 'collect expired sessions',
  listByUser: 'list sessions',
  destroyByUser: 'destroy sessions',
  lock: 'lock a session',
  close: 'close its connections',
}

/**
 * Sees every store call (metrics): its duration and outcome, and which sessions were removed.
 * Called synchronously on settle; it must be cheap and must not throw.
 */
export interface StoreObserver {
  call(driver: string, operation: StoreOperation, durationMs: number, outcome: 'ok' | 'error' | 'timeout'): void
  /** A destroy(key) succeeded. */
  removed(key: string): void
  /** A destroyByUser(userId, exceptKeys) succeeded. */
  removedUser(userId: string, exceptKeys: readonly string[]): void
}

/**
 * The store a Session talks to: the driver's calls, each bounded by a timeout, with driver
 * failures turned into {@link SessionStoreError}s (cause attached) and the optional capabilities
 * filled in where a driver lacks them.
 */
export class GuardedStore {
  readonly driver: SessionDriver
  readonly name: string
  readonly #timeoutMs: number
  readonly #pending = new Set<PendingCall>()
  readonly #observer: StoreObserver | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(driver: SessionDriver, name: string, timeoutMs: number, observer?: StoreObserver) {
    this.driver = driver
    this.name = name
    this.#timeoutMs = timeoutMs
    this.#observer = observer
  }

  get supportsUserIndex(): boolean {
    return supports(this.driver, 'listByUser') && supports(this.driver, 'destroyByUser')
  }

  read(key: string): Promise<StoredRecord | null> {
    return this.#call('read', () => readRecord(this.driver, key))
  }

  write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    return this.#call('write', () => this.driver.write(key, record, ttl))
  }

  destroy(key: string): Promise<void> {
    const done = this.#call('destroy', () => this.driver.destroy(key))
    const observer = this.#observer
    return observer ? done.then(() => observer.removed(key)) : done
  }

  /**
   * Moves a session to its new key (regenerate) if the old key still holds a live record; false
   * when it does not (destroyed meanwhile). The session lives on under its new key, so the
   * observer is not told of a removal (metrics would count an ending). Counted as a write.
   */
  rename(fromKey: string, toKey: string, record: StoredRecord, ttl: number): Promise<boolean> {
    return this.#call('write', () => renameRecord(this.driver, fromKey, toKey, record, ttl))
  }

  touch(key: string, ttl: number): Promise<void> {
    return this.#call('touch', () => touchRecord(this.driver, key, ttl))
  }

  /** Applies a change log: natively where the driver can, else read → apply → write. */
  patch(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    return this.#call('patch', () => patchRecord(this.driver, key, changes, options))
  }

  gc(): Promise<number | void> {
    // A large backlog takes a while (SQL drivers delete in batches); gc is background work, so it
    // gets a longer bound than the calls a request waits on.
    return this.#call('gc', () => collectExpired(this.driver), Math.max(GC_TIMEOUT_MS, this.#timeoutMs))
  }

  listByUser(userId: string): Promise<SessionSummary[]> {
    const driver = this.driver
    if (!supports(driver, 'listByUser')) return Promise.reject(this.#unsupported('listByUser'))
    return this.#call('listByUser', () => driver.listByUser(userId))
  }

  destroyByUser(userId: string, exceptKeys: readonly string[] = []): Promise<number> {
    const driver = this.driver
    if (!supports(driver, 'destroyByUser')) return Promise.reject(this.#unsupported('destroyByUser'))
    const done = this.#call('destroyByUser', () => driver.destroyByUser(userId, { exceptKeys }))
    const observer = this.#observer
    if (!observer) return done
    return done.then((removed) => {
      observer.removedUser(userId, exceptKeys)
      return removed
    })
  }

  lock(key: string, ttl: number): Promise<Unlock> {
    const driver = this.driver
    if (!supports(driver, 'lock')) return Promise.reject(this.#unsupported('lock'))
    return this.#call('lock', () => driver.lock(key, ttl))
  }

  async close(): Promise<void> {
    if (supports(this.driver, 'close')) await this.#call('close', () => (this.driver.close as () => Promise<void>)())
  }

  #unsupported(capability: string): SessionError {
    return new SessionError(
      `The "${this.name}" session driver does not implement ${capability}(). Use a driver with a per-user index (memory, file, redis, sqlite, postgres) or add it to your custom driver.`,
      { code: 'E_SESSION_UNSUPPORTED' },
    )
  }

  /**
   * Runs one driver call under the store timeout. Deadlines are checked by one interval timer
   * per store while calls are pending, instead of a timer per call: the hot path allocates one
   * promise and one entry.
   */
  #call<T>(operation: StoreOperation, work: () => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T> {
    const observer = this.#observer
    return new Promise<T>((resolve, reject) => {
      let pending: Promise<T>
      try {
        pending = work()
      } catch (error) {
        pending = Promise.reject(error)
      }
      const entry: PendingCall = {
        deadline: Date.now() + timeoutMs,
        timeoutMs,
        operation,
        reject,
        started: observer ? performance.now() : 0,
      }
      this.#pending.add(entry)
      this.#timer ??= this.#startWatch()
      pending.then(
        (value) => {
          if (!this.#pending.delete(entry)) return
          observer?.call(this.name, operation, performance.now() - entry.started, 'ok')
          resolve(value)
        },
        (error: unknown) => {
          if (!this.#pending.delete(entry)) return
          observer?.call(this.name, operation, performance.now() - entry.started, 'error')
          reject(this.#wrap(error, operation))
        },
      )
    })
  }

  #startWatch(): NodeJS.Timeout {
    const tick = Math.max(5, Math.min(250, Math.floor(this.#timeoutMs / 4)))
    const timer = setInterval(() => {
      const now = Date.now()
      for (const entry of this.#pending) {
        if (entry.deadline > now) continue
        this.#pending.delete(entry)
        this.#observer?.call(this.name, entry.operation, performance.now() - entry.started, 'timeout')
        entry.reject(
          new SessionStoreError(
            `The "${this.name}" session store did not ${DESCRIPTIONS[entry.operation]} within ${entry.timeoutMs} ms. Check that it is reachable, or raise "storeTimeout".`,
            { driver: this.name, code: 'E_SESSION_STORE_TIMEOUT' },
          ),
        )
      }
      if (this.#pending.size === 0) {
        clearInterval(timer)
        this.#timer = undefined
      }
    }, tick)
    // Kept referenced while calls are pending: a hanging store must end in an error, not in a
    // process that exits with the call unsettled. The timer stops when nothing is pending.
    return timer
  }

  #wrap(error: unknown, operation: StoreOperation): unknown {
    if (error instanceof SessionError) return error
    return new SessionStoreError(
      `The "${this.name}" session store failed to ${DESCRIPTIONS[operation]}. Check that it is reachable and configured; the driver's error is attached as "cause".`,
      { driver: this.name, cause: error },
    )
  }
}

const GC_TIMEOUT_MS = 10 * 60_000

interface PendingCall {
  deadline: number
  timeoutMs: number
  operation: StoreOperation
  reject: (error: unknown) => void
  /** performance.now() at the start, when an observer wants durations; else 0. */
  started: number
}
