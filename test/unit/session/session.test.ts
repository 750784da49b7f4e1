import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSession } from '../../../src/aliases.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { Session } from '../../../src/session/session.js'
import {
  SessionContextError,
  SessionNotStartedError,
  SessionReadonlyError,
  SessionSerializationError,
  SessionTypeError,
} from '../../../src/lib/errors.js'
import { storageKeyFor } from '../../../src/lib/ids.js'
import { CountingDriver } from '../../helpers/counting-driver.js'

function setup() {
  const driver = new CountingDriver()
  const manager = new SessionManager(driver)
  return { driver, manager }
}

/** Saves `session`, then opens it again the way the next request would. */
async function nextRequest(manager: SessionManager, session: Session): Promise<Session> {
  await session.save()
  return manager.open({ id: session.sessionId })
}

describe('Session data API', () => {
  it('put/get with key-value and object forms, defaults for missing/null/undefined', async () => {
    const session = createSession({ driver: 'memory', lifetime: 120, cookie: 'app_session' })
    await session.start()
    session.put('user_id', 123)
    session.put({ role: 'admin', name: 'Ada', empty: null, nothing: undefined })
    assert.equal(session.get('user_id'), 123)
    assert.equal(session.get('role', 'guest'), 'admin')
    assert.equal(session.get('missing', 'guest'), 'guest')
    assert.equal(session.get('empty', 'fallback'), 'fallback')
    assert.equal(session.get('nothing', 'fallback'), 'fallback')
    assert.equal(session.get('missing'), undefined)
  })

  it('has, all, only, except', async () => {
    const session = createSession()
    await session.start()
    session.put({ a: 1, b: 'two', c: null })
    assert.equal(session.has('a'), true)
    assert.equal(session.has('c'), false, 'null counts as absent')
    assert.equal(session.has('zzz'), false)
    assert.deepEqual(session.all(), { a: 1, b: 'two', c: null })
    assert.deepEqual(session.only(['a', 'zzz']), { a: 1 })
    assert.deepEqual(session.except(['a']), { b: 'two', c: null })
  })

  it('push, increment, decrement', async () => {
    const session = createSession()
    await session.start()
    session.push('visited', '/dashboard')
    session.push('visited', '/settings')
    assert.deepEqual(session.get('visited'), ['/dashboard', '/settings'])
    assert.equal(session.increment('views'), 1)
    assert.equal(session.increment('views', 5), 6)
    session.put('credits', 100)
    assert.equal(session.decrement('credits'), 99)
    assert.equal(session.decrement('credits', 10), 89)
  })

  it('increment/decrement/push on the wrong type throw a typed error', async () => {
    const session = createSession()
    await session.start()
    session.put({ name: 'Ada', list: 'not a list' })
    assert.throws(
      () => session.increment('name'),
      (error: unknown) =>
        error instanceof SessionTypeError && error.code === 'E_SESSION_NOT_A_NUMBER' && /"name": it holds a string/.test(error.message),
    )
    assert.throws(() => session.decrement('name', 2), SessionTypeError)
    assert.throws(() => session.increment('n', Number.NaN), SessionTypeError)
    assert.throws(() => session.push('list', 1), /not an array/)
    assert.equal(session.get('name'), 'Ada', 'a refused change leaves the value alone')
  })

  it('forget one or many, pull and clear', async () => {
    const session = createSession()
    await session.start()
    session.put({ a: 1, b: 2, c: 3, d: 4 })
    session.forget('a')
    session.forget(['b', 'c'])
    assert.deepEqual(session.all(), { d: 4 })
    assert.equal(session.pull('d'), 4)
    assert.equal(session.has('d'), false)
    assert.equal(session.pull('gone', 'default' as never), 'default')
    session.put({ y: 1 })
    session.clear()
    assert.deepEqual(session.all(), {})
  })

  it('refuses unstorable values at put and flash, not later', async () => {
    const session = createSession()
    await session.start()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    assert.throws(() => session.put('fn', () => 1), SessionSerializationError)
    assert.throws(() => session.put('sym', Symbol('x')), SessionSerializationError)
    assert.throws(() => session.put('cyclic', cyclic), SessionSerializationError)
    assert.throws(() => session.flash('fn', () => 1), SessionSerializationError)
    assert.equal(session.has('fn'), false)
  })

  it('throws a clear error when used before start()', () => {
    const session = createSession()
    assert.throws(() => session.get('x'), SessionNotStartedError)
    assert.throws(() => session.put('x', 1), /await session.start\(\)/)
  })

  it('keeps types across requests: Date, BigInt, Map, Set, Uint8Array', async () => {
    const { manager } = setup()
    const session = await manager.open()
    const value = { when: new Date(1e12), big: 2n ** 70n, map: new Map([['k', new Set([1])]]), bytes: new Uint8Array([1, 2]) }
    session.put(value)
    const next = await nextRequest(manager, session)
    assert.deepEqual(next.all(), value)
    assert.ok(next.get('when') instanceof Date)
  })

  it('saves in-place changes to objects read with get()', async () => {
    const { manager } = setup()
    const session = await manager.open()
    session.put('cart', { items: ['a'] })
    const first = await nextRequest(manager, session)
    ;(first.get('cart') as { items: string[] }).items.push('b')
    const second = await nextRequest(manager, first)
    assert.deepEqual(second.get('cart'), { items: ['a', 'b'] })
  })

  it('never pollutes prototypes through keys like __proto__ and constructor', async () => {
    const { manager } = setup()
    const session = await manager.open()
    const body = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}')
    session.put(body)
    session.flash(body)
    session.put('__proto__', { polluted: true })
    const next = await nextRequest(manager, session)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.deepEqual(next.get('__proto__'), { polluted: true })
    const all = next.all()
    assert.equal(Object.getPrototypeOf(all), Object.prototype)
    assert.ok(Object.hasOwn(all, '__proto__'))
    assert.equal(next.flashMessages.get('__proto__.polluted'), true)
    assert.equal(next.flashMessages.get('constructor.name'), undefined, 'dot paths read own properties only')
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})

describe('flash messages', () => {
  it('live for exactly the next request', async () => {
    const { manager } = setup()
    const first = await manager.open()
    first.put('keep', 1)
    first.flash('message', 'Welcome back!')
    first.flash({ errors: { title: 'Title is required', items: ['x'] } })
    assert.equal(first.flashMessages.isEmpty, true, 'flash is for the next request, not this one')
    const second = await nextRequest(manager, first)
    assert.equal(second.flashMessages.get('message'), 'Welcome back!')
    assert.equal(second.flashMessages.get('errors.title', ''), 'Title is required')
    assert.equal(second.flashMessages.get('errors.items.0'), 'x')
    assert.equal(second.flashMessages.get('errors.missing', 'none'), 'none')
    assert.equal(second.flashMessages.has('errors.title'), true)
    assert.equal(second.flashMessages.has('errors.nope'), false)
    assert.deepEqual(second.flashMessages.all(), { message: 'Welcome back!', errors: { title: 'Title is required', items: ['x'] } })
    assert.equal(second.flashMessages.isEmpty, false)
    const third = await nextRequest(manager, second)
    assert.equal(third.flashMessages.isEmpty, true)
    assert.equal(third.get('keep'), 1)
  })

  it('reflash and reflashOnly carry messages one more request', async () => {
    const { manager } = setup()
    const first = await manager.open()
    first.flash({ a: 1, b: 2, c: 3 })
    const second = await nextRequest(manager, first)
    second.reflash()
    const third = await nextRequest(manager, second)
    assert.deepEqual(third.flashMessages.all(), { a: 1, b: 2, c: 3 })
    third.reflashOnly(['a'])
    const fourth = await nextRequest(manager, third)
    assert.deepEqual(fourth.flashMessages.all(), { a: 1 })
    fourth.reflash()
    const fifth = await nextRequest(manager, fourth)
    assert.deepEqual(fifth.flashMessages.all(), { a: 1 })
  })

  it('reflashOnly, reflashExcept', async () => {
    const { manager } = setup()
    const first = await manager.open()
    first.flash({ a: 1, b: 2, c: 3 })
    const second = await nextRequest(manager, first)
    second.reflashExcept(['a'])
    const third = await nextRequest(manager, second)
    assert.deepEqual(third.flashMessages.all(), { b: 2, c: 3 })
    third.reflashOnly(['c', 'zzz'])
    const fourth = await nextRequest(manager, third)
    assert.deepEqual(fourth.flashMessages.all(), { c: 3 })
  })

  it('flashAll, flashOnly, flashExcept take a request body', async () => {
    const { manager } = setup()
    const body = { email: 'a@b.c', name: 'Ada', password: 'hunter2' }
    const sessions = await Promise.all([manager.open(), manager.open(), manager.open()])
    const [all, only, except] = sessions as [Session, Session, Session]
    all.flashAll(body)
    only.flashOnly(body, ['email', 'missing'])
    except.flashExcept(body, ['password'])
    assert.deepEqual((await nextRequest(manager, all)).flashMessages.all(), body)
    assert.deepEqual((await nextRequest(manager, only)).flashMessages.all(), { email: 'a@b.c' })
    assert.deepEqual((await nextRequest(manager, except)).flashMessages.all(), { email: 'a@b.c', name: 'Ada' })
  })

  it('a second save in the same request keeps the new flash', async () => {
    const { manager } = setup()
    const first = await manager.open()
    first.flash('m', 1)
    await first.save()
    await first.save()
    const second = await nextRequest(manager, first)
    assert.equal(second.flashMessages.get('m'), 1)
  })
})

describe('lifecycle', () => {
  it('start() adopts a live id, otherwise creates a fresh one; fresh and initiated report it', async () => {
    const { manager } = setup()
    const session = manager.prepare({ id: 'not-a-real-id' })
    assert.equal(session.status.initiated, false)
    await session.start()
    assert.equal(session.status.initiated, true)
    assert.equal(session.status.fresh, true)
    assert.notEqual(session.sessionId, 'not-a-real-id')
    assert.equal(session.sessionId, session.sessionId)
    session.put('a', 1)
    const again = await nextRequest(manager, session)
    assert.equal(again.status.fresh, false)
    assert.equal(again.sessionId, session.sessionId)
  })

  it('never adopts an unknown but well-formed id (no fixation)', async () => {
    const { manager } = setup()
    const attackerId = 'A'.repeat(43)
    const session = await manager.open({ id: attackerId })
    assert.notEqual(session.sessionId, attackerId)
    assert.equal(session.status.fresh, true)
  })

  it('regenerate keeps the data, changes the id and destroys the old id in the store', async () => {
    const { manager, driver } = setup()
    const session = await manager.open()
    session.put('cart', ['book'])
    await session.save()
    const oldId = session.sessionId
    const events: string[] = []
    manager.on('session:regenerated', (_s, from, to) => events.push(from === oldId && to !== oldId ? 'ok' : 'bad'))
    await session.regenerate()
    assert.notEqual(session.sessionId, oldId)
    assert.deepEqual(events, ['ok'])
    assert.equal(await driver.inner.read(storageKeyFor(oldId)), null, 'old id destroyed at once')
    assert.deepEqual((await manager.open({ id: session.sessionId })).get('cart'), ['book'])
    assert.equal((await manager.open({ id: oldId })).status.fresh, true)
  })

  it('invalidate clears data and flash, destroys the stored session and changes the id', async () => {
    const { manager, driver } = setup()
    const session = await manager.open()
    session.put('user', 1)
    session.flash('m', 'x')
    await session.save()
    const oldId = session.sessionId
    await session.invalidate()
    assert.notEqual(session.sessionId, oldId)
    assert.deepEqual(session.all(), {})
    assert.equal(session.status.invalidated, true)
    assert.equal(await driver.inner.read(storageKeyFor(oldId)), null)
    await session.save()
    assert.equal(await driver.inner.read(storageKeyFor(session.sessionId)), null, 'an empty session is not stored')
  })

  it('save persists; an empty new session is not stored', async () => {
    const { manager, driver } = setup()
    const empty = await manager.open()
    await empty.save()
    assert.equal(driver.calls.write, 0)
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    assert.equal(driver.calls.write, 1)
  })

  it('readonly (start({ readonly: true })): reads work, every change throws, save writes nothing', async () => {
    const { manager, driver } = setup()
    const writer = await manager.open()
    writer.put('a', 1)
    await writer.save()
    const session = manager.prepare({ id: writer.sessionId })
    await session.start({ readonly: true })
    assert.equal(session.status.readonly, true)
    assert.equal(session.get('a'), 1)
    driver.reset()
    for (const change of [
      () => session.put('a', 2),
      () => session.forget('a'),
      () => session.flash('m', 1),
      () => session.increment('a'),
      () => session.clear(),
    ]) {
      assert.throws(change, SessionReadonlyError)
    }
    await assert.rejects(session.regenerate(), SessionReadonlyError)
    await session.save()
    assert.equal(driver.writes, 0)
  })

  it('a request that only reads costs one store read and no write', async () => {
    const { manager, driver } = setup()
    const session = await manager.open()
    session.put({ a: 1, obj: { deep: [1] } })
    await session.save()
    driver.reset()
    const reader = await manager.open({ id: session.sessionId })
    reader.get('a')
    reader.get('obj')
    reader.all()
    await reader.save()
    assert.deepEqual(driver.calls, { read: 1, write: 0, destroy: 0, touch: 0, gc: 0, patch: 0 })
  })

  it('a change is sent as a patch of the change log, not a full write', async () => {
    const { manager, driver } = setup()
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    driver.reset()
    const next = await manager.open({ id: session.sessionId })
    next.increment('views')
    await next.save()
    assert.equal(driver.calls.patch, 1)
    assert.equal(driver.calls.write, 0)
  })

  it('touches the store only once the touchAfter share of the lifetime has passed', async () => {
    const driver = new CountingDriver()
    const manager = new SessionManager({ drivers: { c: driver }, age: 400, touchAfter: 0.25 })
    const session = await manager.open({ driver: 'c' })
    session.put('a', 1)
    await session.save()
    driver.reset()
    await (await manager.open({ driver: 'c', id: session.sessionId })).save()
    assert.equal(driver.calls.touch, 0, 'no touch right after a write')
    await sleep(150)
    await (await manager.open({ driver: 'c', id: session.sessionId })).save()
    assert.equal(driver.calls.touch, 1, 'touch once 25% of the lifetime has passed')
    await (await manager.open({ driver: 'c', id: session.sessionId })).save()
    assert.equal(driver.calls.touch, 1, 'and not again right after')
    await sleep(300)
    assert.equal(
      (await manager.open({ driver: 'c', id: session.sessionId })).status.fresh,
      false,
      'the touch extended the life past the first expiry',
    )
  })
})

describe('RACE: concurrent requests on one session', () => {
  it('two requests changing different keys both keep their change', async () => {
    const { manager } = setup()
    const seed = await manager.open()
    seed.put('base', true)
    await seed.save()
    const [a, b] = await Promise.all([manager.open({ id: seed.sessionId }), manager.open({ id: seed.sessionId })])
    a.put('fromA', 1)
    b.put('fromB', 2)
    await Promise.all([a.save(), b.save()])
    assert.deepEqual((await manager.open({ id: seed.sessionId })).all(), { base: true, fromA: 1, fromB: 2 })
  })

  it('concurrent increments of one key all count, concurrent pushes all land', async () => {
    const { manager } = setup()
    const seed = await manager.open()
    seed.put('n', 0)
    await seed.save()
    const sessions = await Promise.all(Array.from({ length: 20 }, () => manager.open({ id: seed.sessionId })))
    sessions.forEach((session, i) => {
      session.increment('n')
      session.push('log', i)
    })
    await Promise.all(sessions.map((session) => session.save()))
    const result = await manager.open({ id: seed.sessionId })
    assert.equal(result.get('n'), 20)
    assert.deepEqual(
      [...(result.get('log') as number[])].sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i),
    )
  })

  it('a change arriving after logout in another request does not bring the session back', async () => {
    const { manager, driver } = setup()
    const seed = await manager.open()
    seed.put('user', 1)
    await seed.save()
    const [slow, logout] = await Promise.all([manager.open({ id: seed.sessionId }), manager.open({ id: seed.sessionId })])
    await logout.invalidate()
    slow.put('late', true)
    await slow.save()
    assert.equal(await driver.inner.read(storageKeyFor(seed.sessionId)), null)
    assert.equal(slow.status.persisted, false)
  })

  it('a second save after a change found its session logged out does not write the session back', async () => {
    const { manager, driver } = setup()
    const seed = await manager.open()
    seed.put('user', 1)
    await seed.save()
    const [slow, logout] = await Promise.all([manager.open({ id: seed.sessionId }), manager.open({ id: seed.sessionId })])
    await logout.invalidate()
    slow.put('late', true)
    await slow.save()
    slow.put('again', true)
    await slow.save()
    assert.equal(await driver.inner.read(storageKeyFor(seed.sessionId)), null)
    assert.notEqual(slow.sessionId, seed.sessionId, 'the session started over under a new id')
    assert.deepEqual(slow.all(), { again: true }, 'only what was put after the logout is kept, anonymously')
  })

  it('a regenerate after a logout in another request does not bring the session back (core fallback for rename)', async () => {
    const { manager, driver } = setup()
    const seed = await manager.open()
    seed.auth.setUser('ada')
    await seed.save()
    const [slow, logout] = await Promise.all([manager.open({ id: seed.sessionId }), manager.open({ id: seed.sessionId })])
    await logout.invalidate()
    await slow.regenerate()
    slow.put('role', 'elevated')
    await slow.save()
    assert.equal(slow.auth.userId, undefined)
    assert.deepEqual(await driver.inner.listByUser('ada'), [])
    assert.equal((await driver.inner.read(storageKeyFor(slow.sessionId)))?.meta.userId, undefined)
  })
})

