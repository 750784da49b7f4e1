// Shared by every adapter's integration test: a tiny browser-like cookie jar over fetch, a
// failing driver, and one scenario suite each adapter runs against its own real server on
// 127.0.0.1. The store-call counter is test/helpers/counting-driver.ts.
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, after } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseSetCookie } from 'cookie'
import type { SessionDriver, StoredRecord } from '../../../src/drivers/contract.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import { CountingDriver } from '../../helpers/counting-driver.js'
import { SessionEvents } from '../../../src/session/events.js'
import type { SessionManagerOptions } from '../../../src/manager/manager.js'
import type { Session } from '../../../src/session/session.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { generateSessionId, storageKeyFor } from '../../../src/lib/ids.js'
import { SessionManager } from '../../../src/index.js'
import { signId, verifyId } from '../../../src/http/cookies.js'
import { csrfScenarios } from './support-csrf.js'

export const KEY_A = 'a'.repeat(32) + '-first-key-of-the-ring'
export const KEY_B = 'b'.repeat(32) + '-second-key-of-the-ring'
export const COOKIE = 'sid'

/** Remembers cookies like a browser: Set-Cookie in, Cookie out; Max-Age=0 deletes. */
export class Browser {
  readonly cookies = new Map<string, string>()
  lastSetCookies: string[] = []

  constructor(readonly base: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', this.header())
    const response = await fetch(this.base + path, { ...init, headers, redirect: 'manual' })
    this.lastSetCookies = response.headers.getSetCookie()
    for (const line of this.lastSetCookies) {
      const parsed = parseSetCookie(line)
      const expired =
        parsed.maxAge !== undefined ? parsed.maxAge <= 0 : parsed.expires !== undefined && parsed.expires.getTime() <= Date.now()
      if (expired) this.cookies.delete(parsed.name)
      else this.cookies.set(parsed.name, parsed.value ?? '')
    }
    return response
  }

  async json(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
    const response = await this.request(path, init)
    assert.equal(response.status, 200, `${path} answered ${response.status}`)
    return (await response.json()) as Record<string, unknown>
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  sessionId(): string | undefined {
    return this.cookies.get(COOKIE)?.slice(0, 43)
  }
}

/** A store that is down: every call fails. */
export class FailingDriver implements SessionDriver {
  readonly name = 'failing'
  #fail(): Promise<never> {
    return Promise.reject(new Error('connection refused'))
  }
  read(): Promise<StoredRecord | null> {
    return this.#fail()
  }
  write(): Promise<void> {
    return this.#fail()
  }
  destroy(): Promise<void> {
    return this.#fail()
  }
  touch(): Promise<void> {
    return this.#fail()
  }
  gc(): Promise<void> {
    return this.#fail()
  }
}

/**
 * The routes every adapter exposes, written once against the Session API; adapters map them to
 * their framework. Each returns the JSON body (or a redirect location).
 */
export const routes: Record<string, (session: Session, body: Record<string, unknown>) => Promise<{ json?: unknown; redirect?: string }>> = {
  'GET /whoami': async (session) => ({ json: { id: session.sessionId, user: session.get('user') ?? null } }),
  'POST /login': async (session, body) => {
    session.put('user', body.user ?? 'ada')
    await session.regenerate()
    return { json: { id: session.sessionId } }
  },
  'POST /count': async (session) => ({ json: { n: session.increment('n') } }),
  'POST /flash': async (session) => {
    session.flash('message', 'saved')
    return { redirect: '/flash' }
  },
  'GET /flash': async (session) => ({ json: { message: session.flashMessages.get('message') ?? null } }),
  'POST /logout': async (session) => {
    await session.invalidate()
    return { json: { ok: true } }
  },
  'GET /token': async (session) => ({ json: { token: session.auth.csrfToken() } }),
}

/** What a test asks an adapter's server to mount besides the session middleware. */
export interface ServeFeatures {
  /** The adapter's CSRF protection, after the session middleware. */
  csrf?: boolean
  csrfOptions?: import('../../../src/security/csrf.js').CsrfOptions // options of that csrf(); default: session mode
}

export interface RunningServer {
  url: string
  close(): Promise<void>
}

/** Listens on an ephemeral port on 127.0.0.1. */
export async function listen(server: Server): Promise<RunningServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function makeManager(driver: SessionDriver, options: SessionManagerOptions = {}): SessionManager {
  return new SessionManager({ drivers: { main: driver }, cookie: COOKIE, keys: [KEY_A], ...options } as SessionManagerOptions)
}

