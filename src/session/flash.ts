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
