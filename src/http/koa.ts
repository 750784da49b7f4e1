import type { IncomingMessage } from 'node:http'
import type { Session, SessionData } from '../session/session.js'
import { resolveCsrfOptions, verifyCsrf, type CsrfOptions } from '../security/csrf.js'
import { clientFactsOf } from './security-hooks.js'
import { csrfRequest } from './csrf.js'
import { SessionLifecycle, type AnyManager, type SessionMiddlewareOptions } from './lifecycle.js'

export { readonlySession } from './lifecycle.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'
export { verifyCsrf } from '../security/csrf.js'
export type { CsrfOptions } from '../security/csrf.js'

/** The parts of Koa's Context the middleware uses (structural: no runtime dependency on koa). */
export interface KoaContextLike<Data extends SessionData = SessionData> {
  get(field: string): string
  append(field: string, value: string | string[]): void
  req: Pick<IncomingMessage, 'headers' | 'socket'>
  session?: Session<Data>
}

/**
 * Koa middleware: `app.use(session(manager))`, then `ctx.session`. The session is committed after
 * the downstream middleware, before Koa sends the response. A store fault with
 * `onStoreError: 'fail'` is thrown as a `SessionStoreError` (status 503) for Koa's error handling,
 * and a new session over `rateLimit.create` as a `RateLimitError` (status 429, `headers` with
 * `Retry-After`, which Koa's default handler sends). When downstream throws, nothing is committed.
 */
export function session<Data extends SessionData = SessionData>(manager: AnyManager<Data>, options: SessionMiddlewareOptions = {}) {
  const lifecycle = new SessionLifecycle(manager, options)
  return async function tesseraSession(ctx: KoaContextLike<Data>, next: () => Promise<unknown>): Promise<void> {
    if (!lifecycle.enabled) {
      await next()
      return
    }
    const handle = await lifecycle.begin(ctx.get('cookie') || undefined, {
      client: lifecycle.wantsClient ? clientFactsOf(ctx.req) : undefined,
    })
    ctx.session = handle.session
    await next()
    const cookies = await handle.commit()
    if (cookies.length > 0) ctx.append('set-cookie', [...cookies])
  }
}

/** The parts of Koa's Context the CSRF middleware uses. */
export interface KoaCsrfContextLike {
  method: string
  get(field: string): string
  request: { body?: unknown }
  session?: unknown
}

/**
 * CSRF protection as Koa middleware: `app.use(session(manager)); app.use(bodyParser()); app.use(csrf())`.
 * A failed check throws the `CsrfError` (status 403) for Koa's error handling; downstream does not run.
 */
export function csrf(options: CsrfOptions = {}) {
  const resolved = resolveCsrfOptions(options)
  return async function tesseraCsrf(ctx: KoaCsrfContextLike, next: () => Promise<unknown>): Promise<void> {
    const error = verifyCsrf(
      csrfRequest(ctx.method, (name) => ctx.get(name) || undefined, ctx.session, ctx.request.body),
      resolved,
    )
    if (error) throw error
    await next()
  }
}
