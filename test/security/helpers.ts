import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express, { type NextFunction, type Request, type Response } from 'express'
import { SessionManager, type SessionManagerOptions } from '../../src/manager/manager.js'
import type { Session } from '../../src/session/session.js'
import { csrf } from '../../src/http/csrf.js'
import { session } from '../../src/http/express.js'
import { rememberMeMiddleware } from '../../src/http/remember-me.js'
import { rememberMe, type RememberMe } from '../../src/security/remember-me.js'

export const KEY = 'k'.repeat(40)

/** The drivers the adversarial suite runs against; each gets its own folder or keys. */
export const DRIVERS: Record<string, (extra: SessionManagerOptions) => { config: SessionManagerOptions; cleanup: () => void }> = {
  memory: (extra) => ({ config: { driver: 'memory', keys: [KEY], ...extra }, cleanup: () => undefined }),
  file: (extra) => {
    const path = mkdtempSync(join(tmpdir(), 'tessera-sec-'))
    return { config: { driver: 'file', path, keys: [KEY], ...extra }, cleanup: () => rmSync(path, { recursive: true, force: true }) }
  },
  redis: (extra) => {
    // The shared Redis on 127.0.0.1:6379 (started by .ci/run); a random prefix keeps runs apart.
    const prefix = `tessera:test:sec:${randomBytes(6).toString('hex')}:`
    return {
      config: { driver: 'redis', connection: { host: '127.0.0.1', port: 6379 }, prefix, keys: [KEY], ...extra },
      cleanup: () => void dropPrefix(prefix),
    }
  },
  cookie: (extra) => ({
    config: {
      drivers: { cookie: { driver: 'cookie' }, state: { driver: 'memory' } },
      default: 'cookie',
      securityStore: 'state',
      keys: [KEY],
      ...extra,
    },
    cleanup: () => undefined,
  }),
}

async function dropPrefix(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis')
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true })
  try {
    await client.connect()
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length > 0) await client.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}

type SessionReq = Request & { session: Session; csrfToken: () => string }

export interface TestApp {
  url: string
  manager: SessionManager
  remember: RememberMe
  close(): Promise<void>
}

/**
 * An Express app with the session, remember-me and CSRF middleware, and routes that attacks aim
 * at. `csrf: false` leaves CSRF out (for tests that must not create a session to fetch a token).
 */
export async function startApp(
  config: SessionManagerOptions,
  cleanup: () => void = () => undefined,
  options: { csrf?: boolean } = {},
): Promise<TestApp> {
  const manager = new SessionManager(config)
  const remember = rememberMe(manager)
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(express.json())
  app.use(session(manager))
  app.use(rememberMeMiddleware(remember))
  if (options.csrf !== false) app.use(csrf())
  const handle =
    (route: (req: SessionReq, res: Response) => Promise<unknown> | unknown) => (req: Request, res: Response, next: NextFunction) => {
      Promise.resolve(route(req as SessionReq, res)).catch(next)
    }
  app.get(
    '/whoami',
    handle((req, res) => res.json({ fresh: req.session.status.fresh, user: req.session.auth.userId ?? null, data: req.session.all() })),
  )
  app.get(
    '/token',
    handle((req, res) => res.json({ token: req.csrfToken() })),
  )
  app.post(
    '/put',
    handle((req, res) => {
      for (const [key, value] of Object.entries(req.body as Record<string, unknown>)) req.session.put(key, value)
      res.json({ ok: true })
    }),
  )
  app.post(
    '/flash',
    handle((req, res) => {
      req.session.flashAll(req.body as Record<string, unknown>)
      res.json({ ok: true })
    }),
  )
  app.get(
    '/flash',
    handle((req, res) => {
      const all = req.session.flashMessages.all() as Record<string, unknown>
      res.json({
        keys: Object.keys(all),
        polluted: ({} as Record<string, unknown>).polluted ?? null,
        proto: Object.getPrototypeOf(all) === Object.prototype || Object.getPrototypeOf(all) === null,
      })
    }),
  )
  app.post(
    '/login',
    handle(async (req, res) => {
      const { user, remember: keep } = req.body as { user: string; remember?: boolean }
      await req.session.regenerate()
      req.session.auth.setUser(user)
      if (keep) res.append('set-cookie', remember.setCookie(await remember.issue(user)))
      res.json({ ok: true })
    }),
  )
  app.post(
    '/api/sessions',
    handle(async (req, res) => {
      const created = await manager.users.create((req.body as { user: string }).user, {}, { device: { ip: req.ip ?? 'unknown' } })
      res.json({ key: created.key })
    }),
  )
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    manager,
    remember,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await manager.close()
      cleanup()
    },
  }
}

/** Cookies from Set-Cookie headers merged into a jar (name → value; cleared cookies removed). */
export function updateJar(jar: Map<string, string>, response: globalThis.Response): Map<string, string> {
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';')
    const eq = pair.indexOf('=')
    const name = pair.slice(0, eq)
    const value = pair.slice(eq + 1)
    if (value === '' || /max-age=0/i.test(line)) jar.delete(name)
    else jar.set(name, value)
  }
  return jar
}

export function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}

/** A browser-like client: keeps cookies, sends same-origin fetch metadata. */
export class Client {
  readonly jar = new Map<string, string>()
  constructor(readonly base: string) {}

  async request(
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<globalThis.Response> {
    const headers: Record<string, string> = { 'sec-fetch-site': 'same-origin', ...init.headers }
    if (this.jar.size > 0) headers.cookie = cookieHeader(this.jar)
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(this.base + path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      redirect: 'manual',
    })
    updateJar(this.jar, response)
    return response
  }

  async json<T = Record<string, unknown>>(path: string, init?: Parameters<Client['request']>[1]): Promise<T> {
    return (await (await this.request(path, init)).json()) as T
  }

  /** POST with the session's CSRF token, as a page of the app would. */
  async post(path: string, body: unknown): Promise<globalThis.Response> {
    const { token } = await this.json<{ token: string }>('/token')
    return this.request(path, { method: 'POST', body, headers: { 'x-csrf-token': token } })
  }
}
