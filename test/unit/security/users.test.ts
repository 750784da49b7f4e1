import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { SessionEvents } from '../../../src/session/events.js'
import { SessionManager, type SessionManagerOptions } from '../../../src/core/manager.js'
import { RateLimitError, SessionLimitError } from '../../../src/lib/errors.js'
import { storageKeyFor } from '../../../src/lib/ids.js'

const folder = mkdtempSync(join(tmpdir(), 'tessera-users-'))
after(() => rmSync(folder, { recursive: true, force: true }))

const drivers: Record<string, () => SessionManagerOptions> = {
  memory: () => ({ driver: 'memory' }),
  file: () => ({ driver: 'file', path: mkdtempSync(join(folder, 'f-')) }),
}

for (const [name, base] of Object.entries(drivers)) {
  describe(`per-user sessions on the ${name} driver`, () => {
    it('createSession → getSession → updateSession → refreshSession → deleteSession', async () => {
      const manager = new SessionManager(base())
      const created = await manager.createSession('u1', { role: 'user' })
      assert.equal(created.userId, 'u1')
      assert.deepEqual(created.data, { role: 'user' })
      assert.equal(created.key, storageKeyFor(created.id))
      assert.ok(created.expiresAt > created.createdAt)

      const loaded = await manager.getSession(created.id)
      assert.equal(loaded?.userId, 'u1')
      assert.deepEqual(loaded?.data, { role: 'user' })

      assert.equal(await manager.updateSession(created.id, { role: 'admin' }), true)
      assert.deepEqual((await manager.getSession(created.id))?.data, { role: 'admin' })
      assert.equal(await manager.refreshSession(created.id), true)

      await manager.deleteSession(created.id)
      assert.equal(await manager.getSession(created.id), null)
      assert.equal(await manager.updateSession(created.id, { role: 'x' }), false)
      assert.equal(await manager.refreshSession(created.id), false)
      await manager.close()
    })

    it('getSession returns null for unknown and malformed ids', async () => {
      const manager = new SessionManager(base())
      assert.equal(await manager.getSession('A'.repeat(43)), null)
      assert.equal(await manager.getSession('../../etc/passwd'), null)
      await manager.close()
    })

    it('listSessions shows device facts; revokeSession by key ends only that one', async () => {
      const manager = new SessionManager(base())
      const phone = await manager.createSession('u2', {}, { device: { name: 'Phone', ip: '10.0.0.1', userAgent: 'UA-1' } })
      const laptop = await manager.createSession('u2', {}, { device: { name: 'Laptop', ip: '10.0.0.2' } })
      await manager.createSession('someone-else')
      const list = await manager.listSessions('u2')
      assert.equal(list.length, 2)
      const entry = list.find((item) => item.key === phone.key)
      assert.equal(entry?.deviceName, 'Phone')
      assert.equal(entry?.ip, '10.0.0.1')
      assert.equal(entry?.userAgent, 'UA-1')
      assert.equal(typeof entry?.lastActiveAt, 'number')
      assert.ok(!JSON.stringify(list).includes(phone.id), 'the list never carries session ids')

      assert.equal(await manager.revokeSession(phone.key, { userId: 'someone-else' }), false, 'ownership is checked')
      assert.notEqual(await manager.getSession(phone.id), null)
      assert.equal(await manager.revokeSession(phone.key, { userId: 'u2' }), true)
      assert.equal(await manager.getSession(phone.id), null)
      assert.notEqual(await manager.getSession(laptop.id), null)
      assert.equal(await manager.revokeSession(laptop.id), true, 'an id works as well as a key')
      assert.deepEqual(await manager.listSessions('u2'), [])
      await manager.close()
    })

    it('revokeAll keeps the excepted session and emits REVOKED', async () => {
      const manager = new SessionManager(base())
      const events: [string, number][] = []
      manager.on(SessionEvents.REVOKED, (userId, removed) => events.push([userId, removed]))
      const current = await manager.createSession('u3')
      const others = await Promise.all([manager.createSession('u3'), manager.createSession('u3')])
      assert.equal(await manager.revokeAll('u3', { except: current.id }), 2)
      assert.notEqual(await manager.getSession(current.id), null)
      for (const other of others) assert.equal(await manager.getSession(other.id), null)
      assert.deepEqual(events, [['u3', 2]])
      await manager.close()
    })

    it('maxSessionsPerUser evicts the oldest sessions', async () => {
      const manager = new SessionManager({ ...base(), maxSessionsPerUser: 2 })
      const first = await manager.createSession('u4')
      const store = await manager.store()
      const record = await store.read(first.key)
      assert.ok(record)
      record.meta.createdAt -= 60_000 // clearly the oldest, whatever the clock resolution
      await store.write(first.key, record, 60_000)
      const second = await manager.createSession('u4')
      const third = await manager.createSession('u4')
      assert.equal(await manager.getSession(first.id), null)
      assert.notEqual(await manager.getSession(third.id), null, 'the new login always survives')
      assert.equal((await manager.listSessions('u4')).length, 2)
      assert.ok(second.id)
      await manager.close()
    })

    it('exclusive login (max 1) ends the other device when a session logs in through setUser', async () => {
      const manager = new SessionManager({ ...base(), maxSessionsPerUser: 1 })
      const elsewhere = await manager.createSession('u5')
      const session = await manager.open()
      session.put('cart', 1)
      await session.save()
      await session.regenerate()
      session.auth.setUser('u5')
      await session.save()
      assert.equal(await manager.getSession(elsewhere.id), null)
      assert.equal((await manager.getSession(session.sessionId))?.userId, 'u5')
      await manager.close()
    })

    it("maxSessionsPerUser with onLimit 'refuse' refuses the new login with SessionLimitError (403)", async () => {
      const manager = new SessionManager({ ...base(), maxSessionsPerUser: { max: 1, onLimit: 'refuse' } })
      const first = await manager.createSession('u6')
      await assert.rejects(manager.createSession('u6'), (error: unknown) => {
        assert.ok(error instanceof SessionLimitError)
        assert.equal(error.status, 403)
        assert.equal(error.code, 'E_SESSION_LIMIT')
        return true
      })
      assert.notEqual(await manager.getSession(first.id), null)
      assert.equal((await manager.listSessions('u6')).length, 1)
      await manager.close()
    })

    it('rate-limits createSession per user, with retryAfter', async () => {
      const manager = new SessionManager({ ...base(), rateLimit: { create: { points: 2, duration: '1m' } } })
      await manager.createSession('u7')
      await manager.createSession('u7')
      await assert.rejects(manager.createSession('u7'), (error: unknown) => {
        assert.ok(error instanceof RateLimitError)
        assert.equal(error.status, 429)
        assert.equal(error.code, 'E_SESSION_RATE_LIMITED')
        assert.ok(error.retryAfter >= 1 && error.retryAfter <= 30, `retryAfter ${error.retryAfter}`)
        return true
      })
      await manager.createSession('u8') // another user has their own bucket
      await manager.close()
    })

    it('the user list ignores sessions past the idle timeout', async () => {
      const manager = new SessionManager({ ...base(), idleTimeout: '1h' })
      const created = await manager.createSession('u9')
      const store = await manager.store()
      const record = await store.read(created.key)
      assert.ok(record)
      record.meta.lastSeenAt = Date.now() - 2 * 3_600_000
      await store.write(created.key, record, 60_000)
      assert.deepEqual(await manager.listSessions('u9'), [])
      assert.equal(await manager.getSession(created.id), null)
      await manager.close()
    })
  })
}

describe('security config validation', () => {
  it('gives precise messages', () => {
    assert.throws(() => new SessionManager({ maxSessionsPerUser: 0 }), /maxSessionsPerUser must be a whole number of 1 or more, got 0/)
    assert.throws(() => new SessionManager({ maxSessionsPerUser: { max: 2, onLimit: 'drop' as 'refuse' } }), /onLimit must be 'evict-oldest' or 'refuse'/)
    assert.throws(() => new SessionManager({ rateLimit: { create: { points: 5, duration: 'soon' } } }), /rateLimit.create.duration must be a positive duration/)
    assert.throws(() => new SessionManager({ binding: { ip: 'yes' as unknown as true } }), /binding.ip must be true, false or 'subnet'/)
    assert.throws(() => new SessionManager({ binding: {} }), /binding binds to nothing/)
    assert.throws(() => new SessionManager({ rememberMe: { cookie: 'bad name' } }), /rememberMe.cookie must be a cookie token/)
    assert.throws(() => new SessionManager({ securityStore: 'redis' }), /securityStore names the driver "redis", which is not configured/)
  })
})
