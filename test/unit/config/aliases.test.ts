import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CONFIG_ALIASES, translateAliases } from '../../../src/config/aliases.js'
import { resolveConfig } from '../../../src/config/resolve.js'
import { SessionConfigError } from '../../../src/lib/errors.js'

const fails = (attempt: () => unknown, message: RegExp): void => {
  assert.throws(attempt, (error: unknown) => error instanceof SessionConfigError && message.test(error.message), `expected ${message}`)
}

describe('config aliases (docs/seeds.md)', () => {
  it('is one table: alias, canonical path and seed', () => {
    assert.deepEqual(
      CONFIG_ALIASES.map(({ alias, canonical, seed }) => [alias, canonical, seed]),
      [
        ['age', 'lifetime', '002'],
        ['cookieName', 'cookie.name', '002'],
        ['clearWithBrowser', 'cookie.clearWithBrowser', '002'],
        ['redisConnection', 'connection', '002'],
      ],
    )
  })

  it('translates each alias to its canonical option, leaving the input untouched', () => {
    const given = { age: '2h', cookieName: 'adonis-session', clearWithBrowser: true, touchAfter: 0.5 }
    assert.deepEqual(translateAliases(given, 'manager'), {
      lifetime: '7200000ms',
      cookie: { name: 'adonis-session', clearWithBrowser: true },
      touchAfter: 0.5,
    })
    assert.deepEqual(given, { age: '2h', cookieName: 'adonis-session', clearWithBrowser: true, touchAfter: 0.5 })
    assert.deepEqual(translateAliases({ age: 90_000 }, 'driver', 'drivers.a'), { lifetime: '90000ms' })
    assert.deepEqual(translateAliases({ redisConnection: 'local' }, 'redis'), { connection: 'local' })
    // Aliases apply only where the seed used them.
    assert.deepEqual(translateAliases({ redisConnection: 'local' }, 'manager'), { redisConnection: 'local' })
    assert.deepEqual(translateAliases({ cookieName: 'x' }, 'driver'), { cookieName: 'x' })
  })

  it('merges into a cookie given as a name or as options', () => {
    assert.deepEqual(translateAliases({ cookie: 'sid', clearWithBrowser: true }, 'manager'), {
      cookie: { name: 'sid', clearWithBrowser: true },
    })
    assert.deepEqual(translateAliases({ cookie: { secure: true }, cookieName: 'sid' }, 'manager'), {
      cookie: { secure: true, name: 'sid' },
    })
    fails(() => translateAliases({ cookie: 42, cookieName: 'sid' }, 'manager'), /cookie must be a name or an options object, got 42/)
  })

  it('refuses an alias given together with its canonical option', () => {
    fails(() => resolveConfig({ lifetime: 60, age: '2h' }), /age and lifetime are the same option.*give only lifetime/)
    fails(() => resolveConfig({ cookie: { name: 'a' }, cookieName: 'b' }), /cookieName and cookie\.name are the same option/)
    fails(() => resolveConfig({ cookie: 'a', cookieName: 'b' }), /cookieName and cookie\.name/)
    fails(
      () => resolveConfig({ cookie: { clearWithBrowser: false }, clearWithBrowser: true }),
      /clearWithBrowser and cookie\.clearWithBrowser/,
    )
    fails(
      () => resolveConfig({ drivers: { a: { driver: 'memory', lifetime: 5, age: '1h' } } }),
      /drivers\.a\.age and drivers\.a\.lifetime are the same option/,
    )
    fails(
      () => resolveConfig({ driver: 'redis', connection: { port: 6379 }, redisConnection: 'local' } as never),
      /redisConnection and connection are the same option/,
    )
  })

  it('checks the alias value under the alias name', () => {
    fails(() => resolveConfig({ age: 'soon' }), /^age must be a positive duration/)
    fails(() => resolveConfig({ drivers: { a: { driver: 'memory', age: -1 } } }), /^drivers\.a\.age must be a positive duration/)
    fails(() => resolveConfig({ cookieName: 'bad name' }), /cookie\.name must be a cookie token/)
  })

  it('resolves the aliases to the same config as the canonical names', () => {
    const seed = resolveConfig({ age: '90m', cookieName: 'adonis-session', clearWithBrowser: true })
    const canonical = resolveConfig({ lifetime: 90, cookie: { name: 'adonis-session', clearWithBrowser: true } })
    assert.equal(seed.lifetimeMs, canonical.lifetimeMs)
    assert.deepEqual(seed.cookie, canonical.cookie)
    assert.equal(resolveConfig({ age: 1_234_567 }).lifetimeMs, 1_234_567)
  })
})
