import type { Change, PatchOptions, PatchResult, SessionDriver, StoredRecord } from '../../src/drivers/contract.js'
import { MemoryDriver } from '../../src/drivers/memory.js'

/** Wraps a driver and counts calls per method, to assert what a request costs the store. */
export class CountingDriver implements SessionDriver {
  readonly name = 'counting'
  readonly calls = { read: 0, write: 0, destroy: 0, touch: 0, gc: 0, patch: 0 }
  constructor(readonly inner: MemoryDriver = new MemoryDriver()) {}

  get writes(): number {
    return this.calls.write + this.calls.patch + this.calls.touch + this.calls.destroy
  }

  reset(): void {
    for (const key of Object.keys(this.calls) as (keyof typeof this.calls)[]) this.calls[key] = 0
  }

  read(key: string): Promise<StoredRecord | null> {
    this.calls.read += 1
    return this.inner.read(key)
  }
  write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    this.calls.write += 1
    return this.inner.write(key, record, ttl)
  }
  destroy(key: string): Promise<void> {
    this.calls.destroy += 1
    return this.inner.destroy(key)
  }
  touch(key: string, ttl: number): Promise<void> {
    this.calls.touch += 1
    return this.inner.touch(key, ttl)
  }
  gc(): Promise<number> {
    this.calls.gc += 1
    return this.inner.gc()
  }
  patch(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    this.calls.patch += 1
    return this.inner.patch(key, changes, options)
  }
}
