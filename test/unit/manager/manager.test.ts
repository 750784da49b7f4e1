import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { decode, encode } from '@msgpack/msgpack'
import { z } from 'zod'
import { defineConfig } from '../../../src/config/resolve.js'
import { SessionEvents } from '../../../src/session/events.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { Session } from '../../../src/session/session.js'
import type { SessionDriver, StoredRecord } from '../../../src/drivers/contract.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import { SessionConfigError, SessionStoreError } from '../../../src/lib/errors.js'
import { storageKeyFor } from '../../../src/lib/ids.js'

const KEY = randomBytes(32).toString('base64')

describe('SessionManager configuration', () => {
  it('new SessionManager() is a working memory-backed manager with safe defaults', async () => {
    const manager = new SessionManager()
    assert.equal(manager.config.defaultDriver, 'memory')
    assert.equal(manager.config.lifetimeMs, 120 * 60_000)
    assert.deepEqual(
      { ...manager.cookie },
      {
        name: 'tessera_session',
        path: '/',
        domain: undefined,
        secure: process.env.NODE_ENV === 'production',
        httpOnly: true,
        sameSite: 'lax',
        clearWithBrowser: false,
      },
    )
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    assert.equal((await manager.open({ id: session.sessionId })).get('a'), 1)
  })

  it('new SessionManager(driver) uses that driver instance', async () => {
    const driver = new MemoryDriver()
    const manager = new SessionManager(driver)
    const session = await manager.open()
    session.put('x', 1)
    await session.save()
    assert.ok(await driver.read(storageKeyFor(session.sessionId)))
  })

  it('named drivers: default, driver(name), per-driver lifetime', async () => {
    const manager = new SessionManager({
      default: 'long',
      drivers: { short: { driver: 'memory', lifetime: 1 }, long: { driver: 'memory', age: '2h' } },
    })
    assert.equal(manager.config.drivers.get('short')?.lifetimeMs, 60_000)
    assert.equal(manager.config.drivers.get('long')?.lifetimeMs, 7_200_000)
    const short = await manager.open({ driver: 'short' })
    short.put('a', 1)
    await short.save()
    assert.equal((await manager.open({ id: short.sessionId, driver: 'long' })).status.fresh, true, 'drivers do not share stores')
    assert.equal((await manager.open({ id: short.sessionId, driver: 'short' })).get('a'), 1)
  })

  it('accepts lifetime in minutes and age as a duration (alias, docs/seeds.md)', () => {
    assert.equal(new SessionManager({ lifetime: 30 }).config.lifetimeMs, 1_800_000)
    assert.equal(new SessionManager({ age: '2h' }).config.lifetimeMs, 7_200_000)
    assert.equal(new SessionManager({ cookieName: 'adonis-session', clearWithBrowser: true }).cookie.clearWithBrowser, true)
    assert.equal(new SessionManager({ cookie: 'app_session' }).cookie.name, 'app_session')
  })

  it('fails at construction on bad config, saying what to change', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ driver: 'mongo' }, /unknown driver "mongo".*Built-in drivers: memory, file/],
      [{ lifetime: -5 }, /lifetime must be a positive number of minutes, got -5/],
      [{ age: 'soon' }, /age must be a positive duration/],
      [{ keys: ['0123456789'] }, /keys\[0\] is 10 bytes long/],
      [{ keys: [] }, /keys is empty/],
      [{ default: 'nope' }, /default names the driver "nope"/],
      [{ cookie: { sameSite: 'none', secure: false } }, /sameSite 'none' requires cookie.secure/],
      [{ cookie: { name: '__Host-s', domain: 'example.com' } }, /__Host-.*no domain/],
      [{ cookie: { name: 'bad name' } }, /cookie.name must be a cookie token/],
      [{ cookie: { path: '/x;evil' } }, /without ";"/],
      [{ encryption: { enabled: true } }, /no key is configured/],
      [{ touchAfter: 2 }, /touchAfter must be a number between 0 and 1/],
      [{ onStoreError: 'ignore' }, /onStoreError must be 'fail' or 'anonymous'/],
      [{ drivers: { a: { driver: 'file' } } }, /"path" must name the folder/],
    ]
    for (const [config, message] of cases) {
      const attempt = () => {
        const manager = new SessionManager(config)
        return manager.open()
      }
      if (config.drivers) {
        // Driver options are checked when the driver is first built.
        await assert.rejects(attempt(), (error: unknown) => error instanceof SessionConfigError && message.test(error.message))
        continue
      }
      assert.throws(
        attempt,
        (error: unknown) => error instanceof SessionConfigError && message.test(error.message),
        `${JSON.stringify(config)} must fail with ${message}`,
      )
    }
  })

  it('defineConfig validates at once and keeps driver names typed', () => {
    const config = defineConfig({ default: 'web', drivers: { web: { driver: 'memory' } } })
    assert.equal(config.default, 'web')
    assert.throws(() => defineConfig({ lifetime: 0 }), SessionConfigError)
  })

  it('several managers with different cookie names serve side by side', async () => {
    const web = new SessionManager({ cookie: { name: 'web_session' } })
    const api = new SessionManager({ cookie: { name: 'api_session' } })
    const a = await web.open()
    a.put('who', 'web')
    await a.save()
    assert.equal((await api.open({ id: a.sessionId })).status.fresh, true)
    assert.notEqual(web.cookie.name, api.cookie.name)
  })
})

