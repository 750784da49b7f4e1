import type { CookieJar } from '../../src/drivers/contract.js'

/** A browser-like jar: sets and deletes persist; `sets` records the Max-Age of each set. */
export class MemoryJar implements CookieJar {
  readonly values = new Map<string, string>()
  readonly sets: { name: string; value: string; maxAge?: number }[] = []
  get(name: string): string | undefined {
    return this.values.get(name)
  }
  set(name: string, value: string, options: { maxAge?: number } = {}): void {
    this.values.set(name, value)
    this.sets.push({ name, value, ...options })
  }
  delete(name: string): void {
    this.values.delete(name)
  }
}
