import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { SessionManager } from '../../../src/manager/manager.js'
import { SessionStoreError } from '../../../src/lib/errors.js'
import { storageKeyFor } from '../../../src/lib/ids.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'
import { RedisServer, redisMissing } from '../../helpers/redis-server.js'

/**
 * Driver-level faults on a redis-server this file starts (AOF, fsync always): paused past the
 * store timeout, then killed mid-load and restarted on the same port and directory.
 */
const missing = await redisMissing({ binaries: true })
const STORE_TIMEOUT = 300

const isTimeout = (error: unknown): boolean =>
  error instanceof SessionStoreError && error.code === 'E_SESSION_STORE_TIMEOUT' && error.status === 503

async function eventually(what: string, check: () => Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${limitMs} ms`)
    await sleep(20)
  }
}

describe('redis driver: faults', { skip: missing ?? false }, () => {
  let server: RedisServer
  let manager: SessionManager

  before(async () => {
    server = await RedisServer.start({ durable: true })
    manager = new SessionManager({ driver: 'redis', connection: server.url, storeTimeout: STORE_TIMEOUT })
  })

  after(async () => {
    await manager?.close()
    await server?.stop()
  })

  it('a paused server (SIGSTOP) makes every operation fail with E_SESSION_STORE_TIMEOUT, and SIGCONT restores service', async () => {
    const created = await manager.open()
    created.put('a', 1)
    await created.save()
    const id = created.sessionId
    const store = await manager.store()
    server.pause()
    try {
      await assert.rejects(manager.open({ id }), isTimeout)
      await assert.rejects(store.write(randomKey(), makeRecord({ b: 2 }), 60_000), isTimeout)
      await assert.rejects(store.touch(storageKeyFor(id), 60_000), isTimeout)
      await assert.rejects(store.listByUser('nobody'), isTimeout)
    } finally {
      server.resume()
    }
    await eventually('service after SIGCONT', async () => (await manager.open({ id })).get('a') === 1)
  })

  it('SIGKILL mid-load, restart: every acknowledged write survives, failures are SessionStoreErrors, the driver reconnects by itself', async (t) => {
    const base = await manager.open()
    base.put('n', 0)
    await base.save()
    const id = base.sessionId

    const acked = new Set<number>()
    const created = new Map<string, number>()
    let increments = 0
    let attempted = 0
    let failures = 0
    const unexpected: unknown[] = []
    let stop = false

    const writer = async (): Promise<void> => {
      while (!stop) {
        const i = attempted++
        try {
          if (i % 10 === 0) {
            const fresh = await manager.open()
            fresh.put('i', i)
            await fresh.save()
            created.set(fresh.sessionId, i)
          } else {
            const session = await manager.open({ id })
            session.put(`w${i}`, i)
            session.increment('n')
            await session.save()
            acked.add(i)
            increments += 1
          }
        } catch (error) {
          if (error instanceof SessionStoreError) failures += 1
          else unexpected.push(error)
          await sleep(5)
        }
      }
    }
    const writers = Array.from({ length: 8 }, writer)

    await eventually('100 acknowledged writes before the crash', async () => acked.size >= 100)
    await server.kill()
    const failuresAtKill = failures
    await eventually('requests failing while Redis is down', async () => failures >= failuresAtKill + 20)
    await server.restart()
    const ackedAtRestart = acked.size
    await eventually('writes acknowledged again after the restart', async () => acked.size >= ackedAtRestart + 100)
    stop = true
    await Promise.all(writers)

    t.diagnostic(`attempted ${attempted}, acknowledged ${acked.size + created.size}, failed with SessionStoreError ${failures}`)
    assert.deepEqual(unexpected, [], 'store failures must surface as SessionStoreError only')
    const after = await manager.open({ id })
    const lost = [...acked].filter((i) => after.get(`w${i}`) !== i)
    assert.deepEqual(lost, [], 'acknowledged writes were lost')
    // An increment whose reply was lost in the crash may have applied without being acknowledged.
    const n = after.get('n') as number
    assert.ok(n >= increments && n <= attempted, `counter ${n} must lie between ${increments} acknowledged and ${attempted} attempted`)
    for (const [createdId, i] of created)
      assert.equal((await manager.open({ id: createdId })).get('i'), i, 'an acknowledged new session was lost')
  })
})
