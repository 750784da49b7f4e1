import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { MAX_COOKIE_AGE_MS, resolveConfig } from '../../../src/config/resolve.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { SessionConfigError } from '../../../src/lib/errors.js'

describe('expiry arithmetic (properties)', () => {
  it('lifetime in minutes becomes exactly minutes × 60 000 ms, for every driver that does not override it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 * 24 * 60 }), fc.integer({ min: 1, max: 600 }), (minutes, own) => {
        const config = resolveConfig({ lifetime: minutes, drivers: { a: { driver: 'memory' }, b: { driver: 'memory', lifetime: own } } })
        assert.equal(config.lifetimeMs, minutes * 60_000)
        assert.equal(config.drivers.get('a')?.lifetimeMs, minutes * 60_000)
        assert.equal(config.drivers.get('b')?.lifetimeMs, own * 60_000)
      }),
    )
  })

  it('age as a duration string equals the same age in milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 399 }), fc.integer({ min: 0, max: 23 }), (days, hours) => {
        const text = `${days}d${hours}h`
        assert.equal(resolveConfig({ age: text }).lifetimeMs, days * 86_400_000 + hours * 3_600_000)
      }),
    )
  })

  it('a cookie lifetime past 400 days is refused unless the cookie is a browser-session cookie', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (extraMs) => {
        const age = MAX_COOKIE_AGE_MS + extraMs
        assert.throws(() => resolveConfig({ age }), SessionConfigError)
        assert.equal(resolveConfig({ age, clearWithBrowser: true }).lifetimeMs, age)
      }),
      { numRuns: 50 },
    )
    assert.equal(resolveConfig({ age: MAX_COOKIE_AGE_MS }).lifetimeMs, MAX_COOKIE_AGE_MS)
  })

  it('the touch threshold is the touchAfter share of the lifetime, or of the idle timeout when that is shorter', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000 }),
        fc.option(fc.integer({ min: 1, max: 2_000 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (minutes, idleMinutes, share) => {
          const manager = new SessionManager({
            lifetime: minutes,
            touchAfter: share,
            ...(idleMinutes ? { idleTimeout: idleMinutes * 60_000 } : {}),
          })
          const context = await manager.context()
          const base = Math.min(minutes * 60_000, (idleMinutes ?? Number.POSITIVE_INFINITY) * 60_000)
          assert.equal(context.touchAfterMs, base * share)
          await manager.close()
        },
      ),
      { numRuns: 100 },
    )
  })
})
