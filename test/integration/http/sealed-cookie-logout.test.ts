// Sealed cookie sessions over HTTP (Express): logout and revokeAll revoke a copy of the cookie when
// a security store is configured, on every store that can be one (the policy for concurrent writes
// is pinned in lost-updates.test.ts).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { after, afterEach, describe, it } from 'node:test'
import express, { type Request } from 'express'
import type { SessionRequest } from '../../../src/http/express.js'
import { SessionManager } from '../../../src/index.js'
import { SessionEvents } from '../../../src/session/events.js'
import type { SessionManagerOptions } from '../../../src/manager/manager.js'
import { RedisCluster, redisMissing } from '../../helpers/redis-server.js'
import { pgTestConnection, probePostgres, randomTable } from '../sql/postgres-env.js'
import { Browser, COOKIE, KEY_A, listen, type RunningServer } from './support.js'

const N = 50
const folder = mkdtempSync(join(tmpdir(), 'tessera-sealed-logout-'))
const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`
const redisGone = await redisMissing()
const clusterGone = await redisMissing({ binaries: true })
const cluster = clusterGone ? null : await RedisCluster.start(3)
const postgresGone = await probePostgres()
if (postgresGone && process.env.CI) throw new Error(postgresGone)

/** The security stores a sealed-cookie app can name, with why one is skipped here; `shared`: two managers can share one. */
const STORES: { name: string; entry: () => Record<string, unknown>; skip: string | null; shared: boolean }[] = [
  { name: 'memory', entry: () => ({ driver: 'memory' }), skip: null, shared: false },
  { name: 'file', entry: () => ({ driver: 'file', path: mkdtempSync(join(folder, 'state-')) }), skip: null, shared: true },
  {
    name: 'sqlite',
    entry: () => ({ driver: 'sqlite', path: join(mkdtempSync(join(folder, 'sqlite-')), 'state.db') }),
    skip: null,
    shared: true,
  },
  {
    name: 'redis',
    entry: () => ({ driver: 'redis', connection: { host: '127.0.0.1', port: 6379 }, prefix }),
    skip: redisGone,
    shared: true,
  },
  {
    name: 'redis cluster (3 masters)',
    entry: () => ({ driver: 'redis', connection: { cluster: { nodes: cluster?.nodes ?? [] } }, prefix }),
    skip: clusterGone,
    shared: true,
  },
  {
    name: 'postgres',
    entry: () => ({ driver: 'postgres', connection: pgTestConnection(), table: randomTable() }),
    skip: postgresGone,
    shared: true,
  },
]

const servers: RunningServer[] = []
const managers: SessionManager[] = []
// Closed after each test: pools left open would starve the other PostgreSQL suites of connections.
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
  await Promise.all(managers.splice(0).map((manager) => manager.close()))
})
after(async () => {
  await cluster?.stop()
  rmSync(folder, { recursive: true, force: true })
})

async function sealedManager(state?: Record<string, unknown>): Promise<SessionManager> {
  const options = state
    ? { drivers: { sealed: { driver: 'cookie' }, state }, default: 'sealed', securityStore: 'state' }
    : { driver: 'cookie' }
  const manager = new SessionManager({ cookie: COOKIE, keys: [KEY_A], ...options } as SessionManagerOptions)
  managers.push(manager)
  // Connect first: a Redis driver's cold start refuses a concurrent burst (audit M10, not this suite's subject).
  if (state) await (await manager.context('state')).store.read('0'.repeat(64))
  return manager
}

/** login = regenerate + setUser, as the docs show it; logout = invalidate. */
async function serve(manager: SessionManager): Promise<Browser> {
  const app = express()
  app.use(express.json())
  app.use(manager.middleware())
  const session = (req: express.Request) => (req as Request & SessionRequest).session
  app.get('/whoami', (req, res) => void res.json({ user: session(req).auth.userId ?? null }))
  app.post('/visit', (req, res) => void res.json({ visits: session(req).increment('visits') }))
  app.post('/login', async (req, res) => {
    await session(req).regenerate()
    session(req).auth.setUser(String(req.query.user ?? 'ada'))
    res.json({ ok: true })
  })
  app.post('/privilege', async (req, res) => {
    await session(req).regenerate()
    session(req).put('role', 'admin')
    res.json({ ok: true })
  })
  app.post('/logout', async (req, res) => {
    await session(req).invalidate()
    res.json({ ok: true })
  })
  const server = await listen(createServer(app))
  servers.push(server)
  return new Browser(server.url)
}

/** Replays a captured Cookie header `count` times at once; returns who each request was signed in as. */
async function replay(browser: Browser, cookie: string, count: number): Promise<(string | null)[]> {
  const answers = await Promise.all(
    Array.from({ length: count }, () => browser.request('/whoami', { headers: { cookie } }).then((response) => response.json())),
  )
  return answers.map((answer) => (answer as { user: string | null }).user)
}

for (const store of STORES) {
  describe(`sealed cookie, security store ${store.name}`, { skip: store.skip ?? false }, () => {
    it(`RACE logout vs replay: a cookie captured before logout, replayed ${N} times in parallel, is never signed in`, async () => {
      const manager = await sealedManager(store.entry())
      const browser = await serve(manager)
      await browser.json('/login?user=ann', { method: 'POST' })
      assert.equal((await browser.json('/whoami')).user, 'ann')
      const captured = browser.header()
      await browser.json('/visit', { method: 'POST' }) // a newer seal of the same session, captured too
      const newer = browser.header()
      await browser.json('/logout', { method: 'POST' })
      const answers = [...(await replay(browser, captured, N)), ...(await replay(browser, newer, N))]
      assert.deepEqual(
        answers.filter((user) => user !== null),
        [],
        `${answers.filter((user) => user !== null).length} of ${answers.length} replays were signed in`,
      )
      await browser.json('/login?user=ann', { method: 'POST' })
      assert.equal((await browser.json('/whoami')).user, 'ann', 'a new login works')
    })

    it('RACE logout vs in-flight replays: replays started with the logout end signed out once it has answered', async () => {
      const manager = await sealedManager(store.entry())
      const browser = await serve(manager)
      await browser.json('/login?user=bo', { method: 'POST' })
      const captured = browser.header()
      const inFlight = Array.from({ length: N }, () => browser.request('/visit', { method: 'POST', headers: { cookie: captured } }))
      await browser.json('/logout', { method: 'POST', headers: { cookie: captured } })
      // Whatever cookie an in-flight request answered with, it is dead after the logout answered.
      const reissued = await Promise.all(
        inFlight.map(async (pending) => {
          const response = await pending
          await response.body?.cancel()
          return response.headers
            .getSetCookie()
            .map((line) => line.split(';')[0])
            .join('; ')
        }),
      )
      const cookies = reissued.filter((header) => header.includes(`${COOKIE}.data=`))
      const answers = (await Promise.all(cookies.map((cookie) => replay(browser, cookie, 1)))).flat()
      assert.deepEqual(
        answers.filter((user) => user !== null),
        [],
        `${answers.filter((user) => user !== null).length} of ${answers.length} seals from in-flight requests were signed in`,
      )
    })

    it('RACE logout on one server vs replays on another (two managers sharing the security store)', {
      skip: store.shared ? false : 'a memory store cannot be shared',
    }, async () => {
      const state = store.entry()
      const [first, second] = [await serve(await sealedManager(state)), await serve(await sealedManager(state))]
      await first.json('/login?user=fay', { method: 'POST' })
      const captured = first.header()
      assert.deepEqual(await replay(second, captured, 1), ['fay'], 'the other server accepts the live session')
      await first.json('/logout', { method: 'POST' })
      const answers = await replay(second, captured, N)
      assert.equal(answers.filter((user) => user !== null).length, 0, 'signed in on the other server after logout')
    })

    it('a copy taken before a privilege change (regenerate) is dead after logout', async () => {
      const manager = await sealedManager(store.entry())
      const browser = await serve(manager)
      await browser.json('/login?user=cy', { method: 'POST' })
      const beforePrivilege = browser.header()
      await browser.json('/privilege', { method: 'POST' })
      await browser.json('/logout', { method: 'POST' })
      assert.deepEqual(await replay(browser, beforePrivilege, 20), Array(20).fill(null))
    })

    it('RACE login after revokeAll: a browser holding an older anonymous seal logs in and stays signed in', async () => {
      const manager = await sealedManager(store.entry())
      const reasons: string[] = []
      manager.on(SessionEvents.EXPIRED, (reason) => reasons.push(reason))
      const browsers = await Promise.all(Array.from({ length: 20 }, () => serve(manager)))
      // Each browser gets an anonymous session first, and one of them signs in before the revocation.
      await Promise.all(browsers.map((browser) => browser.json('/visit', { method: 'POST' })))
      const phone = browsers[0] as Browser
      await phone.json('/login?user=dee', { method: 'POST' })
      const stolen = phone.header()
      await manager.users.revokeAll('dee')
      assert.deepEqual(await replay(phone, stolen, 20), Array(20).fill(null), 'the session bound before revokeAll is revoked')
      await Promise.all(browsers.map((browser) => browser.json('/login?user=dee', { method: 'POST' })))
      for (let round = 0; round < 3; round++) {
        const users = await Promise.all(browsers.map((browser) => browser.json('/whoami').then((answer) => answer.user)))
        assert.deepEqual(users, Array(20).fill('dee'), `round ${round}: logins made after revokeAll stay signed in`)
      }
      assert.ok(reasons.every((reason) => reason === 'revoked'))
    })
  })
}

describe('sealed cookie without a security store', () => {
  it('logout cannot revoke a copy (documented): the copy stays signed in until its sealed expiry', async () => {
    const browser = await serve(await sealedManager())
    await browser.json('/login?user=eve', { method: 'POST' })
    const captured = browser.header()
    await browser.json('/logout', { method: 'POST' })
    assert.equal(browser.cookies.size, 0, 'the browser itself is signed out')
    assert.deepEqual(await replay(browser, captured, 5), Array(5).fill('eve'))
  })
})
