// README's "no lost updates", over HTTP (Express), exactly where it is claimed: on the server-side
// drivers concurrent requests of one session all keep their changes; the sealed cookie driver,
// which has no server to merge in, keeps the seal of the response the browser stores last.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, describe, it } from 'node:test'
import express, { type Request } from 'express'
import type { SessionRequest } from '../../../src/http/express.js'
import { SessionManager } from '../../../src/index.js'
import type { SessionManagerOptions } from '../../../src/manager/manager.js'
import { redisMissing } from '../../helpers/redis-server.js'
import { pgTestConnection, probePostgres, randomTable } from '../sql/postgres-env.js'
import { Browser, COOKIE, KEY_A, listen, type RunningServer } from './support.js'

const N = 200
const folder = mkdtempSync(join(tmpdir(), 'tessera-lost-updates-'))
const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`
const redisGone = await redisMissing()
const postgresGone = await probePostgres()
if (postgresGone && process.env.CI) throw new Error(postgresGone)

/** The drivers README names for "no lost updates" (the server-side ones). */
const SERVER_SIDE: { name: string; options: () => Record<string, unknown>; skip: string | null }[] = [
  { name: 'memory', options: () => ({ driver: 'memory' }), skip: null },
  {
    name: 'file',
    // 200 writers queue on one session's file lock; on a loaded test machine that takes longer than the default 5 s.
    options: () => ({ driver: 'file', path: mkdtempSync(join(folder, 'sessions-')), lockTimeout: 60_000 }),
    skip: null,
  },
  { name: 'sqlite', options: () => ({ driver: 'sqlite', path: ':memory:' }), skip: null },
  { name: 'redis', options: () => ({ driver: 'redis', connection: { host: '127.0.0.1', port: 6379 }, prefix }), skip: redisGone },
  { name: 'postgres', options: () => ({ driver: 'postgres', connection: pgTestConnection(), table: randomTable() }), skip: postgresGone },
]

const servers: RunningServer[] = []
const managers: SessionManager[] = []
// Closed after each test: pools left open would starve the other PostgreSQL suites of connections.
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
  await Promise.all(managers.splice(0).map((manager) => manager.close()))
})
after(() => rmSync(folder, { recursive: true, force: true }))

async function serve(options: Record<string, unknown>): Promise<Browser> {
  const manager = new SessionManager({ cookie: COOKIE, keys: [KEY_A], ...options } as SessionManagerOptions)
  managers.push(manager)
  const app = express()
  app.use(manager.middleware())
  const session = (req: express.Request) => (req as Request & SessionRequest).session
  app.post('/put/:key', (req, res) => {
    session(req).put(req.params.key, true)
    res.json({ n: session(req).increment('n') })
  })
  app.get('/keys', (req, res) => void res.json({ keys: Object.keys(session(req).all()).sort(), n: session(req).get('n') ?? 0 }))
  const server = await listen(createServer(app))
  servers.push(server)
  return new Browser(server.url)
}

/** `count` concurrent writes of one session (the same Cookie header), each putting its own key. */
async function concurrentPuts(browser: Browser, count: number): Promise<{ keys: string[]; responses: Response[] }> {
  const cookie = browser.header()
  const keys = Array.from({ length: count }, (_, i) => `k${String(i).padStart(3, '0')}`)
  const responses = await Promise.all(keys.map((key) => fetch(`${browser.base}/put/${key}`, { method: 'POST', headers: { cookie } })))
  for (const response of responses) assert.equal(response.status, 200)
  return { keys, responses }
}

for (const driver of SERVER_SIDE) {
  describe(`no lost updates over HTTP: ${driver.name}`, { skip: driver.skip ?? false }, () => {
    it(`RACE ${N} concurrent requests of one session: every put and every increment is kept`, async () => {
      const browser = await serve(driver.options())
      await browser.json('/put/seed', { method: 'POST' })
      const { keys, responses } = await concurrentPuts(browser, N)
      await Promise.all(responses.map((response) => response.body?.cancel()))
      const after = await browser.json('/keys')
      assert.deepEqual(after.keys, ['n', 'seed', ...keys].sort(), `${(after.keys as string[]).length - 2} of ${N} puts kept`)
      assert.equal(after.n, N + 1, 'every increment counted')
    })
  })
}

describe('sealed cookie driver: concurrent writes are not merged (documented policy)', () => {
  it('each response carries a whole seal with its own change only; the one the browser stores last wins (1 of 30 kept)', async () => {
    const browser = await serve({ driver: 'cookie' })
    await browser.json('/put/seed', { method: 'POST' })
    const { keys, responses } = await concurrentPuts(browser, 30)
    const seals = responses.map((response) =>
      response.headers
        .getSetCookie()
        .map((line) => line.split(';')[0])
        .join('; '),
    )
    await Promise.all(responses.map((response) => response.body?.cancel()))
    for (const [i, seal] of seals.entries()) {
      const seen = await browser.json('/keys', { headers: { cookie: seal } })
      assert.deepEqual(seen, { keys: ['n', 'seed', keys[i]].sort(), n: 2 }, `response ${i} carries the seed and its own key only`)
    }
    // A browser keeps the Set-Cookie it processed last; here that is the last response's.
    browser.cookies.clear()
    for (const pair of (seals.at(-1) as string).split('; '))
      browser.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
    assert.deepEqual(await browser.json('/keys'), { keys: ['k029', 'n', 'seed'], n: 2 })
  })
})
