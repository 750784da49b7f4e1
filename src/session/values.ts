import type { Change } from '../drivers/contract.js'
import { emptyData } from '../drivers/record.js'
import { SessionTypeError } from '../lib/errors.js'
import type { SessionCodec } from './codec.js'

/**
 * A session's values and what this request did to them. Values stay encoded as loaded and are
 * decoded on first read, so a request pays only for what it reads; every change is kept in an
 * ordered change log that a save sends to the store instead of the whole snapshot.
 */
export class SessionValues {
  readonly #codec: SessionCodec
  /** Values as stored (encoded strings), kept in step with every change. */
  readonly #encoded = new Map<string, string>()
  /** Values decoded so far. */
  readonly #decoded = new Map<string, unknown>()
  /** Object values handed out or put: compared at save, so in-place mutations are saved too. */
  readonly #watched = new Set<string>()
  #changes: Change[] = []

  constructor(codec: SessionCodec, stored: Readonly<Record<string, string>> = {}) {
    this.#codec = codec
    for (const key of Object.keys(stored)) this.#encoded.set(key, stored[key] as string)
  }

  /** How many keys hold a value. */
  get size(): number {
    return this.#encoded.size
  }

  /** The change log of this request (in order), not yet saved. */
  get changes(): readonly Change[] {
    return this.#changes
  }

  keys(): string[] {
    return [...this.#encoded.keys()]
  }

  /** True when `key` is present (even holding null). */
  contains(key: string): boolean {
    return this.#encoded.has(key)
  }

  read(key: string): unknown {
    if (this.#decoded.has(key)) return this.#decoded.get(key)
    const encoded = this.#encoded.get(key)
    if (encoded === undefined) return undefined
    const value = this.#codec.decode(encoded, key)
    this.#decoded.set(key, value)
    return value
  }

  /** Reads a value that leaves the session: objects are watched for in-place changes. */
  readWatched(key: string): unknown {
    const value = this.read(key)
    if (value !== null && typeof value === 'object') this.#watched.add(key)
    return value
  }

  /** The named values that are present, decoded, as a new object (objects watched). */
  pick(keys: Iterable<string>): Record<string, unknown> {
    return Object.fromEntries([...keys].filter((key) => this.#encoded.has(key)).map((key) => [key, this.readWatched(key)]))
  }

  set(key: string, value: unknown): void {
    const encoded = this.#codec.encode(value, key)
    this.#hold(key, value, encoded)
    this.#changes.push({ op: 'set', key, value: encoded })
  }

  push(key: string, value: unknown): void {
    const current = this.read(key) ?? []
    if (!Array.isArray(current)) {
      throw new SessionTypeError(`Cannot push to "${key}": it holds ${describe(current)}, not an array.`)
    }
    const next = [...current, value]
    const element = this.#codec.encode(value, key)
    this.#hold(key, next, this.#codec.encode(next, key))
    this.#changes.push({ op: 'push', key, value: element })
  }

  /** Adds `by` (subtracts with `sign` -1) to the number at `key` (0 when missing); returns the new value. */
  increment(key: string, by: number, sign: 1 | -1 = 1): number {
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new SessionTypeError(
        `Cannot ${sign === 1 ? 'increment' : 'decrement'} "${key}" by ${String(by)}: the amount must be a finite number.`,
      )
    }
    by *= sign
    const current = this.read(key) ?? 0
    if (typeof current !== 'number') {
      throw new SessionTypeError(`Cannot increment or decrement "${key}": it holds ${describe(current)}, not a number.`)
    }
    const next = current + by
    this.#hold(key, next, this.#codec.encode(next, key))
    this.#changes.push({ op: 'increment', key, by })
    return next
  }

  forget(key: string): void {
    this.#encoded.delete(key)
    this.#decoded.delete(key)
    this.#watched.delete(key)
    this.#changes.push({ op: 'delete', key })
  }

  /** Removes every value; the change log restarts with one `clear`. */
  clear(): void {
    this.#encoded.clear()
    this.#decoded.clear()
    this.#watched.clear()
    this.#changes = [{ op: 'clear' }]
  }

  /** Object values may have been changed in place after `get`/`put`: re-encode and compare. */
  collectMutations(): void {
    const codec = this.#codec
    for (const key of this.#watched) {
      if (!this.#decoded.has(key)) continue
      const value = this.#decoded.get(key)
      const stored = this.#encoded.get(key)
      if (stored !== undefined && codec.matches(value, stored, key)) continue
      const encoded = codec.encode(value, key)
      this.#encoded.set(key, encoded)
      this.#changes.push({ op: 'set', key, value: encoded })
    }
  }

  /** Forgets the change log (it was saved, or the stored session is gone). */
  settle(): void {
    this.#changes = []
  }

  /** The encoded values, as a stored record's data. */
  toRecordData(): Record<string, string> {
    const data = emptyData()
    for (const [key, encoded] of this.#encoded) data[key] = encoded
    return data
  }

  #hold(key: string, value: unknown, encoded: string): void {
    this.#decoded.set(key, value)
    this.#encoded.set(key, encoded)
    if (value !== null && typeof value === 'object') this.#watched.add(key)
    else this.#watched.delete(key)
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
