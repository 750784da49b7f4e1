import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SessionEvents } from '../../../src/session/events.js'
import { SessionManager } from '../../../src/manager/manager.js'
import type { SessionDriver } from '../../../src/drivers/contract.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'

/** A driver without a per-user index, like the sealed cookie driver: it cannot find a user's sessions. */
function statelessLike(): SessionDriver {
  const inner = new MemoryDriver()
  return {
    name: 'stateless',
    read: (key) => inner.read(key),
    write: (key, record, ttl) => inner.write(key, record, ttl),
    destroy: (key) => inner.destroy(key),
    touch: (key, ttl) => inner.touch(key, ttl),
    gc: () => inner.gc(),
  }
}

async function age(manager: SessionManager, id: string, field: 'createdAt' | 'lastSeenAt', byMs: number): Promise<void> {
  const store = await manager.store()
  const key = SessionManager.storageKey(id)
  const record = await store.read(key)
  assert.ok(record)
  record.meta[field] -= byMs
  await store.write(key, record, 3_600_000)
}

describe('timeouts, enforced server-side', () => {
  it('idle: a session unused for longer than idleTimeout is destroyed and the client gets a fresh id', async () => {
    const manager = new SessionManager({ idleTimeout: '30m' })
    const reasons: string[] = []
    manager.on(SessionEvents.EXPIRED, (reason) => reasons.push(reason))
    const session = await manager.open()
    session.put('user', 'alice')
    await session.save()
    await age(manager, session.sessionId, 'lastSeenAt', 31 * 60_000)
    const later = await manager.open({ id: session.sessionId })
    assert.equal(later.status.fresh, true)
    assert.notEqual(later.sessionId, session.sessionId)
    assert.equal(later.get('user'), undefined)
    assert.equal(await (await manager.store()).read(SessionManager.storageKey(session.sessionId)), null, 'destroyed in the store')
    assert.deepEqual(reasons, ['idle'])
  })

  it('absolute: activity does not keep a session alive past absoluteTimeout', async () => {
    const manager = new SessionManager({ idleTimeout: '30m', absoluteTimeout: '12h' })
    const reasons: string[] = []
    manager.on(SessionEvents.EXPIRED, (reason) => reasons.push(reason))
    const session = await manager.open()
    session.put('user', 'alice')
    await session.save()
    await age(manager, session.sessionId, 'createdAt', 12 * 3_600_000 + 1) // lastSeenAt stays "just now"
    assert.equal((await manager.open({ id: session.sessionId })).status.fresh, true)
    assert.deepEqual(reasons, ['absolute'])
  })

  it('regenerate keeps the creation time, so it cannot extend the absolute timeout', async () => {
    const manager = new SessionManager({ absoluteTimeout: '1h' })
    const session = await manager.open()
    session.put('user', 'alice')
    await session.save()
    await age(manager, session.sessionId, 'createdAt', 59 * 60_000)
    const loaded = await manager.open({ id: session.sessionId })
    await loaded.regenerate()
    await age(manager, loaded.sessionId, 'createdAt', 2 * 60_000)
    assert.equal((await manager.open({ id: loaded.sessionId })).status.fresh, true)
  })
})

describe('revocable stateless sessions', () => {
  it('revokeAll works on a driver without a per-user index: older sessions are refused at load', async () => {
    const manager = new SessionManager({
      drivers: { main: statelessLike(), state: { driver: 'memory' } },
      default: 'main',
      securityStore: 'state',
    })
    const reasons: string[] = []
    manager.on(SessionEvents.EXPIRED, (reason) => reasons.push(reason))
    const phone = await manager.users.create('bob')
    const laptop = await manager.users.create('bob')
    const other = await manager.users.create('carol')
    await age(manager, phone.id, 'createdAt', 1_000)
    await age(manager, laptop.id, 'createdAt', 1_000)
    await manager.users.revokeAll('bob', { except: laptop.id })
    assert.equal(await manager.users.get(phone.id), null)
    assert.notEqual(await manager.users.get(laptop.id), null, 'the excepted session lives on')
    assert.notEqual(await manager.users.get(other.id), null)
    assert.deepEqual(reasons, ['revoked'])
    const again = await manager.users.create('bob')
    assert.notEqual(await manager.users.get(again.id), null, 'a login after the revocation works')
  })

  it('exclusive login (max 1) on such a driver ends the older sessions', async () => {
    const manager = new SessionManager({
      drivers: { main: statelessLike(), state: { driver: 'memory' } },
      default: 'main',
      securityStore: 'state',
      maxSessionsPerUser: 1,
    })
    const first = await manager.users.create('dave')
    await age(manager, first.id, 'createdAt', 1_000)
    const second = await manager.users.create('dave')
    assert.equal(await manager.users.get(first.id), null)
    assert.notEqual(await manager.users.get(second.id), null)
  })

  it('a larger session limit needs a per-user index and says so', async () => {
    const manager = new SessionManager({
      drivers: { main: statelessLike(), state: { driver: 'memory' } },
      default: 'main',
      securityStore: 'state',
      maxSessionsPerUser: 3,
    })
    await assert.rejects(manager.users.create('erin'), /needs a driver with a per-user index/)
  })
})
