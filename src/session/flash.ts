import type { Change } from '../drivers/contract.js'
import type { SessionCodec } from './codec.js'

/**
 * Reads a dot path (`errors.title`, `items.0.name`) through own properties only, so paths such
 * as `__proto__.x` or `constructor.name` never reach a prototype.
 */
export function readPath(source: unknown, path: string): unknown {
  let current: unknown = source
  for (const segment of path.split('.')) {
    if (current instanceof Map) {
      current = current.get(segment)
      continue
    }
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined
    current = (current as Record<string, unknown>)[segment]
  }
  return current
}

/** The flash messages sent by the previous request, read-only. */
export class FlashMessages {
  readonly #bag: Readonly<Record<string, unknown>>

  constructor(bag: Record<string, unknown> = {}) {
    this.#bag = bag
  }

  /** The value at a dot path, or `defaultValue` when it is missing, null or undefined. */
  get<T = unknown>(path: string, defaultValue?: T): T {
    return (readPath(this.#bag, path) ?? defaultValue) as T
  }

  /** True when a value exists at the dot path (and is not null/undefined). */
  has(path: string): boolean {
    return readPath(this.#bag, path) != null
  }

  /** Every flash message, as a new object. */
  all(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.#bag))
  }

  get isEmpty(): boolean {
    return Object.keys(this.#bag).length === 0
  }
}

function nullObject(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>
}

/** The key flash bags are sealed under (bound into the ciphertext like any value's key). */
const FLASH_KEY = '__flash__'

/** A change-log entry that replaces the stored flash bag. */
export type FlashChange = Extract<Change, { op: 'flash' }>

/**
 * A session's flash: the messages the previous request left (incoming, read-only) and the ones
 * this request sends to the next (outgoing), with what the stored record holds, so a save knows
 * whether the stored bag must change.
 */
export class FlashBag {
  readonly #codec: SessionCodec
  readonly #incoming: Record<string, unknown>
  readonly messages: FlashMessages
  /** What the stored record's flash bag holds: nothing, last request's messages, or ours. */
  #stored: 'none' | 'incoming' | 'outgoing'
  readonly #outgoing = new Map<string, unknown>()
  #dirty = false

  /** `stored` is the record's encoded bag (null for none or a new session). */
  constructor(codec: SessionCodec, stored: string | null = null) {
    this.#codec = codec
    this.#stored = stored === null ? 'none' : 'incoming'
    this.#incoming = stored === null ? nullObject() : this.#decode(stored)
    this.messages = new FlashMessages(this.#incoming)
  }

  /** True when this request queued messages for the next one. */
  get hasOutgoing(): boolean {
    return this.#outgoing.size > 0
  }

  /** True when the stored bag may need to change: new messages, or the shown ones to clear. */
  get changed(): boolean {
    return this.#dirty || this.#stored === 'incoming'
  }

  /** Queues a message for the next request; an unstorable value throws now, not at save. */
  set(key: string, value: unknown): void {
    this.#codec.encode(value, key)
    this.#outgoing.set(key, value)
    this.#dirty = true
  }

  /** Keeps the previous request's messages for one more request: the named ones, or all but `except`. */
  reflash(only: readonly string[] | null, except: readonly string[] = []): void {
    const skip = new Set(except)
    for (const key of only ?? Object.keys(this.#incoming)) {
      if (skip.has(key) || !Object.hasOwn(this.#incoming, key)) continue
      if (!this.#outgoing.has(key)) this.#outgoing.set(key, this.#incoming[key])
      this.#dirty = true
    }
  }

  /** Drops every queued message. */
  discardOutgoing(): void {
    if (this.#outgoing.size > 0) this.#dirty = true
    this.#outgoing.clear()
  }

  /** The flash change a patch must send: our new messages, or clearing the ones just shown. */
  change(): FlashChange | null {
    if (this.#dirty) {
      if (this.#outgoing.size > 0) return { op: 'flash', value: this.#encodeOutgoing() }
      return this.#stored === 'none' ? null : { op: 'flash', value: null }
    }
    return this.#stored === 'incoming' ? { op: 'flash', value: null } : null
  }

  /** The flash bag a record written in full now must hold: the queued messages, or none. */
  forRecord(): string | null {
    return this.#outgoing.size > 0 ? this.#encodeOutgoing() : null
  }

  /** Records that the store now holds `value` as the flash bag. */
  settle(value: string | null): void {
    this.#stored = value === null ? 'none' : 'outgoing'
    this.#dirty = false
  }

  #encodeOutgoing(): string {
    return this.#codec.encode(Object.fromEntries(this.#outgoing), FLASH_KEY)
  }

  #decode(encoded: string): Record<string, unknown> {
    try {
      const bag = this.#codec.decode(encoded, FLASH_KEY)
      if (typeof bag === 'object' && bag !== null && !Array.isArray(bag)) return Object.assign(nullObject(), bag)
    } catch {
      // Undecodable flash (e.g. sealed with a retired key) is dropped: flash is disposable.
    }
    return nullObject()
  }
}
