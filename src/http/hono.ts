import type { Session, SessionData } from '../session/session.js'
import { resolveCsrfOptions, verifyCsrf, type CsrfOptions } from '../security/csrf.js'
import { csrfRequest } from './csrf.js'
import type { FetchSessionOptions } from './fetch.js'
import { clientFactsReader, errorResponse } from './web-response.js'
import { SessionLifecycle, type AnyManager } from './lifecycle.js'

export { readonlySession } from './lifecycle.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'
export type { FetchSessionOptions as HonoSessionOptions } from './fetch.js'
export { verifyCsrf } from '../security/csrf.js'
export type { CsrfOptions } from '../security/csrf.js'

/** Context variables this middleware sets: `new Hono<{ Variables: SessionVariables }>()`, then `c.get('session')`. */
export interface SessionVariables<Data extends SessionData = SessionData> {
  session: Session<Data>
}

/** The parts of Hono's Context the middleware uses (structural: no runtime dependency on hono). */
export interface HonoContextLike<Data extends SessionData = SessionData> {
  req: { header(name: string): string | undefined; raw: Request }
  /** Hono's bindings; `@hono/node-server` passes the node request here as `incoming`. */
  env?: unknown
  set(key: 'session', value: Session<Data>): void
  header(name: string, value: string, options?: { append?: boolean }): void
  res: Response
}

/**
 * Hono middleware: `app.use(session(manager))`, then `c.get('session')`. The session is committed
 * after the handlers and its cookies appended to the response. A store fault with
 * `onStoreError: 'fail'` answers 503 (the handlers do not run); a new session over
 * `rateLimit.create` answers 429 with `Retry-After`. For `binding` or `rateLimit` outside
 * `@hono/node-server`, pass `clientFacts` (see {@link FetchSessionOptions}).
 */
export function session<Data extends SessionData = SessionData>(manager: AnyManager<Data>, options: FetchSessionOptions = {}) {
  const lifecycle = new SessionLifecycle(manager, options, ['clientFacts'])
  const clientFacts = clientFactsReader(lifecycle, options.clientFacts)
  return async function tesseraSession(c: HonoContextLike<Data>, next: () => Promise<void>): Promise<Response | void> {
    if (!lifecycle.enabled) return next()
    let handle
    try {
      handle = await lifecycle.begin(c.req.header('cookie'), { client: clientFacts?.(c.req.raw, c.env) })
    } catch (error) {
      return errorResponse(error, options.onError)
    }
    c.set('session', handle.session)
    await next()
    let cookies
    try {
      cookies = await handle.commit()
    } catch (error) {
      c.res = errorResponse(error, options.onError)
      return
    }
    for (const cookie of cookies) c.header('set-cookie', cookie, { append: true })
  }
}

/** The parts of Hono's Context the CSRF middleware uses. */
export interface HonoCsrfContextLike {
  req: { method: string; header(name: string): string | undefined; parseBody(): Promise<unknown> }
  get(key: 'session'): unknown
}

const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i

/**
 * CSRF protection as Hono middleware: `app.use(session(manager)); app.use(csrf())`. A failed
 * check answers 403 and the handlers do not run. The token is read from the header, or from the
 * form field of a form-encoded body (Hono caches the parsed body, so handlers can still read it).
 */
export function csrf(options: CsrfOptions = {}) {
  const resolved = resolveCsrfOptions(options)
  return async function tesseraCsrf(c: HonoCsrfContextLike, next: () => Promise<void>): Promise<Response | void> {
    const header = (name: string): string | undefined => c.req.header(name)
    const body =
      !resolved.ignore.has(c.req.method.toUpperCase()) && !header(resolved.header) && FORM.test(header('content-type') ?? '')
        ? await c.req.parseBody()
        : undefined
    const error = verifyCsrf(csrfRequest(c.req.method, header, c.get('session'), body), resolved)
    if (error) return errorResponse(error)
    await next()
  }
}
