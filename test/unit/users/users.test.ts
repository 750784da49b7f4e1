import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { SessionEvents } from '../../../src/session/events.js'
import { SessionManager, type SessionManagerOptions } from '../../../src/manager/manager.js'
import { RateLimitError, SessionLimitError } from '../../../src/lib/errors.js'
import { generateSessionId, storageKeyFor } from '../../../src/lib/ids.js'
import { UserSessions } from '../../../src/users/users.js'

const folder = mkdtempSync(join(tmpdir(), 'tessera-users-'))
after(() => rmSync(folder, { recursive: true, force: true }))

const drivers: Record<string, () => SessionManagerOptions> = {
  memory: () => ({ driver: 'memory' }),
  file: () => ({ driver: 'file', path: mkdtempSync(join(folder, 'f-')) }),
}

for (const [name, base] of Object.entries(drivers)) {
  describe(`per-user sessions on the ${name} driver`, () => {
    it('create → get → update → refresh → revoke', async () => {
      const manager = new SessionManager(base())
      const created = await manager.users.create('u1', { role: 'user' })
      assert.equal(created.userId, 'u1')
      assert.deepEqual(created.data, { role: 'user' })
      assert.equal(created.key, storageKeyFor(created.id))
      assert.ok(created.expiresAt > created.createdAt)

      const loaded = await manager.users.get(created.id)
      assert.equal(loaded?.userId, 'u1')
      assert.deepEqual(loaded?.data, { role: 'user' })

      assert.equal(await manager.users.update(created.id, { role: 'admin' }), true)
      assert.deepEqual((await manager.users.get(created.id))?.data, { role: 'admin' })
      assert.equal(await manager.users.refresh(created.id), true)

      await manager.users.revoke(created.id)
      assert.equal(await manager.users.get(created.id), null)
      assert.equal(await manager.users.update(created.id, { role: 'x' }), false)
      assert.equal(await manager.users.refresh(created.id), false)
      await manager.close()
    })

    it('get returns null for unknown and malformed ids', async () => {
      const manager = new SessionManager(base())
      assert.equal(await manager.users.get('A'.repeat(43)), null)
      assert.equal(await manager.users.get('../../etc/passwd'), null)
      await manager.close()
    })

    it('list shows device facts; revoke by key ends only that one', async () => {
      const manager = new SessionManager(base())
      const phone = await manager.users.create('u2', {}, { device: { name: 'Phone', ip: '10.0.0.1', userAgent: 'UA-1' } })
      const laptop = await manager.users.create('u2', {}, { device: { name: 'Laptop', ip: '10.0.0.2' } })
      await manager.users.create('someone-else')
      const list = await manager.users.list('u2')
      assert.equal(list.length, 2)
      const entry = list.find((item) => item.key === phone.key)
      assert.equal(entry?.deviceName, 'Phone')
      assert.equal(entry?.ip, '10.0.0.1')
      assert.equal(entry?.userAgent, 'UA-1')
      assert.equal(typeof entry?.lastActiveAt, 'number')
      assert.ok(!JSON.stringify(list).includes(phone.id), 'the list never carries session ids')

      assert.equal(await manager.users.revoke(phone.key, { userId: 'someone-else' }), false, 'ownership is checked')
      assert.notEqual(await manager.users.get(phone.id), null)
      assert.equal(await manager.users.revoke(phone.key, { userId: 'u2' }), true)
      assert.equal(await manager.users.get(phone.id), null)
      assert.notEqual(await manager.users.get(laptop.id), null)
      assert.equal(await manager.users.revoke(laptop.id), true, 'an id works as well as a key')
      assert.deepEqual(await manager.users.list('u2'), [])
      await manager.close()
    })

    it("revoke ends a session by id or key, once: REVOKED for a user's session, DESTROYED for one without a user", async () => {
      const manager = new SessionManager(base())
      const revoked: [string, number][] = []
      const destroyed: string[] = []
      manager.on(SessionEvents.REVOKED, (userId, removed) => revoked.push([userId, removed]))
      manager.on(SessionEvents.DESTROYED, (id) => destroyed.push(id))
      const user = await manager.users.create('u10')
      const anonymous = await manager.open()
      anonymous.put('cart', 1)
      await anonymous.save()
      assert.equal(await manager.users.revoke(user.id), true)
      assert.equal(await manager.users.revoke(user.id), false, 'a second revoke finds nothing')
      assert.equal(await manager.users.revoke(anonymous.sessionId), true)
      assert.equal(await manager.users.revoke(generateSessionId()), false, 'an unknown id ends nothing and emits nothing')
      assert.equal((await manager.open({ id: anonymous.sessionId })).status.fresh, true)
      assert.deepEqual(revoked, [['u10', 1]])
      assert.deepEqual(destroyed, [anonymous.sessionId])
      await manager.close()
    })

    it('revokeAll keeps the excepted session and emits REVOKED', async () => {
      const manager = new SessionManager(base())
      const events: [string, number][] = []
      manager.on(SessionEvents.REVOKED, (userId, removed) => events.push([userId, removed]))
      const current = await manager.users.create('u3')
      const others = await Promise.all([manager.users.create('u3'), manager.users.create('u3')])
      assert.equal(await manager.users.revokeAll('u3', { except: current.id }), 2)
      assert.notEqual(await manager.users.get(current.id), null)
      for (const other of others) assert.equal(await manager.users.get(other.id), null)
      assert.deepEqual(events, [['u3', 2]])
      await manager.close()
    })

    it('maxSessionsPerUser evicts the oldest sessions', async () => {
      const manager = new SessionManager({ ...base(), maxSessionsPerUser: 2 })
      const first = await manager.users.create('u4')
      const store = await manager.store()
      const record = await store.read(first.key)
      assert.ok(record)
      record.meta.createdAt -= 60_000 // clearly the oldest, whatever the clock resolution
      await store.write(first.key, record, 60_000)
      const second = await manager.users.create('u4')
      const third = await manager.users.create('u4')
      assert.equal(await manager.users.get(first.id), null)
      assert.notEqual(await manager.users.get(third.id), null, 'the new login always survives')
      assert.equal((await manager.users.list('u4')).length, 2)
      assert.ok(second.id)
      await manager.close()
    })

    it('exclusive login (max 1) ends the other device when a session logs in through setUser', async () => {
      const manager = new SessionManager({ ...base(), maxSessionsPerUser: 1 })
      const elsewhere = await manager.users.create('u5')
      const session = await manager.open()
      session.put('cart', 1)
      await session.save()
      await session.regenerate()
      session.auth.setUser('u5')
      await session.save()
      assert.equal(await manager.users.get(elsewhere.id), null)
      assert.equal((await manager.users.get(session.sessionId))?.userId, 'u5')
      await manager.close()
    })

    it("maxSessionsPerUser with onLimit 'refuse' refuses the new login with SessionLimitError (403)", async () => {
      const manager = new SessionManager({ ...base(), maxSessionsPerUser: { max: 1, onLimit: 'refuse' } })
      const first = await manager.users.create('u6')
      await assert.rejects(manager.users.create('u6'), (error: unknown) => {
        assert.ok(error instanceof SessionLimitError)
        assert.equal(error.status, 403)
        assert.equal(error.code, 'E_SESSION_LIMIT')
        return true
      })
      assert.notEqual(await manager.users.get(first.id), null)
      assert.equal((await manager.users.list('u6')).length, 1)
      await manager.close()
    })

    it('rate-limits create per user, with retryAfter', async () => {
      const manager = new SessionManager({ ...base(), rateLimit: { create: { points: 2, duration: '1m' } } })
      await manager.users.create('u7')
      await manager.users.create('u7')
      await assert.rejects(manager.users.create('u7'), (error: unknown) => {
        assert.ok(error instanceof RateLimitError)
        assert.equal(error.status, 429)
        assert.equal(error.code, 'E_SESSION_RATE_LIMITED')
        assert.ok(error.retryAfter >= 1 && error.retryAfter <= 30, `retryAfter ${error.retryAfter}`)
        return true
      })
      await manager.users.create('u8') // another user has their own bucket
      await manager.close()
    })

    it('the user list ignores sessions past the idle timeout', async () => {
      const manager = new SessionManager({ ...base(), idleTimeout: '1h' })
      const created = await manager.users.create('u9')
      const store = await manager.store()
      const record = await store.read(created.key)
      assert.ok(record)
      record.meta.lastSeenAt = Date.now() - 2 * 3_600_000
      await store.write(created.key, record, 60_000)
      assert.deepEqual(await manager.users.list('u9'), [])
      assert.equal(await manager.users.get(created.id), null)
      await manager.close()
    })
  })
}

