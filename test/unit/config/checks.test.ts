import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cookieName, durationMs, lifetimeMs, oneOf, optionKeys, plainObject, positiveInteger, share } from '../../../src/config/checks.js'
import { SessionConfigError } from '../../../src/lib/errors.js'

const fails = (attempt: () => unknown, message: RegExp): void => {
  assert.throws(attempt, (error: unknown) => error instanceof SessionConfigError && message.test(error.message), `expected ${message}`)
}

describe('option checks', () => {
  it('durations: strings with units or milliseconds, in milliseconds', () => {
    assert.equal(durationMs('idleTimeout', '30m'), 1_800_000)
    assert.equal(durationMs('idleTimeout', '1h30m'), 5_400_000)
    assert.equal(durationMs('idleTimeout', 250), 250)
    assert.equal(durationMs('reuseGrace', 0, { allowZero: true }), 0)
    fails(() => durationMs('idleTimeout', 0), /idleTimeout must be a positive duration/)
    fails(() => durationMs('idleTimeout', -1), /idleTimeout must be a positive duration.*got -1/)
    fails(() => durationMs('idleTimeout', 'soon'), /got "soon"/)
    fails(() => durationMs('idleTimeout', true), /idleTimeout must be a positive duration/)
  })

  it('lifetime: a number is minutes, a string needs its unit', () => {
    assert.equal(lifetimeMs('lifetime', 120), 7_200_000)
    assert.equal(lifetimeMs('lifetime', 0.5), 30_000)
    assert.equal(lifetimeMs('lifetime', '2h'), 7_200_000)
    assert.equal(lifetimeMs('lifetime', '90s'), 90_000)
    fails(() => lifetimeMs('lifetime', -5), /lifetime must be a positive number of minutes, got -5/)
    fails(() => lifetimeMs('lifetime', 0), /positive number of minutes, got 0/)
    fails(() => lifetimeMs('lifetime', Number.NaN), /positive number of minutes/)
    // A bare numeric string could mean minutes or milliseconds: refused rather than guessed.
    fails(() => lifetimeMs('lifetime', '120'), /duration with its unit.*got "120"/)
    fails(() => lifetimeMs('lifetime', '0m'), /got "0m"/)
    fails(() => lifetimeMs('drivers.a.lifetime', 'later'), /^drivers\.a\.lifetime must be/)
    fails(() => lifetimeMs('lifetime', null), /got null/)
  })

  it('shares are between 0 and 1', () => {
    assert.equal(share('touchAfter', 0), 0)
    assert.equal(share('touchAfter', 1), 1)
    fails(() => share('touchAfter', 1.5), /touchAfter must be a number between 0 and 1, got 1.5/)
    fails(() => share('gcProbability', '0.1'), /gcProbability must be a number between 0 and 1/)
    fails(() => share('gcProbability', Number.NaN), /between 0 and 1/)
  })

  it('cookie names are tokens, whichever option names the cookie', () => {
    assert.equal(cookieName('cookie.name', '__Host-sid'), '__Host-sid')
    for (const bad of ['bad name', 'sid;x', 'a=b', '', 'ü', 42]) {
      fails(() => cookieName('rememberMe.cookie', bad), /^rememberMe\.cookie must be a cookie token/)
    }
  })

  it('whole numbers, words and objects', () => {
    assert.equal(positiveInteger('max', 3), 3)
    fails(() => positiveInteger('max', 1.5), /max must be a whole number of 1 or more, got 1.5/)
    fails(() => positiveInteger('max', 0), /got 0/)
    assert.equal(oneOf('onStoreError', 'fail', ['fail', 'anonymous']), 'fail')
    fails(() => oneOf('onStoreError', 'ignore', ['fail', 'anonymous']), /onStoreError must be 'fail' or 'anonymous', got "ignore"/)
    fails(() => plainObject('binding', []), /binding must be an object/)
    fails(() => plainObject('binding', null), /binding must be an object, got null/)
  })

  it('optionKeys lists the keys of an options type', () => {
    assert.deepEqual(optionKeys<{ a?: number; b: string }>({ a: true, b: true }), ['a', 'b'])
    // @ts-expect-error a key missing from the list is a type error
    optionKeys<{ a?: number; b: string }>({ a: true })
    // @ts-expect-error a key not in the type is a type error
    optionKeys<{ a?: number }>({ a: true, c: true })
  })
})
