import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import { SessionManager } from '../../../src/manager/manager.js'
import type { Session } from '../../../src/session/session.js'
import { session } from '../../../src/http/express.js'
import { RedisServer, redisMissing } from '../../helpers/redis-server.js'

/**
 * Redis faults as a user of an Express app sees them: a redis-server this file starts (AOF,
 * fsync always) is paused past the store timeout and killed mid-load, then restarted. Every
 * request must end (no hang) with 2xx or 503, never crash the process, service must come back by
 * itself, and every write answered with 2xx must be there afterwards.
 */
const missing = await redisMissing({ binaries: true })
const STORE_TIMEOUT = 300
/** Longest any request may take: the store timeout plus generous slack. */
const REQUEST_LIMIT = 3_000

describe('redis + Express: faults seen over HTTP', { skip: missing ?? false }, () => {
  let redis: RedisServer
  let manager: SessionManager
  let server: Server
  let base: string

  before(async () => {
    redis = await RedisServer.start({ durable: true })
    manager = new SessionManager({ driver: 'redis', connection: redis.url, storeTimeout: STORE_TIMEOUT, keys: ['h'.repeat(40)] })
    const app = express()
    app.use(session(manager))
    const sessionOf = (req: object) => (req as { session: Session }).session
    app.post('/login', (req, res) => {
      sessionOf(req).put('user', 'ada')
      res.json({ ok: true })
    })
    app.post('/set/:key', (req, res) => {
      sessionOf(req).put(`k:${req.params.key}`, true)
      res.json({ ok: true })
    })
    app.get('/keys', (req, res) => void res.json(Object.keys(sessionOf(req).all()).filter((key) => key.startsWith('k:'))))
    app.use((error: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(error.status ?? 500).json({ error: true })
    })
    server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(async () => {
    server?.close()
    await manager?.close()
    await redis?.stop()
  })

  async function request(path: string, cookie: string, method = 'POST'): Promise<{ status: number; ms: number; body: unknown }> {
    const started = Date.now()
    const response = await fetch(`${base}${path}`, { method, headers: { cookie }, signal: AbortSignal.timeout(REQUEST_LIMIT) })
    const body: unknown = await response.json().catch(() => null)
    return { status: response.status, ms: Date.now() - started, body }
  }

  async function login(): Promise<string> {
    const response = await fetch(`${base}/login`, { method: 'POST' })
    assert.equal(response.status, 200)
    return response.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .join('; ')
  }

  it('paused past the store timeout: quick 503s, no hung request; service resumes after SIGCONT', async () => {
    const cookie = await login()
    assert.equal((await request('/set/before', cookie)).status, 200)
    redis.pause()
    try {
      const during = await Promise.all(Array.from({ length: 5 }, (_, i) => request(`/set/paused-${i}`, cookie)))
      for (const result of during) {
        assert.equal(result.status, 503)
        assert.ok(result.ms < REQUEST_LIMIT, `a request took ${result.ms} ms`)
      }
    } finally {
      redis.resume()
    }
    let recovered = false
    for (let i = 0; i < 100 && !recovered; i++) {
      recovered = (await request(`/set/after`, cookie)).status === 200
      if (!recovered) await sleep(50)
    }
    assert.ok(recovered, 'service came back after SIGCONT')
    const keys = (await request('/keys', cookie, 'GET')).body as string[]
    assert.ok(keys.includes('k:before') && keys.includes('k:after'))
  })

  it('killed mid-load and restarted: 2xx or 503 only, and every write answered 2xx survives', async (t) => {
    const cookie = await login()
    const acknowledged: string[] = []
    const statuses = new Map<number, number>()
    let counter = 0
    let stop = false
    const worker = async (): Promise<void> => {
      while (!stop) {
        const key = `w${counter++}`
        const { status } = await request(`/set/${key}`, cookie)
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        if (status === 200) acknowledged.push(key)
        else await sleep(5)
      }
    }
    const workers = Array.from({ length: 6 }, worker)
    while (acknowledged.length < 60) await sleep(10)
    await redis.kill()
    const downSince = statuses.get(503) ?? 0
    while ((statuses.get(503) ?? 0) < downSince + 10) await sleep(10)
    await redis.restart()
    const ackedAtRestart = acknowledged.length
    const deadline = Date.now() + 20_000
    while (acknowledged.length < ackedAtRestart + 60 && Date.now() < deadline) await sleep(20)
    stop = true
    await Promise.all(workers)

    t.diagnostic(`statuses ${JSON.stringify(Object.fromEntries(statuses))}, acknowledged ${acknowledged.length}`)
    assert.deepEqual([...statuses.keys()].sort(), [200, 503], 'every request ends with 2xx or 503')
    assert.ok(acknowledged.length >= ackedAtRestart + 60, 'writes are acknowledged again after the restart')
    const stored = new Set((await request('/keys', cookie, 'GET')).body as string[])
    const lost = acknowledged.filter((key) => !stored.has(`k:${key}`))
    assert.deepEqual(lost, [], 'writes answered with 2xx were lost')
  })
})
