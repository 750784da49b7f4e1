import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import express, { type Request } from 'express'
import type { SessionRequest } from '../../../src/http/express.js'
import { SessionManager } from '../../../src/index.js'
import type { SessionManagerOptions } from '../../../src/manager/manager.js'
import { Browser, COOKIE, KEY_A, listen, routes, type RunningServer } from './support.js'

const DATA = `${COOKIE}.data`

describe('sealed cookie driver over HTTP (Express)', () => {
  const servers: RunningServer[] = []
  after(() => Promise.all(servers.map((server) => server.close())))

  async function serve(options: { maxChunks?: number; age?: number } = {}): Promise<Browser> {
    const manager = new SessionManager({ driver: 'cookie', cookie: COOKIE, keys: [KEY_A], ...options } as SessionManagerOptions)
    const app = express()
    app.use(express.json())
    app.use(manager.middleware())
    for (const [route, handler] of Object.entries(routes)) {
      const [method, path] = route.split(' ') as [string, string]
      app[method === 'GET' ? 'get' : 'post'](path, async (req, res) => {
        const result = await handler((req as Request & SessionRequest).session, (req.body ?? {}) as Record<string, unknown>)
        if (result.redirect) res.redirect(303, result.redirect)
        else res.json(result.json)
      })
    }
    app.post('/big', (req, res) => {
      ;(req as Request & SessionRequest).session.put('blob', randomBytes(Number(req.query.bytes)).toString('base64'))
      res.json({ ok: true })
    })
    app.get('/big', (req, res) =>
      res.json({ length: ((req as Request & SessionRequest).session.get('blob') as string | undefined)?.length ?? 0 }),
    )
    const server = await listen(createServer(app))
    servers.push(server)
    return new Browser(server.url)
  }

  it('keeps the whole session in cookies: login, regenerate, flash, logout', async () => {
    const browser = await serve()
    await browser.json('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"grace"}' })
    assert.deepEqual([...browser.cookies.keys()].sort(), [COOKIE, DATA])
    const first = browser.sessionId()
    assert.equal((await browser.json('/whoami')).user, 'grace')
    assert.deepEqual(browser.lastSetCookies, [], 'a read sets no cookie')
    await browser.json('/login', { method: 'POST' })
    assert.notEqual(browser.sessionId(), first)
    const redirect = await browser.request('/flash', { method: 'POST' })
    assert.equal(redirect.status, 303)
    assert.deepEqual(await browser.json('/flash'), { message: 'saved' })
    assert.deepEqual(await browser.json('/flash'), { message: null })
    await browser.json('/logout', { method: 'POST' })
    assert.equal(browser.cookies.size, 0, 'logout clears the id and data cookies')
  })

  it('the data cookie alone, or with an old id, is not a session', async () => {
    const browser = await serve()
    await browser.json('/count', { method: 'POST' })
    const oldId = browser.cookies.get(COOKIE) as string
    await browser.json('/login', { method: 'POST' })
    const data = browser.cookies.get(DATA) as string
    assert.equal((await browser.json('/whoami', { headers: { cookie: `${DATA}=${data}` } })).user, null)
    assert.equal((await browser.json('/whoami', { headers: { cookie: `${COOKIE}=${oldId}; ${DATA}=${data}` } })).user, null)
  })

  it('chunks a large session over several cookies and reads it back', async () => {
    const browser = await serve()
    await browser.json('/big?bytes=6000', { method: 'POST' })
    assert.ok(browser.cookies.has(`${DATA}.1`) && browser.cookies.has(`${DATA}.2`))
    for (const line of browser.lastSetCookies) assert.ok(line.length < 4096, `a Set-Cookie line is ${line.length} bytes`)
    assert.equal((await browser.json('/big')).length, 8000)
  })

  it('answers 500 with no partial cookie when the session outgrows maxChunks', async () => {
    const browser = await serve({ maxChunks: 2 })
    const response = await browser.request('/big?bytes=9000', { method: 'POST' })
    assert.equal(response.status, 500)
    assert.deepEqual(response.headers.getSetCookie(), [])
  })

  it('a tampered data cookie yields a fresh session', async () => {
    const browser = await serve()
    await browser.json('/login', { method: 'POST' })
    const data = browser.cookies.get(DATA) as string
    browser.cookies.set(DATA, data.slice(0, 20) + (data[20] === 'x' ? 'y' : 'x') + data.slice(21))
    assert.equal((await browser.json('/whoami')).user, null)
  })

  it('a copy replayed after the sealed expiry is rejected', async () => {
    const browser = await serve({ age: 400 })
    await browser.json('/login', { method: 'POST' })
    const copy = browser.header()
    assert.equal((await browser.json('/whoami', { headers: { cookie: copy } })).user, 'ada')
    await sleep(500)
    assert.equal((await browser.json('/whoami', { headers: { cookie: copy } })).user, null)
  })
})
