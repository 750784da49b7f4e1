import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { POSTGRES_CLIENT, PostgresDriver } from '../../../src/drivers/postgres.js'
import { BUILTIN_DRIVERS } from '../../../src/drivers/registry.js'
import { SQLITE_CLIENT, SqliteDriver } from '../../../src/drivers/sqlite.js'

const run = promisify(execFile)
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
  devDependencies: Record<string, string>
  exports: Record<string, unknown>
}

describe('SQL driver clients', () => {
  for (const requirement of [SQLITE_CLIENT, POSTGRES_CLIENT]) {
    it(`${requirement.driver}: the declared client matches package.json (optional peer, subpath export)`, () => {
      assert.equal(pkg.peerDependencies[requirement.package], requirement.range)
      assert.equal(pkg.peerDependenciesMeta[requirement.package]?.optional, true)
      assert.ok(pkg.devDependencies[requirement.package], 'installed for the tests')
      assert.ok(pkg.exports[`./drivers/${requirement.driver}`], 'has a subpath export')
    })
  }

  it('better-sqlite3 stays on 12.x (13 needs Node 22)', () => {
    assert.match(SQLITE_CLIENT.range, /^\^12\./)
  })

  it('the registry loads both drivers lazily by name', async () => {
    const [createSqlite, createPostgres] = [await BUILTIN_DRIVERS.sqlite?.(), await BUILTIN_DRIVERS.postgres?.()]
    assert.ok((await createSqlite?.({ driver: 'sqlite', path: ':memory:', lifetime: 5 }, {})) instanceof SqliteDriver)
    assert.ok((await createPostgres?.({ driver: 'postgres', connection: 'postgres://localhost/x' }, {})) instanceof PostgresDriver)
  })

  it('without the client packages installed, using a driver names the package to install', async () => {
    const here = import.meta.dirname
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      '--import',
      join(here, 'hide-clients.mjs'),
      join(here, 'missing-client-probe.ts'),
    ])
    const outcomes = JSON.parse(stdout) as Record<string, { name: string; code: string; packageName: string; message: string }>
    for (const [driver, pkgName, range] of [
      ['sqlite', 'better-sqlite3', '^12.0.0'],
      ['postgres', 'pg', '^8.0.0'],
      ['redis', 'ioredis', '^5.0.0'],
    ] as const) {
      const outcome = outcomes[driver]
      assert.equal(outcome?.name, 'MissingClientError', driver)
      assert.equal(outcome?.code, 'E_SESSION_CONFIG')
      assert.equal(outcome?.packageName, pkgName)
      assert.ok(outcome?.message.includes(`npm install ${pkgName}@"${range}"`), outcome?.message)
    }
  })
})
