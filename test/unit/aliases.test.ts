import assert from 'node:assert/strict'
import { type IncomingMessage, ServerResponse } from 'node:http'
import { describe, it } from 'node:test'
import { SEED_ALIASES, SessionStore } from '../../src/aliases.js'
import * as tessera from '../../src/index.js'
import { createSession, SessionManager } from '../../src/index.js'
import { SessionReadonlyError } from '../../src/lib/errors.js'
import { Session } from '../../src/session/session.js'

/** Two requests' worth of one manager: `next(session)` saves and opens the session again. */
function setup() {
  const manager = new SessionManager()
  const next = async (session: Session): Promise<Session> => {
    await session.save()
    return manager.open({ id: session.sessionId })
  }
  return { manager, next }
}

/** Per alias: a check that it does what its canonical name does. Every alias in the table needs one. */
const BEHAVES: Record<string, () => Promise<void>> = {
  async 'tessera.SessionStore'() {
    assert.equal(SessionStore, Session)
    assert.equal(tessera.SessionStore, tessera.Session)
  },
  async 'Session.initiate'() {
    const writable = createSession()
    await writable.initiate()
    assert.equal(writable.status.initiated, true)
    assert.equal(writable.status.readonly, false)
    const readonly = createSession()
    await readonly.initiate(true)
    assert.equal(readonly.status.readonly, true)
    assert.throws(() => readonly.put('a', 1), SessionReadonlyError)
  },
  async 'Session.commit'() {
    const { manager } = setup()
    const session = await manager.open()
    session.put('a', 1)
    await session.commit()
    assert.equal((await manager.open({ id: session.sessionId })).get('a'), 1)
  },
  async 'Session.getId'() {
    const session = await setup().manager.open()
    assert.equal(session.getId(), session.sessionId)
    assert.match(session.getId(), /^[\w-]{43}$/)
  },
  async 'Session.flush'() {
    const session = await setup().manager.open()
    session.put({ a: 1, b: 2 })
    session.flash('m', 'hi')
    session.flush()
    assert.deepEqual(session.all(), {})
    assert.equal(session.status.hasPendingWrites, false)
  },
  async 'Session.keep'() {
    const { manager, next } = setup()
    const first = await manager.open()
    first.flash({ a: 1, b: 2 })
    const second = await next(first)
    second.keep()
    const third = await next(second)
    assert.deepEqual(third.flashMessages.all(), { a: 1, b: 2 })
    third.keep(['a'])
    const fourth = await next(third)
    assert.deepEqual(fourth.flashMessages.all(), { a: 1 })
  },
  async 'Session.fresh'() {
    const { manager, next } = setup()
    const session = await manager.open()
    assert.equal(session.fresh, true)
    session.put('a', 1)
    const again = await next(session)
    assert.equal(again.fresh, false)
    assert.equal(again.fresh, again.status.fresh)
  },
  async 'Session.initiated'() {
    const session = createSession()
    assert.equal(session.initiated, false)
    await session.start()
    assert.equal(session.initiated, true)
  },
  async 'Session.readonly'() {
    const { manager } = setup()
    assert.equal((await manager.open()).readonly, false)
    assert.equal((await manager.open({ readonly: true })).readonly, true)
  },
  async 'tessera.createSession'() {
    const session = createSession({ driver: 'memory', lifetime: 120, cookie: 'app_session' })
    assert.equal(session.status.initiated, false, 'not started yet, as prepare() gives it')
    await session.start()
    session.put('a', 1)
    await session.save()
    assert.equal(session.get('a'), 1)
  },
  async 'SessionManager.driver'() {
    const manager = new SessionManager({ drivers: { one: { driver: 'memory' }, two: { driver: 'memory' } } })
    const session = await manager.driver('two')
    assert.equal(session.status.initiated, true)
    session.put('a', 1)
    await session.save()
    assert.equal((await manager.open({ driver: 'two', id: session.sessionId })).get('a'), 1)
    assert.equal(
      (await manager.open({ driver: 'one', id: session.sessionId })).status.fresh,
      true,
      'driver(name) opens on that driver only',
    )
    assert.equal((await manager.driver()).status.initiated, true)
  },
  async 'SessionManager.middleware'() {
    const manager = new SessionManager()
    const middleware = manager.middleware()
    const req = { headers: {}, socket: {} } as unknown as IncomingMessage & { session?: Session }
    const res = new ServerResponse(req)
    await new Promise<void>((resolve, reject) => middleware(req, res, (error) => (error ? reject(error) : resolve())))
    assert.ok(req.session instanceof Session)
    assert.equal(req.session.status.initiated, true)
  },
  async 'SessionManager.createSession'() {
    const manager = new SessionManager()
    const created = await manager.createSession('u1', { role: 'user' })
    assert.equal((await manager.users.get(created.id))?.userId, 'u1')
    assert.deepEqual((await manager.users.get(created.id))?.data, { role: 'user' })
  },
  async 'SessionManager.getSession'() {
    const manager = new SessionManager()
    const created = await manager.users.create('u1', { role: 'user' })
    assert.deepEqual(await manager.getSession(created.id), await manager.users.get(created.id))
    assert.equal(await manager.getSession('unknown'), null)
  },
  async 'SessionManager.updateSession'() {
    const manager = new SessionManager()
    const created = await manager.users.create('u1', { role: 'user' })
    assert.equal(await manager.updateSession(created.id, { role: 'admin' }), true)
    assert.equal((await manager.users.get(created.id))?.data.role, 'admin')
  },
  async 'SessionManager.refreshSession'() {
    const manager = new SessionManager()
    const created = await manager.users.create('u1')
    assert.equal(await manager.refreshSession(created.id), true)
    await manager.users.revoke(created.id)
    assert.equal(await manager.refreshSession(created.id), false)
  },
  async 'SessionManager.deleteSession'() {
    const manager = new SessionManager()
    const created = await manager.users.create('u1')
    assert.equal(await manager.deleteSession(created.id), undefined)
    assert.equal(await manager.users.get(created.id), null)
  },
  async 'config.age'() {
    const manager = new SessionManager({ age: '2h' })
    assert.equal(manager.config.lifetimeMs, 2 * 3_600_000)
  },
  async 'config.cookieName'() {
    assert.equal(new SessionManager({ cookieName: 'adonis-session' }).cookie.name, 'adonis-session')
  },
  async 'config.clearWithBrowser'() {
    assert.equal(new SessionManager({ clearWithBrowser: true }).cookie.clearWithBrowser, true)
  },
  async 'config.redisConnection'() {
    const manager = new SessionManager({ driver: 'redis', redisConnection: 'local', connections: { local: { port: 6379 } } })
    assert.equal(manager.config.drivers.get('redis')?.config.connection, 'local')
  },
}