/** The scenario suite every adapter passes. `start` serves {@link routes} with the given manager. */
export function runAdapterSuite(name: string, start: (manager: SessionManager, features?: ServeFeatures) => Promise<RunningServer>): void {
  describe(`${name} adapter`, () => {
    const servers: RunningServer[] = []
    after(async () => {
      await Promise.all(servers.map((server) => server.close()))
    })
    const serve = async (manager: SessionManager, features?: ServeFeatures): Promise<Browser> => {
      const server = await start(manager, features)
      servers.push(server)
      return new Browser(server.url)
    }

    it('login regenerates the id and the user stays logged in', async () => {
      const browser = await serve(makeManager(new MemoryDriver()))
      const first = await browser.json('/count', { method: 'POST' })
      assert.equal(first.n, 1)
      const before = browser.sessionId()
      assert.ok(before, 'a writing request sets the session cookie')
      const login = await browser.json('/login', { method: 'POST' })
      assert.notEqual(login.id, before)
      assert.equal(browser.sessionId(), login.id)
      const me = await browser.json('/whoami')
      assert.deepEqual(me, { id: login.id, user: 'ada' })
      assert.equal((await browser.json('/count', { method: 'POST' })).n, 2, 'data survives regenerate')
    })

    it('the old id is dead after regenerate (no fixation)', async () => {
      const browser = await serve(makeManager(new MemoryDriver()))
      await browser.json('/count', { method: 'POST' })
      const oldCookie = browser.cookies.get(COOKIE) as string
      await browser.json('/login', { method: 'POST' })
      const replay = await browser.json('/whoami', { headers: { cookie: `${COOKIE}=${oldCookie}` } })
      assert.equal(replay.user, null)
      assert.notEqual(replay.id, oldCookie.slice(0, 43))
    })

    it('a flash message shows exactly once, across a redirect', async () => {
      const browser = await serve(makeManager(new MemoryDriver()))
      const redirect = await browser.request('/flash', { method: 'POST' })
      assert.ok(redirect.status >= 300 && redirect.status < 400, `expected a redirect, got ${redirect.status}`)
      assert.ok(browser.sessionId(), 'the redirect carries the session cookie')
      assert.deepEqual(await browser.json('/flash'), { message: 'saved' })
      assert.deepEqual(await browser.json('/flash'), { message: null })
    })

    it('logout clears the cookie and the session', async () => {
      const browser = await serve(makeManager(new MemoryDriver()))
      await browser.json('/login', { method: 'POST' })
      const cookie = browser.cookies.get(COOKIE) as string
      await browser.json('/logout', { method: 'POST' })
      assert.equal(browser.cookies.has(COOKIE), false, 'the cookie was cleared')
      assert.match(browser.lastSetCookies.join('\n'), new RegExp(`^${COOKIE}=;.*Max-Age=0`, 'm'))
      const replay = await browser.json('/whoami', { headers: { cookie: `${COOKIE}=${cookie}` } })
      assert.equal(replay.user, null)
    })

    it('never adopts a forged, tampered, unsigned, malformed or expired cookie', async () => {
      const driver = new MemoryDriver()
      const manager = makeManager(driver)
      const browser = await serve(manager)
      await browser.json('/login', { method: 'POST' })
      const good = browser.cookies.get(COOKIE) as string
      const id = good.slice(0, 43)
      const forger = new Keyring(['f'.repeat(40)])
      const tampered = good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA')
      const expiredId = generateSessionId()
      const store = await manager.store()
      const now = Date.now()
      await store.write(
        storageKeyFor(expiredId),
        { data: Object.create(null), flash: null, meta: { createdAt: now, lastSeenAt: now, expiresAt: now + 1, version: 1 } },
        1,
      )
      await sleep(10)
      const bad = [
        id,
        `${id}.`,
        signId(forger, id),
        tampered,
        `${id}.${good.slice(44)}x`,
        '%%%',
        '',
        'a'.repeat(5000),
        signId(manager.keyring, expiredId),
      ]
      for (const value of bad) {
        const response = await browser.json('/whoami', { headers: { cookie: `${COOKIE}=${value}` } })
        assert.equal(response.user, null, `adopted ${value.slice(0, 60)}`)
        assert.notEqual(response.id, id)
        assert.notEqual(response.id, expiredId)
      }
      const genuine = await browser.json('/whoami', { headers: { cookie: `${COOKIE}=${good}` } })
      assert.equal(genuine.user, 'ada', 'the genuine cookie still works')
    })

    it('a huge Cookie header does not break anything', async () => {
      const browser = await serve(makeManager(new MemoryDriver()))
      const junk = Array.from({ length: 300 }, (_, i) => `c${i}=${'x'.repeat(40)}`).join('; ')
      const response = await browser.request('/whoami', { headers: { cookie: `${junk}; ${COOKIE}=${'y'.repeat(200)}` } })
      assert.equal(response.status, 200)
      assert.equal(((await response.json()) as { user: unknown }).user, null)
    })

    it('key rotation keeps users logged in and re-signs with the newest key', async () => {
      const driver = new MemoryDriver()
      const oldBrowser = await serve(makeManager(driver, { keys: [KEY_A] }))
      await oldBrowser.json('/login', { method: 'POST' })
      const rotated = await serve(makeManager(driver, { keys: [KEY_B, KEY_A] }))
      for (const [name, value] of oldBrowser.cookies) rotated.cookies.set(name, value)
      const me = await rotated.json('/whoami')
      assert.equal(me.user, 'ada')
      const resigned = rotated.cookies.get(COOKIE) as string
      assert.equal(verifyId(new Keyring([KEY_B]), resigned)?.rotated, false, 're-signed with the newest key')
      rotated.lastSetCookies = []
      await rotated.json('/whoami')
      assert.deepEqual(rotated.lastSetCookies, [], 'once re-signed, reads set no cookie')
    })

    it('a read-only request writes nothing and sets no cookie; without a cookie it reads nothing', async () => {
      const driver = new CountingDriver()
      const browser = await serve(makeManager(driver))
      await browser.json('/whoami')
      assert.deepEqual(browser.lastSetCookies, [])
      assert.equal(driver.calls.read, 0, 'no cookie: no store read')
      assert.equal(driver.writes, 0)
      await browser.json('/login', { method: 'POST' })
      const writes = driver.writes
      const reads = driver.calls.read
      for (let i = 0; i < 3; i++) {
        assert.equal((await browser.json('/whoami')).user, 'ada')
        assert.deepEqual(browser.lastSetCookies, [])
      }
      assert.equal(driver.writes, writes, 'reads wrote nothing')
      assert.equal(driver.calls.read, reads + 3, 'one store read per request')
      await browser.json('/count', { method: 'POST' })
      assert.equal(driver.calls.patch, 1, 'a change is sent as a patch')
    })

    it('refreshes the cookie Max-Age when the store is touched', async () => {
      const driver = new CountingDriver()
      const browser = await serve(makeManager(driver, { touchAfter: 0 }))
      await browser.json('/login', { method: 'POST' })
      await browser.json('/whoami')
      assert.equal(driver.calls.touch, 1)
      assert.equal(browser.lastSetCookies.length, 1)
      assert.match(browser.lastSetCookies[0] as string, /Max-Age=7200/)
    })

    it('clearWithBrowser gives a browser-session cookie (no Max-Age), not refreshed on touch', async () => {
      const driver = new CountingDriver()
      const browser = await serve(makeManager(driver, { touchAfter: 0, clearWithBrowser: true }))
      await browser.json('/login', { method: 'POST' })
      assert.doesNotMatch(browser.lastSetCookies.join('\n'), /Max-Age|Expires/i)
      assert.match(browser.lastSetCookies.join('\n'), /HttpOnly/)
      await browser.json('/whoami')
      assert.equal(driver.calls.touch, 1)
      assert.deepEqual(browser.lastSetCookies, [])
    })

    it('clearWithBrowser: a stale cookie followed by new data gets the new id (no session lost)', async () => {
      const manager = makeManager(new MemoryDriver(), { clearWithBrowser: true })
      const browser = await serve(manager)
      browser.cookies.set(COOKIE, signId(manager.keyring, generateSessionId()))
      const first = await browser.json('/count', { method: 'POST' })
      assert.equal(first.n, 1)
      assert.equal(await browser.json('/count', { method: 'POST' }).then((body) => body.n), 2, 'the new session is kept')
    })

    it("answers 503 with onStoreError 'fail' when the store is down", async () => {
      const manager = makeManager(new FailingDriver())
      const errors: unknown[] = []
      manager.on(SessionEvents.STORE_ERROR, (error) => errors.push(error))
      const browser = await serve(manager)
      browser.cookies.set(COOKIE, signId(manager.keyring, generateSessionId()))
      const response = await browser.request('/whoami')
      assert.equal(response.status, 503)
      assert.equal((errors[0] as { code?: string }).code, 'E_SESSION_STORE')
      const write = await browser.request('/count', { method: 'POST', headers: { cookie: 'other=1' } })
      assert.equal(write.status, 503, 'a failing commit answers 503 too')
    })

    it("binding with onMismatch 'reject': another User-Agent gets a fresh id and the bound session is destroyed", async () => {
      const manager = makeManager(new MemoryDriver(), { binding: { userAgent: true, onMismatch: 'reject' } })
      const mismatches: unknown[] = []
      manager.on(SessionEvents.BINDING_MISMATCH, (_session, details) => mismatches.push(details))
      const browser = await serve(manager)
      const firefox = { headers: { 'user-agent': 'Firefox/130' } }
      const login = await browser.json('/login', { method: 'POST', ...firefox })
      assert.deepEqual(await browser.json('/whoami', firefox), { id: login.id, user: 'ada' }, 'the same client keeps its session')
      const cookie = browser.cookies.get(COOKIE) as string
      const stolen = await browser.json('/whoami', { headers: { 'user-agent': 'curl/8.5', cookie: `${COOKIE}=${cookie}` } })
      assert.equal(stolen.user, null)
      assert.notEqual(stolen.id, login.id, 'a fresh id, not the bound one')
      assert.deepEqual(mismatches, [{ fields: ['userAgent'], action: 'reject' }])
      const back = await browser.json('/whoami', { headers: { ...firefox.headers, cookie: `${COOKIE}=${cookie}` } })
      assert.equal(back.user, null, 'the rejected session was destroyed, not just hidden')
    })

    it('rateLimit.create: new sessions from one IP over the budget get 429 with Retry-After', async () => {
      const manager = makeManager(new MemoryDriver(), { rateLimit: { create: { points: 2, duration: '1h' } } })
      const first = await serve(manager)
      const statuses: number[] = []
      let refused: Response | undefined
      for (const browser of [first, new Browser(first.base), new Browser(first.base), new Browser(first.base)]) {
        const response = await browser.request('/count', { method: 'POST' })
        statuses.push(response.status)
        if (response.status === 429) refused ??= response
        else await response.body?.cancel()
      }
      assert.deepEqual(statuses, [200, 200, 429, 429])
      assert.ok(refused)
      assert.ok(Number(refused.headers.get('retry-after')) >= 1799, `Retry-After ${refused.headers.get('retry-after')}`)
      assert.deepEqual(
        refused.headers.getSetCookie().filter((line) => line.startsWith(`${COOKIE}=`)),
        [],
        'a refused session sets no cookie',
      )
      assert.equal((await first.json('/count', { method: 'POST' })).n, 2, 'an existing session is not limited')
      assert.equal((await first.json('/whoami')).user, null, 'reads create nothing and are not limited')
    })

    it('csrf: an unsafe request without the right token gets 403 and changes nothing', async () => {
      const browser = await serve(makeManager(new MemoryDriver()), { csrf: true })
      const { token } = (await browser.json('/token')) as { token: string }
      assert.equal((await browser.json('/count', { method: 'POST', headers: { 'x-csrf-token': token } })).n, 1)
      const attempts: RequestInit[] = [
        { method: 'POST' },
        { method: 'POST', headers: { 'x-csrf-token': 'x'.repeat(token.length) } },
        { method: 'POST', headers: { 'x-csrf-token': token, 'sec-fetch-site': 'cross-site' } },
        { method: 'POST', headers: { 'x-csrf-token': token, origin: 'https://evil.example' } },
      ]
      for (const init of attempts) {
        const response = await browser.request('/count', init)
        assert.equal(response.status, 403, JSON.stringify(init.headers ?? {}))
        await response.body?.cancel()
      }
      assert.equal(
        (await browser.json('/count', { method: 'POST', headers: { 'x-csrf-token': token } })).n,
        2,
        'refused requests changed nothing',
      )
    })

    csrfScenarios(serve)
    it("continues with an empty, unsaved session with onStoreError 'anonymous'", async () => {
      const manager = makeManager(new FailingDriver(), { onStoreError: 'anonymous' })
      let events = 0
      manager.on(SessionEvents.STORE_ERROR, () => events++)
      const browser = await serve(manager)
      const cookie = signId(manager.keyring, generateSessionId())
      browser.cookies.set(COOKIE, cookie)
      const me = await browser.json('/whoami')
      assert.equal(me.user, null)
      assert.deepEqual(browser.lastSetCookies, [], 'the cookie is kept for when the store is back')
      assert.equal(browser.cookies.get(COOKIE), cookie)
      assert.equal(events, 1)
    })
  })
}
