import { SessionError } from '../lib/errors.js'
import type { Change, PatchOptions, PatchResult, SessionDriver, SessionSummary, StoredRecord, Unlock } from './contract.js'
import { applyChanges } from './apply.js'
import type { ClientRequirement } from './client.js'
import { KeyedMutex } from './mutex.js'
import { BUILTIN_OPTION_NAMES } from './option-names.js'
import { checkOptions, exactOptionNames } from './options.js'
import { cloneRecord, isExpired, summarize } from './record.js'

export const MEMORY_DRIVER = 'memory'

/** The memory driver needs no client package. */
export const MEMORY_CLIENT: ClientRequirement | null = null

export interface MemoryDriverOptions {
  /**
   * Upper bound on stored sessions; when full, the session closest to expiry is evicted so
   * memory stays bounded under a flood of new sessions. Default: unbounded.
   */
  maxSessions?: number
}

/** Every option of this driver (declared in option-names.ts); unknown options are rejected against it. */
export const MEMORY_OPTION_NAMES = exactOptionNames<MemoryDriverOptions>()(BUILTIN_OPTION_NAMES.memory)

/** A min-heap of (expiresAt, key): expired entries are found without scanning every session. */
class ExpiryHeap {
  readonly #at: number[] = []
  readonly #keys: string[] = []

  get size(): number {
    return this.#at.length
  }

  peek(): number | undefined {
    return this.#at[0]
  }

