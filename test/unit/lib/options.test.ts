import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SessionConfigError } from '../../../src/lib/errors.js'
import { closestKey, rejectUnknownOptions } from '../../../src/lib/options.js'

describe('rejectUnknownOptions', () => {
  const known = ['lifetime', 'idleTimeout', 'maxSessionsPerUser', 'connection', 'cookie']

  for (const [typo, meant] of [
    ['lifeTime', 'lifetime'],
    ['idelTimeout', 'idleTimeout'],
    ['maxSesions', 'maxSessionsPerUser'],
    ['conection', 'connection'],
  ] as const) {
    it(`names "${meant}" for the misspelling "${typo}"`, () => {
      assert.throws(
        () => rejectUnknownOptions({ [typo]: 1 }, known, 'session config'),
        (error: unknown) =>
          error instanceof SessionConfigError &&
          error.message.includes(`unknown option "${typo}"`) &&
          error.message.includes(`Did you mean "${meant}"?`),
      )
    })
  }

  it('accepts known keys and gives no guess for a word far from every key', () => {
    rejectUnknownOptions({ lifetime: 1, cookie: 'x' }, known, 'session config')
    assert.equal(closestKey('zebra', known), undefined)
    assert.throws(
      () => rejectUnknownOptions({ zebra: 1 }, known, 'drivers.redis'),
      /drivers\.redis: unknown option "zebra"\. Known options/,
    )
  })
})
