import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cookieOption, DEFAULT_COOKIE_NAME } from '../../../src/config/cookie.js'
import { SessionConfigError } from '../../../src/lib/errors.js'

const fails = (attempt: () => unknown, message: RegExp): void => {
  assert.throws(attempt, (error: unknown) => error instanceof SessionConfigError && message.test(error.message), `expected ${message}`)
}

describe('cookie rules', () => {
  it('fills in secure defaults; a string is the name', () => {
    const cookie = cookieOption('cookie', {})
    assert.equal(cookie.name, DEFAULT_COOKIE_NAME)
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.sameSite, 'lax')
    assert.equal(cookie.path, '/')
    assert.equal(cookie.clearWithBrowser, false)
    assert.equal(cookieOption('cookie', 'app_session').name, 'app_session')
    assert.equal(cookieOption('cookie', { sameSite: 'Strict' }).sameSite, 'strict')
    assert.equal(cookieOption('cookie', { name: '__Secure-sid' }).secure, true)
  })

  it('rejects unknown and misspelled keys, naming the closest', () => {
    fails(() => cookieOption('cookie', { httponly: false }), /cookie: unknown option "httponly"\. Did you mean "httpOnly"\?/)
    fails(() => cookieOption('cookie', { sameSites: 'lax' }), /Did you mean "sameSite"\?/)
    fails(() => cookieOption('cookie', { maxAge: 60 }), /cookie: unknown option "maxAge"/)
  })

  it('rejects wrong types', () => {
    fails(() => cookieOption('cookie', 42), /cookie must be an object, got 42/)
    fails(() => cookieOption('cookie', { secure: 'yes' }), /cookie\.secure must be true or false, got "yes"/)
    fails(() => cookieOption('cookie', { httpOnly: 1 }), /cookie\.httpOnly must be true or false/)
    fails(() => cookieOption('cookie', { clearWithBrowser: 'true' }), /cookie\.clearWithBrowser must be true or false/)
    fails(() => cookieOption('cookie', { sameSite: 1 }), /cookie\.sameSite must be 'strict', 'lax' or 'none', got 1/)
    fails(() => cookieOption('cookie', { path: 'app' }), /cookie\.path must start with "\/"/)
    fails(() => cookieOption('cookie', { domain: '' }), /cookie\.domain must be a non-empty string/)
    fails(() => cookieOption('cookie', { name: 'a b' }), /cookie\.name must be a cookie token/)
  })

  it('enforces the prefix rules and SameSite=None with Secure', () => {
    fails(() => cookieOption('cookie', { name: '__Secure-sid', secure: false }), /"__Secure-" cookie name requires secure: true/)
    fails(() => cookieOption('cookie', { name: '__Host-sid', path: '/app' }), /"__Host-" cookie name requires/)
    fails(() => cookieOption('cookie', { sameSite: 'none', secure: false }), /sameSite 'none' requires cookie\.secure: true/)
    assert.equal(cookieOption('cookie', { sameSite: 'none', secure: true }).sameSite, 'none')
  })
})
