import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { describe, it, after } from 'node:test'
import express, { type Request } from 'express'
import { csrf, session, type SessionRequest } from '../../../src/http/express.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import type { SessionManager } from '../../../src/index.js'
import { CountingDriver } from '../../helpers/counting-driver.js'
import { Browser, COOKIE, listen, makeManager, routes, runAdapterSuite, type RunningServer, type ServeFeatures } from './support.js'

function app(manager: SessionManager, mount: (app: express.Express) => void): express.Express {
  const application = express()
  application.use(express.json())
  mount(application)
  for (const [route, handler] of Object.entries(routes)) {
    const [method, path] = route.split(' ') as [string, string]
    application[method === 'GET' ? 'get' : 'post'](path, async (req, res) => {
      const result = await handler((req as Request & SessionRequest).session, (req.body ?? {}) as Record<string, unknown>)
      if (result.redirect) res.redirect(303, result.redirect)
      else res.json(result.json)
    })
  }
  return application
}

const withCsrf = (features: ServeFeatures | undefined) => (a: express.Express) => {
  if (features?.csrf) a.use(csrf(features.csrfOptions))
}
runAdapterSuite('express (tessera/express)', (manager, features) =>
  listen(createServer(app(manager, (a) => (a.use(session(manager)), withCsrf(features)(a))))),
)
runAdapterSuite('express (manager.middleware())', (manager, features) =>
  listen(createServer(app(manager, (a) => (a.use(manager.middleware()), withCsrf(features)(a))))),
)

describe('express: commit before headers', () => {
  const servers: RunningServer[] = []
  after(() => Promise.all(servers.map((server) => server.close())))

  it('carries the cookie on streamed bodies, explicit writeHead and res.end', async () => {
    const manager = makeManager(new MemoryDriver())
    const application = express()
    application.use(manager.middleware())
    application.post('/stream', (req, res) => {
      ;(req as Request & SessionRequest).session.put('streamed', true)
      res.write('part one, ')
      setTimeout(() => res.end('part two'), 5)
    })
    application.post('/head', (req, res) => {
      ;(req as Request & SessionRequest).session.put('head', true)
      res.writeHead(201, { 'content-type': 'text/plain' })
      res.end('created')
    })
    application.get('/read', (req, res) => {
      const s = (req as Request & SessionRequest).session
      res.json({ streamed: s.get('streamed') ?? null, head: s.get('head') ?? null })
    })
    const server = await listen(createServer(application))
    servers.push(server)
    const browser = new Browser(server.url)
    const streamed = await browser.request('/stream', { method: 'POST' })
    assert.equal(await streamed.text(), 'part one, part two')
    assert.ok(browser.cookies.has(COOKIE))
    const head = await browser.request('/head', { method: 'POST' })
    assert.equal(head.status, 201)
    assert.equal(head.headers.get('content-type'), 'text/plain')
    assert.equal(await head.text(), 'created')
    assert.deepEqual(await browser.json('/read'), { streamed: true, head: true })
  })

  it('passes requests through when sessions are disabled', async () => {
    const manager = makeManager(new MemoryDriver(), { enabled: false })
    const application = express()
    application.use(manager.middleware())
    application.get('/', (req, res) => res.json({ hasSession: 'session' in req }))
    const server = await listen(createServer(application))
    servers.push(server)
    assert.deepEqual(await new Browser(server.url).json('/'), { hasSession: false })
  })
})

describe('express: lazy loading', () => {
  const servers: RunningServer[] = []
  after(() => Promise.all(servers.map((server) => server.close())))

  it('with lazy: true a route that never starts the session costs no store call; one that does works as usual', async () => {
    const driver = new CountingDriver()
    const manager = makeManager(driver)
    const application = express()
    application.use(manager.middleware({ lazy: true }))
    application.get('/health', (_req, res) => void res.json({ ok: true }))
    application.post('/count', async (req, res) => {
      const { session: s } = req as Request & SessionRequest
      await s.start()
      res.json({ n: s.increment('n') })
    })
    const server = await listen(createServer(application))
    servers.push(server)
    const browser = new Browser(server.url)
    assert.deepEqual(await browser.json('/count', { method: 'POST' }), { n: 1 })
    assert.ok(browser.cookies.has(COOKIE), 'a new session started lazily gets its cookie')
    assert.deepEqual(await browser.json('/count', { method: 'POST' }), { n: 2 })
    const before = { ...driver.calls }
    assert.deepEqual(await browser.json('/health'), { ok: true })
    assert.deepEqual(driver.calls, before, 'no store call for a route that never starts the session')
    assert.deepEqual(browser.lastSetCookies, [], 'and no cookie either')
  })

  it('lazy cannot be combined with binding', () => {
    const manager = makeManager(new MemoryDriver(), { binding: { userAgent: true } })
    assert.throws(() => manager.middleware({ lazy: true }), /lazy: true cannot be combined with binding/)
  })
})

describe('express: per-session lock', () => {
  const servers: RunningServer[] = []
  after(() => Promise.all(servers.map((server) => server.close())))

  async function overlap(lock: boolean): Promise<string[]> {
    const manager = makeManager(new MemoryDriver())
    const events: string[] = []
    const application = express()
    application.use(manager.middleware(lock ? { lock: '5s' } : {}))
    application.post('/login', (req, res) => {
      ;(req as Request & SessionRequest).session.put('user', 'ada')
      res.json({ ok: true })
    })
    application.post('/slow/:tag', async (req, res) => {
      const { session: s } = req as unknown as SessionRequest
      events.push(`start ${req.params.tag} seen=${JSON.stringify(s.get('done') ?? [])}`)
      await new Promise((resolve) => setTimeout(resolve, 60))
      s.push('done', req.params.tag)
      events.push(`end ${req.params.tag}`)
      res.json({ ok: true })
    })
    const server = await listen(createServer(application))
    servers.push(server)
    const browser = new Browser(server.url)
    await browser.json('/login', { method: 'POST' })
    const first = browser.request('/slow/a', { method: 'POST' })
    await new Promise((resolve) => setTimeout(resolve, 10))
    await Promise.all([first, browser.request('/slow/b', { method: 'POST' })])
    return events
  }

  it('lock serializes the requests of one session: the second sees what the first committed', async () => {
    assert.deepEqual(await overlap(true), ['start a seen=[]', 'end a', 'start b seen=["a"]', 'end b'])
  })

  it('without lock the same requests overlap (and still merge their changes)', async () => {
    assert.deepEqual(await overlap(false), ['start a seen=[]', 'start b seen=[]', 'end a', 'end b'])
  })

  it('lock on a driver that cannot lock is a clear configuration error', async () => {
    const manager = makeManager({
      read: async () => null,
      write: async () => {},
      destroy: async () => {},
      touch: async () => {},
      gc: async () => {},
    })
    const application = express()
    application.use(manager.middleware({ lock: true }))
    application.use(
      (error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) =>
        void res.status(500).json({ message: error.message }),
    )
    application.get('/', (_req, res) => void res.json({ ok: true }))
    const server = await listen(createServer(application))
    servers.push(server)
    const response = await fetch(`${server.url}/`)
    assert.equal(response.status, 500)
    assert.match(((await response.json()) as { message: string }).message, /lock needs a driver that can lock sessions/)
  })
})