  push(at: number, key: string): void {
    this.#at.push(at)
    this.#keys.push(key)
    let i = this.#at.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((this.#at[parent] as number) <= at) break
      this.#swap(i, parent)
      i = parent
    }
  }

  pop(): string | undefined {
    const top = this.#keys[0]
    const lastAt = this.#at.pop()
    const lastKey = this.#keys.pop()
    if (this.#at.length > 0 && lastAt !== undefined && lastKey !== undefined) {
      this.#at[0] = lastAt
      this.#keys[0] = lastKey
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let smallest = i
        if (left < this.#at.length && (this.#at[left] as number) < (this.#at[smallest] as number)) smallest = left
        if (right < this.#at.length && (this.#at[right] as number) < (this.#at[smallest] as number)) smallest = right
        if (smallest === i) break
        this.#swap(i, smallest)
        i = smallest
      }
    }
    return top
  }

  #swap(a: number, b: number): void {
    ;[this.#at[a], this.#at[b]] = [this.#at[b] as number, this.#at[a] as number]
    ;[this.#keys[a], this.#keys[b]] = [this.#keys[b] as string, this.#keys[a] as string]
  }
}

/** In-process store. Sessions vanish on restart; use it for development, tests, single processes. */
export class MemoryDriver implements SessionDriver {
  readonly name = MEMORY_DRIVER
  readonly #records = new Map<string, StoredRecord>()
  readonly #byUser = new Map<string, Set<string>>()
  readonly #expiry = new ExpiryHeap()
  readonly #locks = new KeyedMutex()
  readonly #maxSessions: number

  constructor(options: MemoryDriverOptions = {}) {
    const max = checkOptions(MEMORY_DRIVER, options, MEMORY_OPTION_NAMES).maxSessions ?? Number.POSITIVE_INFINITY
    if (!(max > 0)) throw new SessionError('memory driver: maxSessions must be a positive number.', { code: 'E_SESSION_CONFIG' })
    this.#maxSessions = max
  }

  /** Number of live records held (expired ones are dropped as they are found). */
  get size(): number {
    this.#sweep(Date.now())
    return this.#records.size
  }

  async read(key: string): Promise<StoredRecord | null> {
    const record = this.#live(key, Date.now())
    return record ? cloneRecord(record) : null
  }

  async write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    const now = Date.now()
    this.#sweep(now)
    const copy = cloneRecord(record)
    copy.meta.expiresAt = now + ttl
    if (!this.#records.has(key) && this.#records.size >= this.#maxSessions) this.#evictOne()
    this.#store(key, copy)
  }

  async destroy(key: string): Promise<void> {
    this.#remove(key)
  }

  async touch(key: string, ttl: number): Promise<void> {
    const now = Date.now()
    const record = this.#live(key, now)
    if (!record) return
    record.meta.lastSeenAt = now
    record.meta.expiresAt = now + ttl
    this.#expiry.push(record.meta.expiresAt, key)
  }

  async patch(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    const now = Date.now()
    this.#sweep(now)
    const stored = this.#live(key, now)
    if (!stored) return 'missing'
    // Apply to a copy first: a change that throws (increment of a string) leaves the record intact.
    const next = applyChanges(cloneRecord(stored), changes, options.codec, options.ttl, now)
    this.#store(key, next)
    return 'applied'
  }

  /** Atomic: nothing else runs between the check of the old key and the move. */
  async rename(fromKey: string, toKey: string, record: StoredRecord, ttl: number): Promise<boolean> {
    const now = Date.now()
    if (!this.#live(fromKey, now)) return false
    this.#remove(fromKey)
    const copy = cloneRecord(record)
    copy.meta.expiresAt = now + ttl
    if (!this.#records.has(toKey) && this.#records.size >= this.#maxSessions) this.#evictOne()
    this.#store(toKey, copy)
    return true
  }

  async gc(): Promise<number> {
    return this.#sweep(Date.now(), Number.POSITIVE_INFINITY)
  }

  async listByUser(userId: string): Promise<SessionSummary[]> {
    const now = Date.now()
    const summaries: SessionSummary[] = []
    for (const key of [...(this.#byUser.get(userId) ?? [])]) {
      const record = this.#live(key, now)
      const summary = record && summarize(key, record)
      if (summary) summaries.push(summary)
    }
    return summaries
  }

  async destroyByUser(userId: string, options: { exceptKeys?: readonly string[] } = {}): Promise<number> {
    const except = new Set(options.exceptKeys ?? [])
    let removed = 0
    for (const key of [...(this.#byUser.get(userId) ?? [])]) {
      if (except.has(key)) continue
      if (this.#remove(key)) removed += 1
    }
    return removed
  }

  async lock(key: string, ttl: number): Promise<Unlock> {
    const release = await this.#locks.acquire(key)
    const lease = setTimeout(release, ttl)
    return async () => {
      clearTimeout(lease)
      release()
    }
  }

  async close(): Promise<void> {
    this.#records.clear()
    this.#byUser.clear()
  }

  #live(key: string, now: number): StoredRecord | undefined {
    const record = this.#records.get(key)
    if (record && isExpired(record, now)) {
      this.#remove(key)
      return undefined
    }
    return record
  }

  #store(key: string, record: StoredRecord): void {
    const previous = this.#records.get(key)
    if (previous?.meta.userId !== undefined && previous.meta.userId !== record.meta.userId) {
      this.#unindex(previous.meta.userId, key)
    }
    this.#records.set(key, record)
    if (record.meta.userId !== undefined) {
      let keys = this.#byUser.get(record.meta.userId)
      if (!keys) this.#byUser.set(record.meta.userId, (keys = new Set()))
      keys.add(key)
    }
    if (previous?.meta.expiresAt !== record.meta.expiresAt) this.#expiry.push(record.meta.expiresAt, key)
  }

  #remove(key: string): boolean {
    const record = this.#records.get(key)
    if (!record) return false
    this.#records.delete(key)
    if (record.meta.userId !== undefined) this.#unindex(record.meta.userId, key)
    return true
  }

  #unindex(userId: string, key: string): void {
    const keys = this.#byUser.get(userId)
    keys?.delete(key)
    if (keys?.size === 0) this.#byUser.delete(userId)
  }

  /**
   * Drops records whose expiry has passed. Work is proportional to the heap entries that are due,
   * so writes can call it cheaply; heap entries left behind by touches are discarded as they surface.
   */
  #sweep(now: number, budget = 64): number {
    let removed = 0
    while (budget > 0 && (this.#expiry.peek() ?? Number.POSITIVE_INFINITY) <= now) {
      budget -= 1
      const key = this.#expiry.pop() as string
      const record = this.#records.get(key)
      if (record && isExpired(record, now) && this.#remove(key)) removed += 1
    }
    return removed
  }

  #evictOne(): void {
    while (this.#expiry.size > 0) {
      const at = this.#expiry.peek()
      const key = this.#expiry.pop() as string
      // Skip heap entries left behind by a touch: the record now expires later.
      if (this.#records.get(key)?.meta.expiresAt === at && this.#remove(key)) return
    }
  }
}

/** Creates an in-memory driver. */
export function memoryDriver(options: MemoryDriverOptions = {}): MemoryDriver {
  return new MemoryDriver(options)
}

export default memoryDriver
