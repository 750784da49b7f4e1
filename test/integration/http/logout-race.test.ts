/**
 * Logout wins over HTTP (issue 11, items 1 and 3): real Express apps built as README.md shows
 * them, on every server store. Two apps (two managers, two connections to the same store, as two
 * processes would be) serve the same sessions: the writing requests go to one, the logouts and
 * revocations to the other. A cookie copied before logout must never be signed in afterwards.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import express, { type Request } from 'express'
import { session, type SessionRequest } from '../../../src/http/express.js'
import type { SessionManager } from '../../../src/index.js'
import { Gate, raceStores } from '../races/stores.js'
import { Browser, listen, makeManager, type RunningServer } from './support.js'

const N = 50
const stores = await raceStores()
const servers: RunningServer[] = []
after(async () => {
  await Promise.all(servers.map((server) => server.close()))
  for (const store of stores) await store.cleanup()
})

/** Holds `?hold=1` requests after they loaded their session, until the test opens it. */
const gate = new Gate()

function app(manager: SessionManager): express.Express {
  const application = express()
  application.use(express.json({ limit: '1mb' }))
  application.use(session(manager))
  const sessionOf = (req: Request) => (req as Request & SessionRequest).session
  const pause = async (req: Request) => {
    if (req.query.hold) await gate.hold()
  }
  application.post('/login', async (req, res) => {
    await pause(req)
    await sessionOf(req).regenerate()
    sessionOf(req).auth.setUser(String(req.query.user))
    res.json({ ok: true })
  })
  application.post('/put', (req, res) => {
    sessionOf(req).put('note', req.body.note)
    res.json({ ok: true })
  })
  application.post('/privilege', async (req, res) => {
    await pause(req)
    await sessionOf(req).regenerate()
    sessionOf(req).put('role', 'elevated')
    res.json({ ok: true })
  })
  application.post('/logout', async (req, res) => {
    await sessionOf(req).invalidate()
    res.json({ ok: true })
  })
  application.get('/whoami', (req, res) => {
    res.json({ user: sessionOf(req).auth.userId ?? null })
  })
  return application
}

/** A second browser holding a copy of the first one's cookies (what an attacker took). */
function copyOf(browser: Browser, base: string): Browser {
  const copy = new Browser(base)
  for (const [name, value] of browser.cookies) copy.cookies.set(name, value)
  return copy
}

const signedInAs = async (browser: Browser): Promise<string | null> => (await browser.json('/whoami')).user as string | null
const tag = () => Math.random().toString(36).slice(2, 8)

for (const store of stores) {
  describe(`express: logout wins on ${store.name}`, { skip: store.skip ?? false }, () => {
    let writer: string
    let revoker: string
    let revokerManager: SessionManager
    before(async () => {
      const writerManager = makeManager(store.connect())
      revokerManager = makeManager(store.connect())
      for (const manager of [writerManager, revokerManager]) await manager.users.list('warm-up') // connect first
      const started = await Promise.all([listen(createServer(app(writerManager))), listen(createServer(app(revokerManager)))])
      servers.push(...started)
      ;[writer, revoker] = started.map((server) => server.url) as [string, string]
    })

    const logIn = async (user: string): Promise<Browser> => {
      const browser = new Browser(writer)
      await browser.json(`/login?user=${user}`, { method: 'POST' })
      assert.equal(await signedInAs(browser), user)
      return browser
    }

    it(`RACE: a write in flight does not sign a logged-out cookie back in (${N} parallel)`, async () => {
      const browsers = await Promise.all(Array.from({ length: N }, (_, i) => logIn(`w-${tag()}-${i}`)))
      const copies = browsers.map((browser) => copyOf(browser, writer))
      const note = 'n'.repeat(2048)
      const put = (browser: Browser, body: string) =>
        browser.request('/put', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      // Statuses are not checked here: only what the store holds afterwards counts.
      const answers = await Promise.all(
        browsers.flatMap((browser, i) => [
          put(browser, JSON.stringify({ note })),
          copyOf(browser, revoker).request('/logout', { method: 'POST' }),
          put(copies[i] as Browser, '{"note":1}'),
        ]),
      )
      const failed = answers.filter((answer) => answer.status !== 200).length
      const still = (await Promise.all(browsers.map((browser) => signedInAs(copyOf(browser, revoker))))).filter(Boolean)
      assert.equal(still.length, 0, `${still.length} of ${N} logged-out cookies are signed in again`)
      assert.equal(failed, 0, `${failed} of ${3 * N} requests failed`)
    })

    it(`RACE: a regenerate in flight does not sign anyone back in after logout or revokeAll (${N} parallel)`, async () => {
      const users = Array.from({ length: N }, (_, i) => `r-${tag()}-${i}`)
      const browsers = await Promise.all(users.map(logIn))
      const attackers = browsers.map((browser) => copyOf(browser, writer))
      gate.close()
      const inFlight = attackers.map((attacker) => attacker.json('/privilege?hold=1', { method: 'POST' }))
      await gate.held(N)
      await Promise.all(
        browsers.map((browser, i) =>
          i % 2 === 0 ? copyOf(browser, revoker).json('/logout', { method: 'POST' }) : revokerManager.users.revokeAll(users[i] as string),
        ),
      )
      gate.open()
      await Promise.all(inFlight)
      const still = (await Promise.all(attackers.map((attacker) => signedInAs(copyOf(attacker, revoker))))).filter(Boolean)
      assert.equal(still.length, 0, `${still.length} of ${N} regenerated sessions outlived the logout`)
      for (const user of users) assert.deepEqual(await revokerManager.users.list(user), [])
    })

    it(`RACE: a login in flight does not outlive revokeAll (${N} parallel)`, async () => {
      const users = Array.from({ length: N }, (_, i) => `l-${tag()}-${i}`)
      const browsers = users.map(() => new Browser(writer))
      gate.close()
      const inFlight = browsers.map((browser, i) => browser.json(`/login?user=${users[i]}&hold=1`, { method: 'POST' }))
      await gate.held(N)
      await Promise.all(users.map((user) => revokerManager.users.revokeAll(user)))
      gate.open()
      await Promise.all(inFlight)
      const still = (await Promise.all(browsers.map((browser) => signedInAs(copyOf(browser, revoker))))).filter(Boolean)
      assert.equal(still.length, 0, `${still.length} of ${N} logins that started before revokeAll survived it`)
      for (const user of users) assert.deepEqual(await revokerManager.users.list(user), [])
    })
  })
}
