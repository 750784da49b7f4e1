/**
 * Serializes async work per key within one process. Used by drivers whose read-modify-write
 * steps must not interleave (file patch, memory lock).
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>()

  /** Waits for earlier holders of `key`, then resolves with the function that releases it. */
  async acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const current = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => current)
    this.#tails.set(key, tail)
    await previous
    let released = false
    return () => {
      if (released) return
      released = true
      release()
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key)
    try {
      return await work()
    } finally {
      release()
    }
  }
}