describe('custom drivers', () => {
  class TableDriver implements SessionDriver {
    readonly rows = new Map<string, string>()
    async read(id: string) {
      const row = this.rows.get(id)
      return row ? (JSON.parse(row) as StoredRecord) : null
    }
    async write(id: string, data: StoredRecord) {
      this.rows.set(id, JSON.stringify(data))
    }
    async destroy(id: string) {
      this.rows.delete(id)
    }
    async touch() {}
    async gc() {}
  }

  it('extend() registers a factory used by driver(name)', async () => {
    const manager = new SessionManager()
    const created: unknown[] = []
    const store = new TableDriver()
    manager.extend('database', (config) => {
      created.push(config)
      return store
    })
    const session = await manager.open({ driver: 'database' })
    session.put('a', 1)
    session.increment('n')
    await session.save()
    const again = await manager.open({ driver: 'database', id: session.sessionId })
    again.increment('n')
    await again.save()
    assert.equal((await manager.open({ driver: 'database', id: session.sessionId })).get('n'), 2)
    assert.equal(created.length, 1, 'the factory runs once per manager')
    assert.equal(store.rows.size, 1)
  })

  it('SessionManager.extend() lets config entries name a custom driver', async () => {
    SessionManager.extend('table-store', () => new TableDriver())
    const manager = new SessionManager({ drivers: { main: { driver: 'table-store' } } })
    const session = await manager.open()
    session.put('x', 1)
    await session.save()
    assert.equal((await manager.open({ id: session.sessionId })).get('x'), 1)
  })

  it('a factory that returns no driver is reported', async () => {
    const manager = new SessionManager()
    manager.extend('broken', () => ({}) as SessionDriver)
    await assert.rejects(manager.open({ driver: 'broken' }), /did not return a driver/)
  })
})

describe('events', () => {
  it('emits started, committed, regenerated, invalidated and destroyed; a regenerate destroys no session', async () => {
    const manager = new SessionManager()
    const seen: string[] = []
    manager.on(SessionEvents.STARTED, (session) => seen.push(`started:${session instanceof Session}`))
    manager.on(SessionEvents.COMMITTED, () => seen.push('committed'))
    manager.on(SessionEvents.REGENERATED, (_session, oldId, newId) => seen.push(`regenerated:${oldId !== newId}`))
    manager.on(SessionEvents.INVALIDATED, () => seen.push('invalidated'))
    manager.on(SessionEvents.DESTROYED, (id) => seen.push(`destroyed:${typeof id}`))
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    await session.regenerate()
    await session.invalidate()
    assert.deepEqual(seen, ['started:true', 'committed', 'regenerated:true', 'destroyed:string', 'invalidated'])
  })
})

describe('serializer, encryption, schema', () => {
  it('a MessagePack serializer works when passed in', async () => {
    const manager = new SessionManager({
      serializer: { serialize: (data) => encode(data), deserialize: (data) => decode(data as Uint8Array) },
    })
    const session = await manager.open()
    session.put({ user: { id: 7, roles: ['a'] } })
    session.increment('n')
    await session.save()
    const again = await manager.open({ id: session.sessionId })
    again.increment('n')
    await again.save()
    const last = await manager.open({ id: session.sessionId })
    assert.deepEqual(last.get('user'), { id: 7, roles: ['a'] })
    assert.equal(last.get('n'), 2)
  })

  it('encryption: values are stored sealed, read back, and keys rotate', async () => {
    const driver = new MemoryDriver()
    const oldKey = randomBytes(32)
    const before = new SessionManager({ drivers: { main: driver }, encryption: { enabled: true, key: oldKey, algorithm: 'aes-256-gcm' } })
    const session = await before.open()
    session.put('credit_card', '4111111111111111')
    await session.save()
    const raw = JSON.stringify(await driver.read(storageKeyFor(session.sessionId)))
    assert.ok(!raw.includes('4111111111111111'), 'the store never sees the plaintext')
    const after = new SessionManager({ drivers: { main: driver }, encryption: { keys: [randomBytes(32), oldKey] } })
    const reopened = await after.open({ id: session.sessionId })
    assert.equal(reopened.get('credit_card'), '4111111111111111')
    reopened.increment('visits')
    await reopened.save()
    assert.equal((await after.open({ id: session.sessionId })).get('visits'), 1)
  })

  it('a value sealed with a key no longer configured is refused, not half-read', async () => {
    const driver = new MemoryDriver()
    const first = new SessionManager({ drivers: { main: driver }, keys: [KEY], encryption: {} })
    const session = await first.open()
    session.put('secret', 'x')
    await session.save()
    const other = new SessionManager({ drivers: { main: driver }, encryption: { key: randomBytes(32) } })
    const reopened = await other.open({ id: session.sessionId })
    assert.throws(() => reopened.get('secret'), /could not be decrypted/)
  })

  it('schema: invalid stored data yields an empty session and an event', async () => {
    const driver = new MemoryDriver()
    const loose = new SessionManager({ drivers: { main: driver } })
    const strict = new SessionManager({ drivers: { main: driver }, schema: z.object({ userId: z.number().optional() }) })
    const issues: unknown[] = []
    strict.on(SessionEvents.INVALID_DATA, (_session, found) => issues.push(...found))
    const good = await loose.open()
    good.put('userId', 5)
    await good.save()
    assert.equal((await strict.open({ id: good.sessionId })).get('userId'), 5)
    const bad = await loose.open()
    bad.put('userId', 'not a number')
    await bad.save()
    const reopened = await strict.open({ id: bad.sessionId })
    assert.equal(reopened.status.fresh, true)
    assert.notEqual(reopened.sessionId, bad.sessionId)
    assert.deepEqual(reopened.all(), {})
    assert.ok(issues.length > 0)
    assert.equal(await driver.read(storageKeyFor(bad.sessionId)), null, 'the invalid session is destroyed')
  })

  it('typed sessions: new SessionManager<Data>() types the data API', async () => {
    const manager = new SessionManager<{ userId: number; tags: string[] }>()
    const session = await manager.open()
    session.put('userId', 1)
    session.push('tags', 'a')
    const id: number | undefined = session.get('userId')
    // @ts-expect-error: userId is a number
    session.put('userId', 'x')
    assert.equal(id, 1)
  })
})

