import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { ClientRequirement } from '../../../src/drivers/client.js'
import { BUILTIN_DRIVERS, driverOptions } from '../../../src/drivers/registry.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { SessionConfigError } from '../../../src/lib/errors.js'
import { SessionManager } from '../../../src/index.js'

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
}

const MODULES = {
  memory: () => import('../../../src/drivers/memory.js'),
  file: () => import('../../../src/drivers/file.js'),
  cookie: () => import('../../../src/drivers/cookie.js'),
  redis: () => import('../../../src/drivers/redis.js'),
  sqlite: () => import('../../../src/drivers/sqlite.js'),
  postgres: () => import('../../../src/drivers/postgres.js'),
} as const

/** One misspelled option per driver, with the option the error must suggest. */
const MISSPELLED: Record<keyof typeof MODULES, [options: Record<string, unknown>, suggestion: string]> = {
  memory: [{ maxSesions: 10 }, 'maxSessions'],
  file: [{ path: '/tmp/sessions', lockTimout: 10 }, 'lockTimeout'],
  cookie: [{ keyring: new Keyring(['k'.repeat(32)]), maxChunk: 2 }, 'maxChunks'],
  redis: [{ conection: { host: '127.0.0.1' } }, 'connection'],
  sqlite: [{ path: ':memory:', tabel: 'sessions' }, 'table'],
  postgres: [{ connection: 'postgres://localhost/x', tabel: 'sessions' }, 'table'],
}

describe('built-in driver modules: one shape', () => {
  it('the registry knows exactly the six built-ins, and imports none of them up front', () => {
    assert.deepEqual(Object.keys(BUILTIN_DRIVERS).sort(), Object.keys(MODULES).sort())
    const source = readFileSync(new URL('../../../src/drivers/registry.ts', import.meta.url), 'utf8')
    assert.doesNotMatch(source, /^import (?!type ).*from '\.\/(memory|file|cookie|redis|sqlite|postgres)\.js'/m)
  })

  for (const [name, load] of Object.entries(MODULES)) {
    it(`${name}: name constant, client declaration, options list, factory as default export`, async () => {
      const module = (await load()) as unknown as Record<string, unknown>
      const upper = name.toUpperCase()
      assert.equal(module[`${upper}_DRIVER`], name)
      assert.equal(typeof module.default, 'function')
      assert.equal(module.default, module[`${name}Driver`], `export default ${name}Driver`)
      assert.ok(`${upper}_CLIENT` in module, `declares ${upper}_CLIENT (null when it needs none)`)
      assert.equal(typeof module[`${upper}_OPTION_NAMES`], 'object')
    })

    it(`${name}: an unknown option is a SessionConfigError naming the closest known one`, async () => {
      const module = (await load()) as unknown as { default: (options: unknown) => unknown }
      const [options, suggestion] = MISSPELLED[name as keyof typeof MODULES]
      assert.throws(
        () => module.default(options),
        (error: unknown) =>
          error instanceof SessionConfigError &&
          error.message.startsWith(`${name} driver: unknown option`) &&
          error.message.includes(`Did you mean "${suggestion}"?`),
      )
    })
  }

  it('the declared clients are exactly the optional peer dependencies of package.json', async () => {
    const declared: ClientRequirement[] = []
    for (const [name, load] of Object.entries(MODULES)) {
      const client = ((await load()) as unknown as Record<string, ClientRequirement | null>)[`${name.toUpperCase()}_CLIENT`]
      if (client === null || client === undefined) continue
      assert.equal(client.driver, name)
      declared.push(client)
    }
    assert.deepEqual(Object.fromEntries(declared.map((client) => [client.package, client.range])), pkg.peerDependencies)
    for (const client of declared) assert.equal(pkg.peerDependenciesMeta[client.package]?.optional, true, client.package)
  })
})

describe('driver registry', () => {
  it('a built-in factory gets its own options only: the entry fields stay with the manager', async () => {
    assert.deepEqual(driverOptions({ driver: 'file', lifetime: 5, age: '2h', path: '/tmp/x' }), { path: '/tmp/x' })
    const create = await BUILTIN_DRIVERS.memory?.()
    assert.ok(await create?.({ driver: 'memory', lifetime: 5, age: '2h', maxSessions: 3 }, { cookieName: 'sid', lifetimeMs: 300_000 }))
  })

  it('a misspelled option of a configured built-in driver fails when the manager is built', () => {
    assert.throws(
      () => new SessionManager({ drivers: { main: { driver: 'memory', lifetime: 5, maxSesions: 3 } } }),
      /drivers\.main: unknown option "maxSesions"\. Did you mean "maxSessions"\?/,
    )
  })

  it("custom factories get the entry as written and the manager's facts apart", async () => {
    const manager = new SessionManager({ keys: ['k'.repeat(32)], cookie: { name: 'sid' } })
    const seen: unknown[] = []
    manager.extend('database', (config, context) => {
      seen.push(config, { ...context, keyring: context.keyring instanceof Keyring })
      return { read: async () => null, write: async () => {}, destroy: async () => {} }
    })
    await manager.open({ driver: 'database' })
    assert.deepEqual(seen, [{ driver: 'database' }, { cookieName: 'sid', lifetimeMs: 120 * 60_000, keyring: true }])
    await manager.close()
  })
})
