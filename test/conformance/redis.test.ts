import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { RedisDriver } from '../../src/drivers/redis.js'
import { runDriverConformance } from '../../src/testing/conformance.js'
import { redisMissing } from '../helpers/redis-server.js'

// Standalone Redis on 127.0.0.1:6379, under a prefix of its own that is removed afterwards.
const missing = await redisMissing()
const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`
if (!missing) {
  after(async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379 })
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
    await client.quit()
  })
}
runDriverConformance({
  name: 'redis',
  create: () => new RedisDriver({ connection: { host: '127.0.0.1', port: 6379 }, prefix }),
  createPeer: () => new RedisDriver({ connection: { host: '127.0.0.1', port: 6379 }, prefix }),
  describe: missing ? (name, fn) => describe(name, { skip: missing }, fn) : describe,
  it,
  after,
})