describe('timeouts', () => {
  it('absolute timeout ends a session however active it is', async () => {
    const manager = new SessionManager({ absoluteTimeout: 200 })
    const expired: string[] = []
    manager.on(SessionEvents.EXPIRED, (reason) => expired.push(reason))
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    await sleep(120)
    const active = await manager.open({ id: session.sessionId })
    active.increment('n')
    await active.save()
    await sleep(120)
    const late = await manager.open({ id: session.sessionId })
    assert.equal(late.status.fresh, true)
    assert.deepEqual(expired, ['absolute'])
  })

  it('idle timeout ends a session left alone, and activity keeps it alive', async () => {
    const manager = new SessionManager({ idleTimeout: 200 })
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    for (let i = 0; i < 3; i++) {
      await sleep(100)
      const active = await manager.open({ id: session.sessionId })
      assert.equal(active.status.fresh, false, 'activity within the idle window keeps the session')
      active.increment('n')
      await active.save()
    }
    await sleep(260)
    assert.equal((await manager.open({ id: session.sessionId })).status.fresh, true)
  })
})

describe('gc and store faults', () => {
  it('gc() removes expired sessions from every driver in use', async () => {
    const driver = new MemoryDriver()
    const manager = new SessionManager({ drivers: { main: driver }, age: 30 })
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    await sleep(60)
    const removed: number[] = []
    manager.on(SessionEvents.GC, (count) => removed.push(count))
    assert.equal(await manager.gc(), 1)
    assert.deepEqual(removed, [1])
  })

  it('gcInterval runs gc on a timer; gcProbability runs it on session starts', async () => {
    let calls = 0
    class GcCounting extends MemoryDriver {
      override async gc(): Promise<number> {
        calls += 1
        return 0
      }
    }
    const counting = new GcCounting()
    const timed = new SessionManager({ drivers: { main: counting }, gcInterval: 40 })
    await timed.open()
    await sleep(130)
    await timed.close()
    assert.ok(calls >= 2, `expected timer-driven gc, got ${calls}`)
    calls = 0
    const lottery = new SessionManager({ drivers: { main: counting }, gcProbability: 1 })
    await lottery.open()
    await lottery.open()
    await sleep(10)
    assert.ok(calls >= 1)
  })

  it('a failing or hanging store gives a typed SessionStoreError with the cause, never a hang', async () => {
    const cause = new Error('connection refused')
    const failing = new MemoryDriver()
    failing.read = async () => {
      throw cause
    }
    const manager = new SessionManager({ drivers: { main: failing } })
    const id = (await new SessionManager().open()).sessionId
    await assert.rejects(manager.open({ id }), (error: unknown) => {
      assert.ok(error instanceof SessionStoreError)
      assert.equal(error.status, 503)
      assert.equal(error.cause, cause)
      assert.ok(!error.message.includes(id), 'no session id in messages')
      return true
    })
    const hanging = new MemoryDriver()
    hanging.read = () => new Promise(() => {})
    const slow = new SessionManager({ drivers: { main: hanging }, storeTimeout: 50 })
    await assert.rejects(
      slow.open({ id }),
      (error: unknown) => error instanceof SessionStoreError && error.code === 'E_SESSION_STORE_TIMEOUT',
    )
  })

  it('close() stops the manager', async () => {
    const manager = new SessionManager()
    await manager.close()
    assert.throws(() => manager.prepare(), /has been closed/)
  })
})
