import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { SessionCodec } from '../../../src/session/codec.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import type { Change } from '../../../src/drivers/contract.js'
import redisDriver, { REDIS_CLIENT, RedisDriver } from '../../../src/drivers/redis.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { SessionConfigError, SessionConflictError, SessionTypeError } from '../../../src/lib/errors.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'
import { RedisServer, redisMissing } from '../../helpers/redis-server.js'

const missing = await redisMissing({ server: true, binaries: true })
const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`
const plain = new SessionCodec(typedJsonSerializer)
const sealed = new SessionCodec(typedJsonSerializer, new Keyring([randomBytes(32)]))
const ttl = 60_000

const opened: { close(): Promise<unknown> }[] = []
const driver = (options: ConstructorParameters<typeof RedisDriver>[0] = {}): RedisDriver => {
  const created = new RedisDriver({ prefix, ...options })
  opened.push(created)
  return created
}
let raw: Redis | undefined
const redis = (): Redis => (raw ??= new Redis({ host: '127.0.0.1', port: 6379 }))

after(async () => {
  for (const item of opened) await item.close()
  if (raw) {
    const keys = await raw.keys(`${prefix}*`)
    if (keys.length > 0) await raw.del(...keys)
    await raw.quit()
  }
})

describe('redis driver: packaging and configuration', () => {
  it('declares ioredis as it is listed in package.json (optional peer dependency)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      peerDependencies: Record<string, string>
      peerDependenciesMeta: Record<string, { optional?: boolean }>
    }
    assert.equal(pkg.peerDependencies[REDIS_CLIENT.package], REDIS_CLIENT.range)
    assert.equal(pkg.peerDependenciesMeta[REDIS_CLIENT.package]?.optional, true)
  })

  it('rejects a prefix with hash-tag braces, bad numbers and an unknown connection name', () => {
    assert.throws(() => new RedisDriver({ prefix: 'app:{x}:' }), SessionConfigError)
    assert.throws(() => new RedisDriver({ lockWait: -1 }), SessionConfigError)
    assert.throws(
      () => new RedisDriver({ connection: 'main', connections: { local: { port: 6379 } } }),
      (error: unknown) => error instanceof SessionConfigError && /"main"/.test(error.message) && /local/.test(error.message),
    )
    assert.throws(() => new RedisDriver({ connection: 'local' }), /no "connections" map is configured/)
    assert.throws(() => new RedisDriver({ connection: { cluster: { nodes: [] } } }), /cluster\.nodes must list at least one node/)
    assert.throws(() => new RedisDriver({ connection: 6379 as never }), /"connection" must be/)
  })

  it('rejects unknown options, naming the closest known one', async () => {
    assert.throws(
      () => redisDriver({ conection: { host: '127.0.0.1' } } as never),
      (error: unknown) =>
        error instanceof SessionConfigError &&
        /unknown option "conection"/.test(error.message) &&
        /Did you mean "connection"/.test(error.message),
    )
    // The connection sources of 0.1 are gone: each now is a form of `connection`.
    for (const old of ['url', 'client', 'cluster']) {
      assert.throws(() => redisDriver({ [old]: 'x' } as never), new RegExp(`unknown option "${old}"`))
    }
    // The manager's config check catches it at construction, before any driver is loaded.
    assert.throws(
      () => new SessionManager({ driver: 'redis', conection: 'redis://127.0.0.1' } as never),
      /unknown option "conection"\. Did you mean "connection"/,
    )
  })

  it('redisConnection is a config alias (docs/seeds.md): a driver built directly knows only connection', () => {
    assert.throws(
      () => new RedisDriver({ redisConnection: 'local' } as never),
      /unknown option "redisConnection"\. Did you mean "connection"/,
    )
    assert.throws(
      () => new SessionManager({ driver: 'redis', redisConnection: 'local', connection: 'redis://x' } as never),
      /give only connection/,
    )
  })
})

describe('redis driver: against 127.0.0.1:6379', { skip: missing ?? false }, () => {
  it('connects through redisConnection naming an entry of connections (alias, docs/seeds.md)', async () => {
    const manager = new SessionManager({
      driver: 'redis',
      redisConnection: 'local',
      connections: { local: { host: '127.0.0.1', port: 6379, db: 0 } },
      prefix,
    })
    opened.push(manager)
    const session = await manager.open()
    session.put('cart', 3)
    await session.save()
    assert.equal((await manager.open({ id: session.sessionId })).get('cart'), 3)
    assert.equal(await redis().exists(`${prefix}{${SessionManager.storageKey(session.sessionId)}}`), 1)
  })

  it('connects through connection naming an entry of connections, and through a URL', async () => {
    const named = driver({ connection: 'local', connections: { local: { host: '127.0.0.1', port: 6379 } } })
    const url = driver({ connection: 'redis://127.0.0.1:6379/0' })
    const key = randomKey()
    await named.write(key, makeRecord({ a: 1 }), ttl)
    assert.ok(await url.read(key))
  })

  it('uses an injected client and leaves it open on close()', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379 })
    const injected = redisDriver({ connection: client, prefix })
    const key = randomKey()
    await injected.write(key, makeRecord({ a: 1 }), ttl)
    assert.ok(await injected.read(key))
    await injected.close?.()
    assert.equal(await client.ping(), 'PONG')
    await client.quit()
  })

  it('keeps a native TTL on the session key and re-arms it on touch', async () => {
    const store = driver()
    const key = randomKey()
    await store.write(key, makeRecord({ a: 1 }), 5_000)
    const first = await redis().pttl(store.keys.session(key))
    assert.ok(first > 0 && first <= 5_000)
    await store.touch(key, 50_000)
    assert.ok((await redis().pttl(store.keys.session(key))) > 5_000)
  })

  it('server-side increments give exactly what JavaScript would (property)', async () => {
    const store = driver()
    const safe = fc.integer({ min: -(2 ** 40), max: 2 ** 40 })
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(safe, fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })),
        safe,
        async (start, by) => {
          const key = randomKey()
          const record = makeRecord({})
          record.data.n = plain.encode(start, 'n')
          await store.write(key, record, ttl)
          assert.equal(await store.patch(key, [{ op: 'increment', key: 'n', by }], { ttl, codec: plain }), 'applied')
          const back = await store.read(key)
          assert.ok(back)
          assert.equal(back.data.n, plain.encode(start + by, 'n'))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('refuses to increment a string and leaves the session as it was', async () => {
    const store = driver()
    const key = randomKey()
    await store.write(key, makeRecord({ n: 'five' }), ttl)
    for (const codec of [plain, sealed]) {
      const record = makeRecord({})
      record.data.n = codec.encode('five', 'n')
      await store.write(key, record, ttl)
      await assert.rejects(
        store.patch(
          key,
          [
            { op: 'set', key: 'x', value: codec.encode(1, 'x') },
            { op: 'increment', key: 'n', by: 1 },
          ],
          { ttl, codec },
        ),
        SessionTypeError,
      )
      const back = await store.read(key)
      assert.equal(back?.meta.version, 1)
      assert.equal(back?.data.x, undefined)
    }
  })

  it('applies sealed increments and pushes in JavaScript, keeping values sealed', async () => {
    const store = driver()
    const key = randomKey()
    const record = makeRecord({})
    record.data.n = sealed.encode(5, 'n')
    await store.write(key, record, ttl)
    const changes: Change[] = [
      { op: 'increment', key: 'n', by: 2 },
      { op: 'push', key: 'list', value: sealed.encode('a', 'list') },
      { op: 'push', key: 'list', value: sealed.encode('b', 'list') },
    ]
    assert.equal(await store.patch(key, changes, { ttl, codec: sealed }), 'applied')
    const back = await store.read(key)
    assert.ok(back)
    assert.equal(sealed.decode(back.data.n as string, 'n'), 7)
    assert.deepEqual(sealed.decode(back.data.list as string, 'list'), ['a', 'b'])
    assert.doesNotMatch((await redis().hget(store.keys.session(key), 'd:list')) ?? '', /"a"/)
  })

  it('recovers when the server forgot its scripts (SCRIPT FLUSH, restart)', async () => {
    // A server of its own: flushing the shared server's script cache would disturb other tests.
    const server = await RedisServer.start()
    try {
      const store = new RedisDriver({ connection: server.url })
      const key = randomKey()
      await store.write(key, makeRecord({ n: 1 }), ttl)
      const probe = new Redis(server.port, '127.0.0.1')
      await probe.script('FLUSH')
      await probe.quit()
      assert.equal(await store.patch(key, [{ op: 'increment', key: 'n', by: 1 }], { ttl, codec: plain }), 'applied')
      assert.equal((await store.read(key))?.data.n, '2')
      await store.close()
    } finally {
      await server.stop()
    }
  })

  it('moves a session between user indexes when its user changes, and prunes destroyed ones', async () => {
    const store = driver()
    const [alice, bob] = [`alice-${randomKey()}`, `bob-${randomKey()}`]
    const key = randomKey()
    await store.write(key, makeRecord({}, { userId: alice }), ttl)
    await store.patch(key, [{ op: 'user', userId: bob }], { ttl, codec: plain })
    assert.deepEqual(await store.listByUser(alice), [])
    assert.deepEqual(
      (await store.listByUser(bob)).map((s) => s.key),
      [key],
    )
    assert.equal(await redis().zcard(store.keys.userIndex(alice)), 0)
    await store.destroy(key)
    assert.equal(await redis().zcard(store.keys.userIndex(bob)), 0)
  })

  it('a user binding in a patch for a destroyed session leaves no index entry', async () => {
    const store = driver()
    const user = `user-${randomKey()}`
    const key = randomKey()
    assert.equal(await store.patch(key, [{ op: 'user', userId: user }], { ttl, codec: plain }), 'missing')
    assert.equal(await redis().zcard(store.keys.userIndex(user)), 0)
  })

  it('gc prunes index entries of sessions that expired, and keeps live ones', async () => {
    const store = driver()
    const user = `user-${randomKey()}`
    const [live, expiring] = [randomKey(), randomKey()]
    await store.write(live, makeRecord({}, { userId: user }), ttl)
    await store.write(expiring, makeRecord({}, { userId: user }), 30)
    await sleep(120)
    assert.equal(await redis().zcard(store.keys.userIndex(user)), 2)
    assert.equal(await store.gc(), 0)
    assert.deepEqual(await redis().zrange(store.keys.userIndex(user), 0, -1), [live])
  })

  it("a holder whose lease ran out cannot release the next holder's lock", async () => {
    const store = driver({ lockWait: 200 })
    const key = randomKey()
    const stale = await store.lock(key, 30)
    await sleep(80)
    const current = await store.lock(key, 10_000)
    await stale()
    await assert.rejects(store.lock(key, 10_000), SessionConflictError)
    await current()
    const next = await store.lock(key, 10_000)
    await next()
  })
})
