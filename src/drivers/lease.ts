import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionConflictError } from '../lib/errors.js'
import type { Unlock } from './contract.js'
import { KeyedMutex } from './mutex.js'

/**
 * Where a driver keeps its leases: one record per locked key, holding the holder's token and an
 * expiry. `acquire` must be atomic across every process that shares the store (create-if-absent,
 * or take over an expired lease); `release` removes the lease only while `token` still holds it.
 */
export interface LeaseBackend {
  acquire(key: string, token: string, ttl: number): Promise<boolean>
  release(key: string, token: string): Promise<void>
}

/** How long `lock()` waits for a held lease by default, in ms (as the Redis driver's `lockWait`). */
export const DEFAULT_LEASE_WAIT_MS = 10_000

/**
 * The `lock` capability built from a {@link LeaseBackend}: waiters of this process queue on an
 * in-process mutex (no polling among themselves), and the holder takes the store's lease, so
 * processes that share the store exclude one another too. The lease ends after `ttl` ms even if
 * never released; a waiter gives up after `waitMs` with a SessionConflictError.
 */
export class Leases {
  readonly #backend: LeaseBackend
  readonly #waitMs: number
  readonly #driver: string
  readonly #mutex = new KeyedMutex()

  constructor(driver: string, backend: LeaseBackend, waitMs = DEFAULT_LEASE_WAIT_MS) {
    this.#driver = driver
    this.#backend = backend
    this.#waitMs = waitMs
  }

  async lock(key: string, ttl: number): Promise<Unlock> {
    const deadline = Date.now() + this.#waitMs
    const releaseLocal = await this.#mutex.acquire(key)
    const token = randomBytes(16).toString('base64url')
    try {
      for (let attempt = 0; !(await this.#backend.acquire(key, token, Math.max(1, Math.ceil(ttl)))); attempt++) {
        if (Date.now() >= deadline) {
          throw new SessionConflictError(
            `${this.#driver} driver: another process held a lock for longer than ${this.#waitMs} ms; try again (a crashed holder's lease ends by itself).`,
          )
        }
        await sleep(Math.min(50, 2 ** attempt) * (0.5 + Math.random() / 2))
      }
    } catch (error) {
      releaseLocal()
      throw error
    }
    // The lease ends after `ttl` even if never released: so does this process's turn.
    const expiry = setTimeout(releaseLocal, ttl)
    let released = false
    return async () => {
      if (released) return
      released = true
      clearTimeout(expiry)
      try {
        await this.#backend.release(key, token)
      } finally {
        releaseLocal()
      }
    }
  }
}
