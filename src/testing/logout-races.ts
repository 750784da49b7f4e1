import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Change, PatchOptions, SessionDriver, StoredRecord } from '../drivers/contract.js'
import { patchRecord, readRecord, renameRecord, touchRecord } from '../drivers/fallbacks.js'
import { generateSessionId, storageKeyFor } from '../lib/ids.js'

/** What the "logout wins" cases need from the conformance suite that runs them. */
export interface LogoutRaceContext {
  describe: (name: string, fn: () => void) => unknown
  it: (name: string, fn: () => Promise<void>) => unknown
  get: () => Promise<SessionDriver>
  record: (values: Record<string, unknown>, options?: { userId?: string }) => StoredRecord
  patchOptions: PatchOptions
  concurrency: number
}

const key = (): string => storageKeyFor(generateSessionId())
const jitter = (): Promise<void> => sleep(Math.floor(Math.random() * 3))

/**
 * Concurrent cases of the conformance suite: a destroy that completed is final. No patch, touch
 * or rename (regenerate) in flight brings a destroyed record back, through the driver's own
 * method or the core's fallback for it. Each case runs `concurrency` races at once.
 */
export function logoutRaceCases(ctx: LogoutRaceContext): void {
  const { describe, it, get, record, patchOptions, concurrency } = ctx
  const ttl = patchOptions.ttl
  const change = (i: number): Change[] => [{ op: 'set', key: 'late', value: patchOptions.codec.encode(i, 'late') }]

  describe('logout wins (concurrent)', () => {
    it('RACE: a patch or touch in flight never brings a destroyed record back', async () => {
      const store = await get()
      const keys = Array.from({ length: concurrency }, key)
      await Promise.all(keys.map((k) => store.write(k, record({ a: 1, pad: 'x'.repeat(2048) }), ttl)))
      await Promise.all(
        keys.flatMap((k, i) => [
          jitter().then(() => patchRecord(store, k, change(i), patchOptions)),
          jitter().then(() => touchRecord(store, k, ttl)),
          jitter().then(() => store.destroy(k)),
        ]),
      )
      const back = (await Promise.all(keys.map((k) => readRecord(store, k)))).filter(Boolean).length
      assert.equal(back, 0, `${back} of ${keys.length} destroyed records came back`)
    })

    it('rename moves a live record, and refuses a destroyed or missing one without writing', async () => {
      const store = await get()
      const [from, to, gone, toGone] = [key(), key(), key(), key()]
      await store.write(from, record({ a: 1 }, { userId: 'u-rename' }), ttl)
      assert.equal(await renameRecord(store, from, to, record({ a: 2 }, { userId: 'u-rename' }), ttl), true)
      assert.equal(await readRecord(store, from), null)
      assert.equal((await readRecord(store, to))?.meta.userId, 'u-rename')
      await store.write(gone, record({ a: 1 }), ttl)
      await store.destroy(gone)
      assert.equal(await renameRecord(store, gone, toGone, record({ a: 2 }), ttl), false)
      assert.equal(await readRecord(store, toGone), null)
    })

    it('RACE: a rename (regenerate) racing a destroy of the old key leaves a new key only if it won', async () => {
      const store = await get()
      const pairs = Array.from({ length: concurrency }, () => [key(), key()] as const)
      await Promise.all(pairs.map(([from]) => store.write(from, record({ a: 1 }, { userId: 'u-race' }), ttl)))
      const moved = await Promise.all(
        pairs.map(async ([from, to]) => {
          const [result] = await Promise.all([
            jitter().then(() => renameRecord(store, from, to, record({ a: 2 }, { userId: 'u-race' }), ttl)),
            jitter().then(() => store.destroy(from)),
          ])
          return result
        }),
      )
      for (const [i, [from, to]] of pairs.entries()) {
        assert.equal(await readRecord(store, from), null, 'the old key must be gone')
        assert.equal(Boolean(await readRecord(store, to)), moved[i], 'the new key lives exactly when the rename reported success')
      }
      // A destroy that completed before the rename started always wins.
      const late = Array.from({ length: concurrency }, () => [key(), key()] as const)
      await Promise.all(late.map(([from]) => store.write(from, record({ a: 1 }), ttl)))
      await Promise.all(late.map(([from]) => store.destroy(from)))
      const results = await Promise.all(late.map(([from, to]) => renameRecord(store, from, to, record({ a: 2 }), ttl)))
      assert.deepEqual(new Set(results), new Set([false]))
      assert.equal((await Promise.all(late.map(([, to]) => readRecord(store, to)))).filter(Boolean).length, 0)
    })
  })
}