describe('seed aliases (docs/seeds.md)', () => {
  it('the table names each alias once, with its canonical name, seed and home', () => {
    const names = SEED_ALIASES.map((entry) => `${entry.on}.${entry.alias}`)
    assert.equal(new Set(names).size, names.length)
    for (const entry of SEED_ALIASES) {
      assert.ok(entry.canonical.length > 0)
      assert.match(entry.seed, /^00[0-4]$/)
    }
  })

  it('every class alias is installed on its prototype, non-enumerable, and the class itself does not define it', () => {
    const prototypes = { Session: Session.prototype, SessionManager: SessionManager.prototype } as const
    const installed = SEED_ALIASES.filter((entry) => entry.on === 'Session' || entry.on === 'SessionManager')
    assert.ok(installed.length > 0)
    for (const entry of installed) {
      const descriptor = Object.getOwnPropertyDescriptor(prototypes[entry.on as keyof typeof prototypes], entry.alias)
      assert.ok(descriptor, `${entry.alias} is installed`)
      assert.equal(descriptor.enumerable, false, `${entry.alias} is not enumerable`)
      assert.ok(
        entry.install && (descriptor.value === entry.install.value || descriptor.get === entry.install.get),
        `${entry.alias} comes from the table`,
      )
    }
    const session = new Session()
    assert.ok(!Object.keys(session).some((key) => installed.some((entry) => entry.alias === key)))
  })

  it('root exports in the table are exported by tessera', () => {
    for (const entry of SEED_ALIASES.filter((alias) => alias.on === 'tessera')) {
      assert.ok(entry.alias in tessera, `${entry.alias} is exported`)
    }
  })

  for (const entry of SEED_ALIASES) {
    it(`${entry.on}.${entry.alias} (seed ${entry.seed}) behaves as ${entry.canonical}`, async () => {
      const check = BEHAVES[`${entry.on}.${entry.alias}`]
      assert.ok(check, `test/unit/aliases.test.ts has a check for ${entry.on}.${entry.alias}`)
      await check()
    })
  }
})
