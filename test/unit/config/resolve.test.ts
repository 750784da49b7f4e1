import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defineConfig, resolveConfig, type SessionConfig } from '../../../src/config/resolve.js'
import { memoryDriver } from '../../../src/drivers/memory.js'
import { SessionConfigError } from '../../../src/lib/errors.js'

describe('resolveConfig', () => {
  it('holds every time in milliseconds', () => {
    const config = resolveConfig({
      lifetime: 90,
      idleTimeout: '30m',
      absoluteTimeout: '12h',
      gcInterval: '1h',
      storeTimeout: 2_500,
      rateLimit: { create: { points: 5, duration: '1m' } },
      rememberMe: { lifetime: '7d', reuseGrace: '5s' },
    })
    assert.equal(config.lifetimeMs, 5_400_000)
    assert.equal(config.idleTimeoutMs, 1_800_000)
    assert.equal(config.absoluteTimeoutMs, 43_200_000)
    assert.equal(config.gcIntervalMs, 3_600_000)
    assert.equal(config.storeTimeoutMs, 2_500)
    assert.equal(config.security.createLimit?.durationMs, 60_000)
    assert.equal(config.security.rememberMe.lifetimeMs, 604_800_000)
    assert.equal(config.security.rememberMe.reuseGraceMs, 5_000)
    assert.equal(resolveConfig({ lifetime: '2h' }).lifetimeMs, 7_200_000)
  })

  it('fills in the defaults', () => {
    const config = resolveConfig()
    assert.equal(config.enabled, true)
    assert.equal(config.defaultDriver, 'memory')
    assert.equal(config.lifetimeMs, 7_200_000)
    assert.equal(config.idleTimeoutMs, null)
    assert.equal(config.gcIntervalMs, null)
    assert.equal(config.touchAfter, 0.1)
    assert.equal(config.gcProbability, 0)
    assert.equal(config.storeTimeoutMs, 5_000)
    assert.equal(config.onStoreError, 'fail')
    assert.equal(config.keysConfigured, false)
    assert.equal(config.sealing, null)
    assert.equal(config.security.sessionLimit, null)
    assert.equal(config.security.binding, null)
  })

  it('takes a driver instance for the default driver', () => {
    const driver = memoryDriver()
    const config = resolveConfig({}, driver)
    assert.equal(config.defaultDriver, 'default')
    assert.equal(config.drivers.get('default')?.instance, driver)
    assert.equal(resolveConfig({ drivers: { mine: driver } }).drivers.get('mine')?.instance, driver)
  })

  it('refuses a config that is not an object', () => {
    assert.throws(() => resolveConfig(null as never), SessionConfigError)
    assert.throws(() => resolveConfig('memory' as never), /must be an object/)
  })

  it('types: closed options, a typed shorthand per built-in driver, driver names flow into default', () => {
    defineConfig({ driver: 'file', path: '/tmp/sessions' })
    defineConfig({ driver: 'redis', connection: { port: 6379 }, prefix: 'app:' })
    defineConfig({ driver: 'database' })
    defineConfig({ default: 'web', drivers: { web: { driver: 'memory' } } })
    const typeErrors = (): SessionConfig[] => [
      // @ts-expect-error a misspelled manager option
      { lifeTime: 5 },
      // @ts-expect-error a misspelled manager option
      { idelTimeout: '30m' },
      // @ts-expect-error a misspelled manager option
      { maxSesions: 2 },
      // @ts-expect-error a misspelled Redis option in the shorthand
      { driver: 'redis', conection: {} },
      // @ts-expect-error an option of another driver
      { driver: 'file', path: '/tmp', prefix: 'app:' },
      // @ts-expect-error a misspelled cookie option
      { cookie: { httponly: true } },
    ]
    assert.equal(typeof typeErrors, 'function')
    // @ts-expect-error default must name a configured driver
    assert.throws(() => defineConfig({ default: 'nope', drivers: { web: { driver: 'memory' } } }), /default names the driver "nope"/)
  })
})
