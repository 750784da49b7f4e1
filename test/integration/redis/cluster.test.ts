import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Cluster } from 'ioredis'
import { RedisDriver } from '../../../src/drivers/redis.js'
import { makeRecord, randomKey, runDriverConformance } from '../../../src/testing/conformance.js'
import { RedisCluster, redisMissing } from '../../helpers/redis-server.js'

// A real 3-master Redis Cluster on loopback ports, started here and stopped afterwards.
const missing = await redisMissing({ binaries: true })
const cluster = missing ? null : await RedisCluster.start(3)
const suite = missing ? (name: string, fn: () => void) => describe(name, { skip: missing }, fn) : describe

runDriverConformance({
  name: 'redis cluster (3 masters)',
  create: () => new RedisDriver({ connection: { cluster: { nodes: cluster?.nodes ?? [] } } }),
  createPeer: () => new RedisDriver({ connection: { cluster: { nodes: cluster?.nodes ?? [] } } }),
  describe: suite,
  it,
  after,
  expiryResolution: 100,
})

suite('redis cluster: placement', () => {
  it('spreads sessions over every master, each session in one slot with its lock', async () => {
    const driver = new RedisDriver({ connection: { cluster: { nodes: cluster?.nodes ?? [] } } })
    const probe = new Cluster(cluster?.nodes ?? [])
    try {
      const keys = Array.from({ length: 60 }, () => randomKey())
      for (const key of keys) await driver.write(key, makeRecord({ a: 1 }), 60_000)
      const owners = new Set<string>()
      for (const key of keys) {
        const slot = await probe.cluster('KEYSLOT', driver.keys.session(key))
        assert.equal(await probe.cluster('KEYSLOT', driver.keys.lock(key)), slot, 'a session and its lock must share a slot')
        owners.add(String(probe.slots[slot as number]?.[0]))
      }
      assert.equal(owners.size, 3, 'sessions should land on all three masters')
      const unlock = await driver.lock(keys[0] as string, 5_000)
      await unlock()
    } finally {
      await driver.close()
      await probe.quit()
    }
  })
})

after(async () => {
  await cluster?.stop()
})
