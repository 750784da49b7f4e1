import { applyChanges } from '../drivers/apply.js'
import type { Change, PatchOptions, PatchResult, SessionDriver, SessionSummary, StoredRecord, Unlock } from '../drivers/contract.js'
import { supports } from '../drivers/contract.js'
import { SessionError, SessionStoreError } from '../lib/errors.js'

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
  #timer: NodeJS.Timeout | undefined

  constructor(driver: SessionDriver, name: string, timeoutMs: number) {
    this.driver = driver
    this.name = name
    this.#timeoutMs = timeoutMs
  }

  get supportsUserIndex(): boolean {
    return supports(this.driver, 'listByUser') && supports(this.driver, 'destroyByUser')
  }

  read(key: string): Promise<StoredRecord | null> {
    return this.#call('read a session', () => this.driver.read(key))
  }

  write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    return this.#call('write a session', () => this.driver.write(key, record, ttl))
  }

  destroy(key: string): Promise<void> {
    return this.#call('destroy a session', () => this.driver.destroy(key))
  }

  touch(key: string, ttl: number): Promise<void> {
    const driver = this.driver
    if (typeof driver.touch === 'function') return this.#call('touch a session', () => driver.touch(key, ttl))
    // Drivers written against the four-method seed contract may lack touch: rewrite the record.
    return this.#call('touch a session', async () => {
      const record = await driver.read(key)
      if (!record) return
      record.meta.lastSeenAt = Date.now()
      record.meta.expiresAt = record.meta.lastSeenAt + ttl
      await driver.write(key, record, ttl)
    })
  }

  /** Applies a change log: natively where the driver can, else read → apply → write. */
  patch(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    const driver = this.driver
    if (supports(driver, 'patch')) return this.#call('update a session', () => driver.patch(key, changes, options))
    return this.#call('update a session', async () => {
      const record = await driver.read(key)
      if (!record) return 'missing'
      await driver.write(key, applyChanges(record, changes, options.codec, options.ttl), options.ttl)
      return 'applied'
    })
  }

  gc(): Promise<number | void> {
    return this.#call('collect expired sessions', () => this.driver.gc())
  }

  listByUser(userId: string): Promise<SessionSummary[]> {
    const driver = this.driver
    if (!supports(driver, 'listByUser')) return Promise.reject(this.#unsupported('listByUser'))
    return this.#call('list sessions', () => driver.listByUser(userId))
  }

  destroyByUser(userId: string, exceptKeys: readonly string[] = []): Promise<number> {
    const driver = this.driver
    if (!supports(driver, 'destroyByUser')) return Promise.reject(this.#unsupported('destroyByUser'))
    return this.#call('destroy sessions', () => driver.destroyByUser(userId, { exceptKeys }))
  }

  lock(key: string, ttl: number): Promise<Unlock> {
    const driver = this.driver
    if (!supports(driver, 'lock')) return Promise.reject(this.#unsupported('lock'))
    return this.#call('lock a session', () => driver.lock(key, ttl))
  }

  async close(): Promise<void> {
    if (supports(this.driver, 'close')) await this.#call('close its connections', () => (this.driver.close as () => Promise<void>)())
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
  #call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let pending: Promise<T>
      try {
        pending = work()
      } catch (error) {
        pending = Promise.reject(error)
      }
      const entry: PendingCall = { deadline: Date.now() + this.#timeoutMs, operation, reject }
      this.#pending.add(entry)
      this.#timer ??= this.#startWatch()
      pending.then(
        (value) => {
          if (this.#pending.delete(entry)) resolve(value)
        },
        (error: unknown) => {
          if (this.#pending.delete(entry)) reject(this.#wrap(error, operation))
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
        entry.reject(
          new SessionStoreError(
            `The "${this.name}" session store did not ${entry.operation} within ${this.#timeoutMs} ms. Check that it is reachable, or raise "storeTimeout".`,
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

  #wrap(error: unknown, operation: string): unknown {
    if (error instanceof SessionError) return error
    return new SessionStoreError(
      `The "${this.name}" session store failed to ${operation}. Check that it is reachable and configured; the driver's error is attached as "cause".`,
      { driver: this.name, cause: error },
    )
  }
}

interface PendingCall {
  deadline: number
  operation: string
  reject: (error: unknown) => void
}
