import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'

// These tests run against the built package (npm test builds first), the way an app imports it.
const root = join(import.meta.dirname, '..', '..')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string
  exports: Record<string, string | { types: string; default: string }>
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
}
const subpaths = Object.entries(manifest.exports).filter(([path]) => path !== './package.json') as [
  string,
  { types: string; default: string },
][]

describe('package exports', () => {
  it('every export points at a built file and its type declarations', () => {
    for (const [subpath, target] of subpaths) {
      assert.ok(existsSync(join(root, target.default)), `${subpath} → ${target.default} is not built`)
      assert.ok(existsSync(join(root, target.types)), `${subpath} → ${target.types} is not built`)
    }
  })

  it('every adapter and optional driver that is built is exported', () => {
    const exported = new Set(subpaths.map(([, target]) => target.default))
    const modules = [
      ...readdirSync(join(root, 'dist/http'))
        .filter((name) => name.endsWith('.js'))
        .map((name) => `./dist/http/${name}`),
      ...['memory', 'file', 'cookie', 'redis', 'sqlite', 'postgres'].map((name) => `./dist/drivers/${name}.js`),
    ]
    const internal = new Set(
      ['lifecycle', 'cookies', 'response', 'connect', 'csrf', 'security-hooks', 'remember-me', 'web-response'].map(
        (name) => `./dist/http/${name}.js`,
      ),
    )
    for (const module of modules) {
      if (internal.has(module)) continue
      assert.ok(exported.has(module), `${module} is built but not exported in package.json`)
    }
  })

  it('exports exactly the public names listed here: an internal that leaks, or a name that goes, fails this test', async () => {
    const adapter = ['csrf', 'readonlySession', 'session', 'verifyCsrf']
    const driver = (upper: string, factory: string, ...more: string[]) =>
      [`${upper}_CLIENT`, `${upper}_DRIVER`, `${upper}_OPTION_NAMES`, 'default', factory, ...more].sort()
    const expected: Record<string, string[]> = {
      '.': [
        'RememberMe',
        'Session',
        'SessionEvents',
        'SessionManager',
        'SessionStore',
        'createSession',
        'defineConfig',
        'errors',
        'rememberMe',
        'typedJsonSerializer',
        'verifyCsrf',
      ],
      './express': [...adapter, 'rememberMeMiddleware'],
      './fastify': [...adapter, 'sessionOf'],
      './hono': adapter,
      './koa': adapter,
      './node': ['csrf', 'readonlySession', 'rememberMeMiddleware', 'verifyCsrf', 'withSession'],
      './fetch': ['csrf', 'readonlySession', 'verifyCsrf', 'withSession'],
      './driver': ['applyChanges', 'emptyData', 'isSessionDriver', 'parseRecord', 'supports', 'toStoredRecord'],
      './drivers/memory': driver('MEMORY', 'memoryDriver', 'MemoryDriver'),
      './drivers/file': driver('FILE', 'fileDriver', 'FileDriver'),
      './drivers/cookie': driver('COOKIE', 'cookieDriver', 'CookieDriver'),
      './drivers/redis': driver('REDIS', 'redisDriver', 'RedisDriver', 'FAIL_FAST_OPTIONS'),
      './drivers/sqlite': driver('SQLITE', 'sqliteDriver', 'SqliteDriver', 'schemaSql'),
      './drivers/postgres': driver('POSTGRES', 'postgresDriver', 'PostgresDriver', 'schemaSql'),
      './admin': ['SafeHtml', 'escapeHtml', 'formatDuration', 'html', 'raw', 'renderDashboard', 'sessionsChart'],
      './testing': ['makeRecord', 'randomKey', 'runDriverConformance'],
    }
    assert.deepEqual(subpaths.map(([subpath]) => subpath).sort(), Object.keys(expected).sort(), 'every subpath has its list here')
    for (const [subpath] of subpaths) {
      const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`
      const names = Object.keys((await import(specifier)) as object).sort()
      assert.deepEqual(names, [...(expected[subpath] ?? [])].sort(), `the public names of ${specifier}`)
    }
    const errors = Object.keys(((await import(manifest.name)) as { errors: object }).errors)
    assert.ok(errors.length > 10 && errors.every((name) => /Error$/.test(name)), 'errors holds the error classes, and only them')
  })

  it('imports by package name, the way a user app does', async () => {
    for (const [subpath] of subpaths) {
      const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`
      const module = (await import(specifier)) as Record<string, unknown>
      assert.ok(Object.keys(module).length > 0, `${specifier} exports nothing`)
    }
    const tessera = (await import(manifest.name)) as typeof import('../../src/index.js')
    const session = tessera.createSession({ driver: 'memory' })
    await session.start()
    session.put('a', 1)
    assert.equal(session.get('a'), 1)
    assert.equal(tessera.SessionStore, tessera.Session)
  })

  it('optional driver clients are optional peer dependencies', () => {
    for (const client of ['ioredis', 'pg', 'better-sqlite3']) {
      assert.ok(manifest.peerDependencies[client], `${client} must be a peer dependency`)
      assert.equal(manifest.peerDependenciesMeta[client]?.optional, true, `${client} must be optional`)
    }
  })

  it('passes publint', () => {
    const output = execFileSync(process.execPath, [join(root, 'node_modules/publint/src/cli.js'), '--strict'], {
      cwd: root,
      encoding: 'utf8',
    })
    assert.doesNotMatch(output, /error|warning/i, output)
  })
})
