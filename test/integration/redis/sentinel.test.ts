import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { SessionManager } from '../../../src/manager/manager.js'
import { RedisServer, redisMissing } from '../../helpers/redis-server.js'

// A primary, a replica and one Sentinel on loopback ports; the driver finds the primary through
// the Sentinel and follows a forced failover.
const missing = await redisMissing({ binaries: true })

async function eventually(what: string, check: () => Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${limitMs} ms`)
    await sleep(50)
  }
}

describe('redis driver: Sentinel', { skip: missing ?? false }, () => {
  let primary: RedisServer
  let replica: RedisServer
  let sentinel: RedisServer
  let manager: SessionManager

  before(async () => {
    primary = await RedisServer.start()
    replica = await RedisServer.start({ replicaOf: primary.port })
    sentinel = await RedisServer.start({ sentinelOf: primary.port })
    manager = new SessionManager({
      driver: 'redis',
      connection: { sentinels: [{ host: sentinel.host, port: sentinel.port }], name: 'mymaster' },
    })
  })

  after(async () => {
    await manager?.close()
    await Promise.all([sentinel, replica, primary].map((server) => server?.stop()))
  })

  it('reads and writes through the primary the Sentinel names, and keeps working after a failover', async () => {
    // A replica's first sync can take seconds on a loaded machine: write only once it is linked.
    const linked = new Redis(replica.port, '127.0.0.1')
    await eventually('the replica to finish its first sync', async () =>
      (await linked.info('replication')).includes('master_link_status:up'),
    )
    linked.disconnect()
    const created = await manager.open()
    created.put('cart', 3)
    await created.save()
    const id = created.sessionId
    const direct = new Redis(primary.port, '127.0.0.1')
    const sentinelClient = new Redis(sentinel.port, '127.0.0.1')
    const promoted = new Redis(replica.port, '127.0.0.1')
    try {
      assert.ok((await direct.dbsize()) >= 1, 'the session must be on the primary')
      assert.equal(await direct.wait(1, 15_000), 1, 'the replica must have the session before the failover')
      await eventually('the Sentinel to see the replica', async () => {
        const replicas = (await sentinelClient.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]
        return replicas.length === 1
      })
      await sentinelClient.call('SENTINEL', 'FAILOVER', 'mymaster')
      await eventually('the replica to become primary', async () => (await promoted.role())[0] === 'master')
      await eventually('a write through the driver after the failover', async () => {
        const session = await manager.open({ id })
        if (session.get('cart') !== 3) return false
        session.increment('cart')
        await session.save()
        return true
      })
      assert.equal((await manager.open({ id })).get('cart'), 4)
    } finally {
      for (const client of [direct, sentinelClient, promoted]) client.disconnect()
    }
  })
})
