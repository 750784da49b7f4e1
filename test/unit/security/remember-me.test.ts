import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { SessionEvents } from '../../../src/session/events.js'
import { SessionManager, type SessionManagerOptions } from '../../../src/manager/manager.js'
import { stateKey } from '../../../src/security/state.js'
import { sha256 } from '../../../src/lib/crypto.js'
import { rememberMe } from '../../../src/security/remember-me.js'

const folder = mkdtempSync(join(tmpdir(), 'tessera-remember-'))
after(() => rmSync(folder, { recursive: true, force: true }))

const drivers: Record<string, () => SessionManagerOptions> = {
  memory: () => ({ driver: 'memory', rememberMe: { reuseGrace: 0 } }),
  file: () => ({ driver: 'file', path: mkdtempSync(join(folder, 'f-')), rememberMe: { reuseGrace: 0 } }),
}

for (const [name, config] of Object.entries(drivers)) {
  describe(`remember-me on the ${name} driver`, () => {
    it('stores only a hash of the validator, under a hash of the selector', async () => {
      const manager = new SessionManager(config())
      const issued = await rememberMe(manager).issue('u1')
      const [selector, validator] = issued.value.split('.') as [string, string]
      const record = await (await manager.store()).read(stateKey('remember', selector))
      assert.ok(record)
      const stored = JSON.stringify(record)
      assert.ok(!stored.includes(validator), 'the validator itself is never stored')
      assert.ok(!stored.includes(selector), 'nor the selector')
      assert.equal(record.data.hash, sha256(validator))
      assert.equal(record.meta.userId, undefined, 'tokens never show up as sessions of the user')
      assert.equal(issued.maxAge, 30 * 86_400)
      await manager.close()
    })

    it('a token works once and is rotated', async () => {
      const manager = new SessionManager(config())
      const remember = rememberMe(manager)
      const first = await remember.issue('u2')
      const used = await remember.consume(first.value)
      assert.equal(used.status, 'valid')
      assert.ok(used.status === 'valid' && used.userId === 'u2')
      const next = used.status === 'valid' ? used.next.value : ''
      assert.notEqual(next, first.value)
      assert.equal((await remember.consume(next)).status, 'valid', 'the rotated token works')
      await manager.close()
    })

    it('reuse of a rotated token is theft: all tokens and sessions of the user are revoked, an event is emitted', async () => {
      const manager = new SessionManager(config())
      const remember = rememberMe(manager)
      const thefts: string[] = []
      manager.on(SessionEvents.REMEMBER_ME_THEFT, (userId) => thefts.push(userId))
      const stolen = await remember.issue('victim')
      const otherDevice = await remember.issue('victim')
      const bystander = await remember.issue('bystander')
      const sessions = [await manager.users.create('victim'), await manager.users.create('victim')]
      const bystanderSession = await manager.users.create('bystander')

      const legit = await remember.consume(stolen.value) // the owner uses it first
      assert.equal(legit.status, 'valid')
      const replay = await remember.consume(stolen.value) // the thief replays the copy
      assert.deepEqual(replay, { status: 'theft', userId: 'victim' })
      assert.deepEqual(thefts, ['victim'])

      for (const session of sessions) assert.equal(await manager.users.get(session.id), null)
      assert.equal((await remember.consume(otherDevice.value)).status, 'invalid')
      assert.equal(
        (await remember.consume(legit.status === 'valid' ? legit.next.value : '')).status,
        'invalid',
        'even the rotated token dies',
      )
      assert.notEqual(await manager.users.get(bystanderSession.id), null)
      assert.equal((await remember.consume(bystander.value)).status, 'valid')
      const fresh = await remember.issue('victim')
      assert.equal((await remember.consume(fresh.value)).status, 'valid', 'signing in again works after the revocation')
      await manager.close()
    })

    it('a wrong validator is refused without revoking anything', async () => {
      const manager = new SessionManager(config())
      const remember = rememberMe(manager)
      const issued = await remember.issue('u3')
      const [selector] = issued.value.split('.')
      assert.equal((await remember.consume(`${selector}.${'A'.repeat(43)}`)).status, 'invalid')
      assert.equal((await remember.consume(issued.value)).status, 'valid')
      await manager.close()
    })

    it('malformed input is simply invalid', async () => {
      const manager = new SessionManager(config())
      const remember = rememberMe(manager)
      for (const token of [undefined, '', 'a.b', '.'.repeat(66), `${'a'.repeat(22)}.${'b'.repeat(44)}`, '__proto__']) {
        assert.equal((await remember.consume(token)).status, 'invalid')
      }
      await manager.close()
    })

    it('revokeAll(userId) kills remember-me tokens too; restore() regenerates and binds the session', async () => {
      const manager = new SessionManager(config())
      const remember = rememberMe(manager)
      const before = await remember.issue('u4')
      await manager.users.revokeAll('u4')
      assert.equal((await remember.consume(before.value)).status, 'invalid')
      const token = await remember.issue('u4')
      const session = await manager.open()
      session.put('cart', 1)
      await session.save()
      const anonymousId = session.sessionId
      const result = await remember.restore(session, token.value)
      assert.equal(result.status, 'valid')
      assert.notEqual(session.sessionId, anonymousId, 'new id against fixation')
      await session.save()
      assert.equal((await manager.users.get(session.sessionId))?.userId, 'u4')
      assert.equal(await manager.users.get(anonymousId), null)
      await manager.close()
    })
  })
}

describe('remember-me reuse grace', () => {
  it('a rotated token presented again within the grace window is refused but not treated as theft', async () => {
    const manager = new SessionManager({ rememberMe: { reuseGrace: '1m' } })
    const remember = rememberMe(manager)
    const thefts: string[] = []
    manager.on(SessionEvents.REMEMBER_ME_THEFT, (userId) => thefts.push(userId))
    const token = await remember.issue('u5')
    const session = await manager.users.create('u5')
    assert.equal((await remember.consume(token.value)).status, 'valid')
    assert.equal((await remember.consume(token.value)).status, 'invalid')
    assert.deepEqual(thefts, [])
    assert.notEqual(await manager.users.get(session.id), null)
  })
})
