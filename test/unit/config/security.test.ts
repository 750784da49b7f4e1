import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bindingOption, rateLimitOption, rememberMeOption, sessionLimitOption } from '../../../src/config/security.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { SessionConfigError } from '../../../src/lib/errors.js'

const fails = (attempt: () => unknown, message: RegExp): void => {
  assert.throws(attempt, (error: unknown) => error instanceof SessionConfigError && message.test(error.message), `expected ${message}`)
}

describe('security options', () => {
  it('resolve to milliseconds and defaults', () => {
    assert.deepEqual(sessionLimitOption('maxSessionsPerUser', 3), { max: 3, onLimit: 'evict-oldest' })
    assert.deepEqual(sessionLimitOption('maxSessionsPerUser', { max: 1, onLimit: 'refuse' }), { max: 1, onLimit: 'refuse' })
    assert.deepEqual(rateLimitOption('rateLimit', { create: { points: 5, duration: '1m' } }), { points: 5, durationMs: 60_000 })
    assert.equal(rateLimitOption('rateLimit', {}), null)
    assert.deepEqual(rememberMeOption('rememberMe', {}), { lifetimeMs: 30 * 86_400_000, cookie: 'remember_me', reuseGraceMs: 10_000 })
    assert.deepEqual(rememberMeOption('rememberMe', { lifetime: '7d', reuseGrace: 0 }), {
      lifetimeMs: 7 * 86_400_000,
      cookie: 'remember_me',
      reuseGraceMs: 0,
    })
    assert.deepEqual(bindingOption('binding', { ip: true }), { ip: 'exact', userAgent: false, onMismatch: 'reject', trustProxy: false })
  })

  it('reject unknown and misspelled keys in every nested object', () => {
    fails(
      () => sessionLimitOption('maxSessionsPerUser', { max: 2, onlimit: 'refuse' }),
      /maxSessionsPerUser: unknown option "onlimit"\. Did you mean "onLimit"\?/,
    )
    fails(
      () => rateLimitOption('rateLimit', { creat: { points: 1, duration: '1m' } }),
      /rateLimit: unknown option "creat"\. Did you mean "create"\?/,
    )
    fails(
      () => rateLimitOption('rateLimit', { create: { point: 1, duration: '1m' } }),
      /rateLimit\.create: unknown option "point"\. Did you mean "points"\?/,
    )
    fails(() => bindingOption('binding', { ip: true, userAgnet: true }), /binding: unknown option "userAgnet"\. Did you mean "userAgent"\?/)
    fails(() => rememberMeOption('rememberMe', { lifeTime: '7d' }), /rememberMe: unknown option "lifeTime"\. Did you mean "lifetime"\?/)
  })

  it('reject wrong types', () => {
    fails(() => sessionLimitOption('maxSessionsPerUser', '3'), /maxSessionsPerUser must be an object, got "3"/)
    fails(() => sessionLimitOption('maxSessionsPerUser', { max: 0 }), /maxSessionsPerUser\.max must be a whole number/)
    fails(() => sessionLimitOption('maxSessionsPerUser', { max: 2, onLimit: 'drop' }), /onLimit must be 'evict-oldest' or 'refuse'/)
    fails(() => rateLimitOption('rateLimit', { create: { points: 5 } }), /rateLimit\.create\.duration must be a positive duration/)
    fails(() => rateLimitOption('rateLimit', { create: 5 }), /rateLimit\.create must be an object/)
    fails(() => bindingOption('binding', { ip: true, userAgent: 'yes' }), /binding\.userAgent must be true or false/)
    fails(() => bindingOption('binding', { ip: true, trustProxy: -1 }), /binding\.trustProxy must be/)
    fails(() => bindingOption('binding', { ip: true, onMismatch: 'ignore' }), /binding\.onMismatch must be 'reject' or 'log'/)
    fails(() => rememberMeOption('rememberMe', { cookie: 'a b' }), /rememberMe\.cookie must be a cookie token/)
    fails(() => rememberMeOption('rememberMe', { reuseGrace: 'soon' }), /rememberMe\.reuseGrace must be a positive duration/)
  })

  it('are checked when the manager is built', () => {
    fails(
      () => new SessionManager({ rememberMe: { cookei: 'x' } as never }),
      /rememberMe: unknown option "cookei"\. Did you mean "cookie"\?/,
    )
    fails(() => new SessionManager({ securityStore: '' }), /securityStore must be a non-empty string/)
    fails(() => new SessionManager({ securityStore: 'redis' }), /securityStore names the driver "redis", which is not configured/)
  })
})
