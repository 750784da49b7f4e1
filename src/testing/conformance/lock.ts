import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { supports, type SessionDriver, type StoredRecord } from '../../drivers/contract.js'
import { emptyData } from '../../drivers/record.js'
import { generateSessionId, storageKeyFor } from '../../lib/ids.js'

/** What the lock cases need from the suite. */
export interface LockSuite {
  /** The runner's `describe` and `it` (the suite's TestApi). */
  describe: (name: string, fn: () => void) => unknown
  it: (name: string, fn: (context?: unknown) => void | Promise<void>) => unknown
  /** The driver under test. */
  get(): Promise<SessionDriver>
  /** A second driver on the same store (another connection or process), when the store is shared. */
  peer?(): Promise<SessionDriver>
  resolution: number
  concurrency: number
}

const key = (): string => storageKeyFor(generateSessionId())

/** A small state record, as the security features keep them (no user, one field). */
function state(value: string): StoredRecord {
  const now = Date.now()
  const data = emptyData()
  data.value = value
  return { data, flash: null, meta: { createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, version: 1 } }
}

async function underLock<T>(driver: SessionDriver & Required<Pick<SessionDriver, 'lock'>>, lockKey: string, work: () => Promise<T>) {
  const release = await driver.lock(lockKey, 10_000)
  try {
    return await work()
  } finally {
    await release()
  }
}

/**
 * `lock`: mutual exclusion per key. The security features build their atomic steps on it
 * (single-use remember-me tokens, rate-limit buckets, `maxSessionsPerUser`), so it must hold for
 * many parallel holders, and across every connection to a shared store.
 */
export function lockCases(suite: LockSuite): void {
  const { describe, it, get, resolution, concurrency } = suite
  const lockable = async (t: unknown) => {
    const store = await get()
    if (supports(store, 'lock')) return store
    ;(t as { skip?: (message: string) => void } | undefined)?.skip?.('driver has no lock')
    return null
  }
  /** The driver for the i-th parallel caller: every other one goes through the peer, when there is one. */
  const holders = async (store: SessionDriver) => {
    const peer = suite.peer ? await suite.peer() : store
    if (!supports(peer, 'lock')) throw new assert.AssertionError({ message: 'the peer driver has no lock' })
    return (i: number) => (i % 2 === 0 ? store : peer) as SessionDriver & Required<Pick<SessionDriver, 'lock'>>
  }

  describe('lock', () => {
    it('serializes holders of the same key', async (t?: unknown) => {
      const store = await lockable(t)
      if (!store) return
      const lockKey = key()
      const order: string[] = []
      const first = await store.lock(lockKey, 5_000)
      const second = store.lock(lockKey, 5_000).then(async (release) => {
        order.push('second')
        await release()
      })
      await sleep(resolution)
      order.push('first')
      await first()
      await second
      assert.deepEqual(order, ['first', 'second'])
    })

    it('a lease ends by itself when its holder never releases it', async (t?: unknown) => {
      const store = await lockable(t)
      if (!store) return
      const lockKey = key()
      await store.lock(lockKey, resolution * 2) // never released
      const release = await store.lock(lockKey, 5_000)
      await release()
    })

    it('a lease left by another connection ends by itself, and only then can this one take it', async (t?: unknown) => {
      const store = await lockable(t)
      if (!store) return
      const other = (await holders(store))(1)
      const lockKey = key()
      const started = Date.now()
      await other.lock(lockKey, resolution * 4) // never released
      const release = await store.lock(lockKey, 5_000)
      assert.ok(Date.now() - started >= resolution * 4 - 5, 'taken only after the first lease ended')
      await release()
    })

    it(`race: ${concurrency} parallel read-increment-writes under the lock (two connections when shared) lose no update`, async (t?: unknown) => {
      const store = await lockable(t)
      if (!store) return
      const driver = await holders(store)
      const recordKey = key()
      await store.write(recordKey, state('0'), 60_000)
      await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          underLock(driver(i), `${recordKey}.lock`, async () => {
            const current = await driver(i).read(recordKey)
            await driver(i).write(recordKey, state(String(Number(current?.data.value) + 1)), 60_000)
          }),
        ),
      )
      assert.equal((await store.read(recordKey))?.data.value, String(concurrency))
    })

    it(`race: a consume-once under the lock has exactly one winner among ${concurrency} parallel callers`, async (t?: unknown) => {
      const store = await lockable(t)
      if (!store) return
      const driver = await holders(store)
      const recordKey = key()
      await store.write(recordKey, state('live'), 60_000)
      const outcomes = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          underLock(driver(i), `${recordKey}.lock`, async () => {
            if ((await driver(i).read(recordKey))?.data.value !== 'live') return false
            await driver(i).write(recordKey, state('used'), 60_000)
            return true
          }),
        ),
      )
      assert.equal(outcomes.filter(Boolean).length, 1)
    })

    it('locks of different keys do not wait for each other', async (t?: unknown) => {
      const store = await lockable(t)
      if (!store) return
      const held = await store.lock(key(), 5_000)
      const started = Date.now()
      const other = await store.lock(key(), 5_000)
      await other()
      await held()
      assert.ok(Date.now() - started < 1_000)
    })
  })
}
