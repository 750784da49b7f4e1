import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import { SessionManager } from '../../../src/manager/manager.js'
import type { StoredRecord } from '../../../src/drivers/contract.js'

/** A memory driver whose next `write` fails, as a store would on a lost connection. */
class FailingOnceDriver extends MemoryDriver {
  failNext = false
  override async write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    if (this.failNext) {
      this.failNext = false
      throw new Error('connection lost')
    }
    return super.write(key, record, ttl)
  }
}

describe('maxSessionsPerUser: a login whose write fails', () => {
  for (const onLimit of ['refuse', 'evict-oldest'] as const) {
    it(`releases the user's lock at once (${onLimit}), so the next login of that user is not held for the lock's lease`, async () => {
      const driver = new FailingOnceDriver()
      const manager = new SessionManager({ drivers: { main: driver }, maxSessionsPerUser: { max: 1, onLimit } })
      driver.failNext = true
      await assert.rejects(
        manager.users.create('ada'),
        (error: Error) => error.name === 'SessionStoreError' && (error.cause as Error).message === 'connection lost',
      )
      // The lock lease is 10 s: a login still waiting after 2 s is waiting for a lock nobody holds.
      const next = await Promise.race([manager.users.create('ada'), sleep(2_000).then(() => 'blocked' as const)])
      assert.notEqual(next, 'blocked')
      assert.equal((await manager.users.list('ada')).length, 1)
      await manager.close()
    })
  }
})
