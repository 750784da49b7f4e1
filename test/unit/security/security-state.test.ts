import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SessionEvents } from '../../../src/session/events.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { RateLimitError, SessionConfigError } from '../../../src/lib/errors.js'
import { stateKey } from '../../../src/security/state.js'

const KEY = 's'.repeat(40)

describe('manager.security (the server-side security state)', () => {
  it('keeps its records in securityStore when one is named, else in the default driver', async () => {
    const manager = new SessionManager({
      drivers: { main: { driver: 'memory' }, state: { driver: 'memory' } },
      default: 'main',
      securityStore: 'state',
    })
    await manager.security.markRevoked('u1', { sessions: false, rememberMe: true })
    assert.ok(await (await manager.store('state')).read(stateKey('revoked', 'u1')))
    assert.equal(await (await manager.store('main')).read(stateKey('revoked', 'u1')), null)
    const plain = new SessionManager()
    assert.equal(await plain.security.store(), await plain.store())
    await Promise.all([manager.close(), plain.close()])
  })

  it('refuses the cookie driver as its store, saying what to configure', async () => {
    const manager = new SessionManager({ drivers: { cookie: { driver: 'cookie' } }, default: 'cookie', keys: [KEY] })
    await assert.rejects(
      manager.security.store(),
      (error: unknown) => error instanceof SessionConfigError && /securityStore/.test(error.message),
    )
    // Revoking nothing needs no store, so it does not fail either.
    await manager.security.markRevoked('u1', { sessions: false, rememberMe: false })
    await manager.close()
  })

  it('limitCreation takes from one bucket per scope and subject, and emits RATE_LIMITED when refused', async () => {
    const manager = new SessionManager({ rateLimit: { create: { points: 1, duration: '1m' } } })
    const scopes: string[] = []
    manager.on(SessionEvents.RATE_LIMITED, (scope) => scopes.push(scope))
    await manager.security.limitCreation('ip', '192.0.2.1')
    await manager.security.limitCreation('user', '192.0.2.1')
    await manager.security.limitCreation('ip', '192.0.2.2')
    await assert.rejects(manager.security.limitCreation('ip', '192.0.2.1'), RateLimitError)
    assert.deepEqual(scopes, ['ip'])
    await new SessionManager().security.limitCreation('ip', 'x') // no rule: nothing to take
    await manager.close()
  })

  it('revocation markers: sessions created until now are revoked, kept keys are not, remember-me generations count up', async () => {
    const manager = new SessionManager()
    const before = Date.now()
    assert.equal(await manager.security.isRevoked('u1', before), false)
    assert.equal(await manager.security.rememberGeneration('u1'), 0)
    await manager.security.markRevoked('u1', { sessions: true, rememberMe: true, keep: ['kept'] })
    assert.equal(await manager.security.isRevoked('u1', before, 'other'), true)
    assert.equal(await manager.security.isRevoked('u1', before, 'kept'), false)
    assert.equal(await manager.security.isRevoked('u1', Date.now()), false, 'markRevoked returns once the clock has moved on')
    assert.equal(await manager.security.isRevoked('u2', before), false)
    assert.equal(await manager.security.rememberGeneration('u1'), 1)
    await manager.security.markRevoked('u1', { sessions: false, rememberMe: true })
    assert.equal(await manager.security.rememberGeneration('u1'), 2)
    assert.equal(await manager.security.isRevoked('u1', before, 'kept'), false, 'a remember-me revocation keeps the session marker')
    await manager.close()
  })
})
