import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { builtinDriverOptions, resolveDriverEntry } from '../../../src/config/drivers.js'
import { resolveConfig, type SessionConfig } from '../../../src/config/resolve.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { memoryDriver } from '../../../src/drivers/memory.js'
import { SessionConfigError } from '../../../src/lib/errors.js'

const fails = (attempt: () => unknown, message: RegExp): void => {
  assert.throws(attempt, (error: unknown) => error instanceof SessionConfigError && message.test(error.message), `expected ${message}`)
}

describe('driver entries', () => {
  it('the shorthand keeps its driver options apart from the manager options', () => {
    const config = resolveConfig({ driver: 'file', path: '/tmp/sessions', lockTimeout: 100, lifetime: 30 })
    assert.equal(config.defaultDriver, 'file')
    assert.deepEqual(config.drivers.get('file')?.config, { driver: 'file', path: '/tmp/sessions', lockTimeout: 100 })
    assert.equal(config.drivers.get('file')?.lifetimeMs, 1_800_000)
  })

  it('a misspelled option in the shorthand names the closest manager or driver option', () => {
    fails(
      () => resolveConfig({ driver: 'redis', conection: { port: 6379 } } as never),
      /session config: unknown option "conection"\. Did you mean "connection"\?/,
    )
    fails(() => new SessionManager({ driver: 'redis', conection: { port: 6379 } } as never), /Did you mean "connection"\?/)
    fails(() => resolveConfig({ driver: 'file', pth: '/tmp' } as never), /unknown option "pth"\. Did you mean "path"\?/)
    fails(() => resolveConfig({ driver: 'memory', maxSesions: 5 } as never), /Did you mean "maxSessions"\?/)
    // An option of another built-in driver is not an option of this one.
    fails(() => resolveConfig({ driver: 'file', path: '/tmp', prefix: 'x' } as never), /unknown option "prefix"/)
  })

  it('a misspelled option in a named built-in driver entry is an error at construction', () => {
    fails(
      () => new SessionManager({ drivers: { cache: { driver: 'redis', conection: {} } } }),
      /drivers\.cache: unknown option "conection"\. Did you mean "connection"\?/,
    )
    fails(
      () => new SessionManager({ drivers: { a: { driver: 'memory', lifeTime: 5 } } }),
      /drivers\.a: unknown option "lifeTime"\. Did you mean "lifetime"\?/,
    )
  })

  it('options of a driver registered with extend() reach its factory unchecked', async () => {
    let received: Record<string, unknown> | undefined
    SessionManager.extend('config-test-database', (config) => {
      received = config
      return memoryDriver()
    })
    const manager = new SessionManager({ driver: 'config-test-database', table: 'sessions' } as SessionConfig)
    await manager.open()
    assert.equal(received?.table, 'sessions')
    assert.equal(received?.driver, 'config-test-database')
    await manager.close()
  })

  it('a driver entry may set its own lifetime, in minutes or as a duration', () => {
    const config = resolveConfig({
      lifetime: 10,
      drivers: { a: { driver: 'memory' }, b: { driver: 'memory', lifetime: 30 }, c: { driver: 'memory', age: 60_000 } },
    })
    assert.equal(config.drivers.get('a')?.lifetimeMs, 600_000)
    assert.equal(config.drivers.get('b')?.lifetimeMs, 1_800_000)
    assert.equal(config.drivers.get('c')?.lifetimeMs, 60_000)
    assert.equal(resolveDriverEntry('drivers.b', { driver: 'memory', lifetime: '2h' }, 1).lifetimeMs, 7_200_000)
    fails(
      () => resolveConfig({ drivers: { a: { driver: 'memory', lifetime: -1 } } }),
      /drivers\.a\.lifetime must be a positive number of minutes, got -1/,
    )
  })

  it('rejects entries that are not driver configs', () => {
    fails(() => resolveConfig({ drivers: { a: 'memory' } } as never), /drivers\.a must be an object, got "memory"/)
    fails(() => resolveConfig({ drivers: { a: { path: '/tmp' } } } as never), /drivers\.a must be an object with a "driver" name/)
    fails(() => resolveConfig({ drivers: [] } as never), /drivers must be an object/)
    fails(() => resolveConfig({ driver: 42 } as never), /driver must be a driver name/)
  })

  it('redisConnection becomes connection (the driver resolves a name against connections)', () => {
    const connections = { local: { host: '127.0.0.1', port: 6379 } }
    const seed = resolveConfig({ driver: 'redis', redisConnection: 'local', connections })
    assert.equal(seed.drivers.get('redis')?.config.connection, 'local')
    assert.equal(seed.drivers.get('redis')?.config.redisConnection, undefined)
    assert.equal(resolveDriverEntry('drivers.r', { driver: 'redis', connection: 'redis://h:1/2' }, 1).config.connection, 'redis://h:1/2')
    fails(() => resolveConfig({ driver: 'redis', redisConnection: 'local', connection: 'redis://h' } as never), /give only connection/)
  })

  it('lists the options of the built-in drivers only', () => {
    assert.deepEqual(builtinDriverOptions('file'), ['path', 'lockTimeout'])
    assert.equal(builtinDriverOptions('database'), undefined)
    assert.ok(builtinDriverOptions('redis')?.includes('connection'))
  })
})
