import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MANAGER_KEYS, MANAGER_OPTIONS, readOption } from '../../../src/config/options.js'
import { resolveConfig } from '../../../src/config/resolve.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { SessionConfigError } from '../../../src/lib/errors.js'

const fails = (attempt: () => unknown, message: RegExp): void => {
  assert.throws(attempt, (error: unknown) => error instanceof SessionConfigError && message.test(error.message), `expected ${message}`)
}

describe('the manager option declaration', () => {
  it('is the one list of keys', () => {
    assert.deepEqual(MANAGER_KEYS, Object.keys(MANAGER_OPTIONS))
    for (const key of ['lifetime', 'idleTimeout', 'maxSessionsPerUser', 'cookie', 'driver', 'drivers', 'sessionClass', 'metrics']) {
      assert.ok(MANAGER_KEYS.includes(key), key)
    }
    // Aliases are translated before the declaration is read; they are not options of their own.
    for (const alias of ['age', 'cookieName', 'clearWithBrowser', 'redisConnection']) assert.ok(!MANAGER_KEYS.includes(alias), alias)
  })

  it('reads an option through its check, or its default', () => {
    assert.equal(readOption({}, 'lifetime'), 7_200_000)
    assert.equal(readOption({}, 'storeTimeout'), 5_000)
    assert.equal(readOption({}, 'idleTimeout'), undefined)
    assert.equal(readOption({ gcInterval: false }, 'gcInterval'), null)
    assert.equal(readOption({ idleTimeout: '30m' }, 'idleTimeout'), 1_800_000)
  })

  for (const [typo, meant] of [
    ['lifeTime', 'lifetime'],
    ['idelTimeout', 'idleTimeout'],
    ['maxSesions', 'maxSessionsPerUser'],
    ['storeTimout', 'storeTimeout'],
    ['gcinterval', 'gcInterval'],
    ['cookies', 'cookie'],
  ] as const) {
    it(`a manager built with "${typo}" fails, naming "${meant}"`, () => {
      fails(
        () => new SessionManager({ [typo]: 5 } as never),
        new RegExp(`session config: unknown option "${typo}"\\. Did you mean "${meant}"\\?`),
      )
    })
  }

  it('an unknown option far from every key is still an error, listing the known ones', () => {
    fails(() => resolveConfig({ zebra: 1 } as never), /session config: unknown option "zebra"\. Known options: enabled, default, drivers/)
  })

  it('wrong types fail with what to write instead', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ enabled: 'yes' }, /enabled must be true or false, got "yes"/],
      [{ lifetime: '120' }, /lifetime must be a positive number of minutes or a duration with its unit/],
      [{ idleTimeout: 'soon' }, /idleTimeout must be a positive duration/],
      [{ absoluteTimeout: -1 }, /absoluteTimeout must be a positive duration/],
      [{ gcInterval: true }, /gcInterval must be a positive duration/],
      [{ storeTimeout: 0 }, /storeTimeout must be a positive duration/],
      [{ gcProbability: 2 }, /gcProbability must be a number between 0 and 1/],
      [{ default: 5 }, /default must be a non-empty string/],
      [{ keys: 'secret' }, /keys must be an array of secrets/],
      [{ keys: [undefined] }, /keys is empty/],
      [{ encryption: true }, /encryption must be an object/],
      [
        { encryption: { enabled: true, keys: [], algoritm: 'aes-256-gcm' } },
        /encryption: unknown option "algoritm"\. Did you mean "algorithm"\?/,
      ],
      [{ encryption: { algorithm: 'aes-128-cbc', key: 'x'.repeat(32) } }, /encryption\.algorithm must be 'aes-256-gcm'/],
      [{ encryption: { enabled: 'no' } }, /encryption\.enabled must be true or false/],
      [{ serializer: JSON }, /serializer must have serialize\(value\) and deserialize\(raw\) functions/],
      [{ schema: {} }, /schema must be a Standard Schema validator/],
      [{ sessionClass: {} }, /sessionClass must be a function/],
      [{ metrics: true }, /metrics must be an object, got true/],
      [{ cookie: { nmae: 'sid' } }, /cookie: unknown option "nmae"\. Did you mean "name"\?/],
    ]
    for (const [config, message] of cases) fails(() => new SessionManager(config as never), message)
  })

  it('encryption: { enabled: false } turns sealing off whatever else it holds', () => {
    assert.equal(resolveConfig({ encryption: { enabled: false } }).sealing, null)
  })
})
