import assert from 'node:assert/strict'
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
  async SessionStore() {
    assert.equal(SessionStore, Session)
    assert.equal(tessera.SessionStore, tessera.Session)
  },
  async initiate() {
    const writable = createSession()
    await writable.initiate()
    assert.equal(writable.status.initiated, true)
    assert.equal(writable.status.readonly, false)
    const readonly = createSession()
    await readonly.initiate(true)
    assert.equal(readonly.status.readonly, true)
    assert.throws(() => readonly.put('a', 1), SessionReadonlyError)
  },
  async commit() {
    const { manager } = setup()
    const session = await manager.open()
    session.put('a', 1)
    await session.commit()
    assert.equal((await manager.open({ id: session.sessionId })).get('a'), 1)
  },
  async getId() {
    const session = await setup().manager.open()
    assert.equal(session.getId(), session.sessionId)
    assert.match(session.getId(), /^[\w-]{43}$/)
  },
  async flush() {
    const session = await setup().manager.open()
    session.put({ a: 1, b: 2 })
    session.flash('m', 'hi')
    session.flush()
    assert.deepEqual(session.all(), {})
    assert.equal(session.status.hasPendingWrites, false)
  },
  async keep() {
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
  async fresh() {
    const { manager, next } = setup()
    const session = await manager.open()
    assert.equal(session.fresh, true)
    session.put('a', 1)
    const again = await next(session)
    assert.equal(again.fresh, false)
    assert.equal(again.fresh, again.status.fresh)
  },
  async initiated() {
    const session = createSession()
    assert.equal(session.initiated, false)
    await session.start()
    assert.equal(session.initiated, true)
  },
  async readonly() {
    const { manager } = setup()
    assert.equal((await manager.open()).readonly, false)
    assert.equal((await manager.open({ readonly: true })).readonly, true)
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

  it('every Session alias is installed on Session.prototype, non-enumerable, and the class itself does not define it', () => {
    const installed = SEED_ALIASES.filter((entry) => entry.on === 'Session')
    assert.ok(installed.length > 0)
    for (const entry of installed) {
      const descriptor = Object.getOwnPropertyDescriptor(Session.prototype, entry.alias)
      assert.ok(descriptor, `${entry.alias} is installed`)
      assert.equal(descriptor.enumerable, false, `${entry.alias} is not enumerable`)
      assert.ok(entry.install && (descriptor.value === entry.install.value || descriptor.get === entry.install.get), `${entry.alias} comes from the table`)
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
    it(`${entry.on === 'tessera' ? '' : `${entry.on}.`}${entry.alias} (seed ${entry.seed}) behaves as ${entry.canonical}`, async () => {
      const check = BEHAVES[entry.alias]
      assert.ok(check, `test/unit/aliases.test.ts has a check for ${entry.alias}`)
      await check()
    })
  }
})
