import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { SessionCodec } from '../../../src/session/codec.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import { RedisDriver } from '../../../src/drivers/redis.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'
import { redisMissing } from '../../helpers/redis-server.js'

const missing = await redisMissing()
const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`
const N = 200
const secret = randomBytes(32).toString('base64url')

const managers: SessionManager[] = []
const drivers: RedisDriver[] = []
after(async () => {
  await Promise.all(managers.map((m) => m.close()))
  await Promise.all(drivers.map((d) => d.close()))
  if (missing) return
  const cleaner = new RedisDriver({ prefix })
  const client = await cleaner.client()
  const keys = await client.keys(`${prefix}*`)
  if (keys.length > 0) await client.del(...keys)
  await cleaner.close()
})

for (const encrypted of [false, true]) {
  describe(`redis: ${N} concurrent requests on one session (encryption ${encrypted ? 'on' : 'off'})`, { skip: missing ?? false }, () => {
    const manager = (): SessionManager => {
      const created = new SessionManager({
        driver: 'redis',
        connection: { host: '127.0.0.1', port: 6379 },
        prefix,
        ...(encrypted ? { encryption: { key: secret } } : {}),
      })
      managers.push(created)
      return created
    }

    it(`RACE: ${N} requests that each set their own key all persist`, async () => {
      const sessions = manager()
      const first = await sessions.open()
      first.put('owner', 'ada')
      await first.save()
      const id = first.sessionId
      await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const session = await sessions.open({ id })
          session.put(`k${i}`, i)
          await session.save()
        }),
      )
      const back = await sessions.open({ id })
      for (let i = 0; i < N; i++) assert.equal(back.get(`k${i}`), i, `k${i} lost`)
      assert.equal(back.get('owner'), 'ada')
    })

    it(`RACE: ${N} concurrent increments all count`, async () => {
      const sessions = manager()
      const first = await sessions.open()
      first.put('n', 0)
      await first.save()
      const id = first.sessionId
      await Promise.all(
        Array.from({ length: N }, async () => {
          const session = await sessions.open({ id })
          session.increment('n')
          session.push('log', 1)
          await session.save()
        }),
      )
      const back = await sessions.open({ id })
      assert.equal(back.get('n'), N)
      assert.equal((back.get('log') as unknown[]).length, N)
    })
  })
}

describe('redis: sealed increments from two processes (separate connections) merge by compare-and-set', { skip: missing ?? false }, () => {
  it(`RACE: ${N} increments split over two drivers all count`, async () => {
    const codec = new SessionCodec(typedJsonSerializer, new Keyring([secret], 'encryption.key'))
    const [a, b] = [new RedisDriver({ prefix }), new RedisDriver({ prefix })]
    drivers.push(a, b)
    const key = randomKey()
    const record = makeRecord({})
    record.data.n = codec.encode(0, 'n')
    await a.write(key, record, 60_000)
    await Promise.all(
      Array.from({ length: N }, (_, i) => (i % 2 === 0 ? a : b).patch(key, [{ op: 'increment', key: 'n', by: 1 }], { ttl: 60_000, codec })),
    )
    const stored = await a.read(key)
    assert.ok(stored)
    assert.notEqual(stored.data.n, String(N), 'the value must stay sealed in the store')
    assert.equal(codec.decode(stored.data.n as string, 'n'), N)
    assert.equal(stored.meta.version, 1 + N)
  })
})