describe('the Session class', () => {
  it('orchestrates: lifecycle, sessionId, the data and flash API, and two views (status, auth) — no more', () => {
    const session = createSession()
    const members = new Set([
      ...Object.getOwnPropertyNames(Session.prototype).filter((name) => name !== 'constructor' && name !== 'context'),
      ...Object.keys(session),
    ])
    for (const alias of ['initiate', 'commit', 'getId', 'flush', 'keep', 'fresh', 'initiated', 'readonly']) {
      assert.ok(!Object.hasOwn(Session.prototype, alias) || !Object.getOwnPropertyDescriptor(Session.prototype, alias)?.enumerable)
      members.delete(alias) // installed by src/aliases.ts when loaded, see docs/seeds.md
    }
    assert.deepEqual([...members].sort(), [
      'all',
      'auth',
      'clear',
      'decrement',
      'except',
      'flash',
      'flashAll',
      'flashExcept',
      'flashMessages',
      'flashOnly',
      'forget',
      'get',
      'has',
      'increment',
      'invalidate',
      'only',
      'pull',
      'push',
      'put',
      'reflash',
      'reflashExcept',
      'reflashOnly',
      'regenerate',
      'save',
      'sessionId',
      'start',
      'status',
    ])
  })
})

describe('custom session classes', () => {
  it('Session can be extended; a manager gives the subclass its store', async () => {
    class CartSession extends Session<{ items: string[] }> {
      addItem(item: string): void {
        this.push('items', item)
      }
    }
    const manager = new SessionManager<{ items: string[] }>({ sessionClass: CartSession })
    const session = (await manager.open()) as CartSession
    session.addItem('book')
    await session.save()
    const again = await manager.open({ id: session.sessionId })
    assert.ok(again instanceof CartSession)
    assert.deepEqual(again.get('items'), ['book'])
  })

  it('a session constructed without a context can be built (docs/seeds.md: SessionStore) but not started: a typed error says how to get one', async () => {
    class CartSession extends Session {}
    const session = new CartSession()
    assert.equal(session.status.initiated, false)
    await assert.rejects(session.start(), (error: unknown) => {
      assert.ok(error instanceof SessionContextError)
      assert.equal(error.code, 'E_SESSION_NO_CONTEXT')
      assert.match(error.message, /manager\.open\(\)/)
      assert.match(error.message, /createSession\(config\)/)
      return true
    })
  })

  it('a manager builds sessions of the configured class', async () => {
    class Tagged extends Session {
      readonly tag = 'custom'
    }
    const manager = new SessionManager({ sessionClass: Tagged })
    const session = await manager.open()
    assert.ok(session instanceof Tagged)
  })
})

describe('needsSave()', () => {
  it('is false for a request that only reads, true once something changed or a touch is due', async () => {
    const driver = new CountingDriver()
    const manager = new SessionManager({ drivers: { main: driver }, age: 200, touchAfter: 0.25 })
    const first = await manager.open()
    assert.equal(first.status.needsSave(), false, 'an empty new session is not stored')
    first.put('cart', { items: [] as string[] })
    assert.equal(first.status.needsSave(), true)
    await first.save()
    const reader = await manager.open({ id: first.sessionId })
    reader.get('cart')
    assert.equal(reader.status.needsSave(), false)
    ;(reader.get('cart') as { items: string[] }).items.push('x')
    assert.equal(reader.status.needsSave(), true, 'an in-place change to an object read in this request counts')
    const later = await manager.open({ id: first.sessionId })
    assert.equal(later.status.needsSave(Date.now() + 60), true, 'a touch is due after 25% of the lifetime')
    const flashed = await manager.open({ id: first.sessionId })
    flashed.flash('m', 1)
    await flashed.save()
    const shown = await manager.open({ id: first.sessionId })
    assert.equal(shown.status.needsSave(), true, 'shown flash messages must be cleared')
  })
})