describe('security config validation', () => {
  it('gives precise messages', () => {
    assert.throws(() => new SessionManager({ maxSessionsPerUser: 0 }), /maxSessionsPerUser must be a whole number of 1 or more, got 0/)
    assert.throws(
      () => new SessionManager({ maxSessionsPerUser: { max: 2, onLimit: 'drop' as 'refuse' } }),
      /onLimit must be 'evict-oldest' or 'refuse'/,
    )
    assert.throws(
      () => new SessionManager({ rateLimit: { create: { points: 5, duration: 'soon' } } }),
      /rateLimit.create.duration must be a positive duration/,
    )
    assert.throws(() => new SessionManager({ binding: { ip: 'yes' as unknown as true } }), /binding.ip must be true, false or 'subnet'/)
    assert.throws(() => new SessionManager({ binding: {} }), /binding binds to nothing/)
    assert.throws(() => new SessionManager({ rememberMe: { cookie: 'bad name' } }), /rememberMe.cookie must be a cookie token/)
    assert.throws(() => new SessionManager({ securityStore: 'redis' }), /securityStore names the driver "redis", which is not configured/)
  })
})

describe('manager.users', () => {
  it('is the per-user API only: security internals are not on it', () => {
    const members = Object.getOwnPropertyNames(UserSessions.prototype).filter((name) => name !== 'constructor')
    assert.deepEqual(members.sort(), ['create', 'get', 'list', 'refresh', 'revoke', 'revokeAll', 'update'])
  })

  it('every call takes { driver } to work on a named driver', async () => {
    const folder2 = mkdtempSync(join(folder, 'named-'))
    const manager = new SessionManager({
      drivers: { main: { driver: 'memory' }, disk: { driver: 'file', path: folder2 } },
      default: 'main',
    })
    const created = await manager.users.create('u1', { a: 1 }, { driver: 'disk' })
    assert.equal(await manager.users.get(created.id), null, 'not on the default driver')
    assert.deepEqual((await manager.users.get(created.id, { driver: 'disk' }))?.data, { a: 1 })
    assert.equal(await manager.users.update(created.id, { a: 2 }, { driver: 'disk' }), true)
    assert.equal(await manager.users.refresh(created.id, { driver: 'disk' }), true)
    assert.equal((await manager.users.list('u1', { driver: 'disk' })).length, 1)
    assert.deepEqual(await manager.users.list('u1'), [])
    assert.equal(await manager.users.revoke(created.id, { driver: 'disk' }), true)
    assert.equal(await manager.users.revokeAll('u1', { driver: 'disk' }), 0)
    await manager.close()
  })
})
