import type { Session, SessionData } from '../core/session.js'
import { errorResponse } from './fetch.js'
import { SessionLifecycle, type AnyManager, type SessionMiddlewareOptions } from './lifecycle.js'

export { loadReadonlySession } from './lifecycle.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'

/** Context variables this middleware sets: `new Hono<{ Variables: SessionVariables }>()`, then `c.get('session')`. */
export interface SessionVariables<Data extends SessionData = SessionData> {
  session: Session<Data>
}

/** The parts of Hono's Context the middleware uses (structural: no runtime dependency on hono). */
export interface HonoContextLike<Data extends SessionData = SessionData> {
  req: { header(name: string): string | undefined }
  set(key: 'session', value: Session<Data>): void
  header(name: string, value: string, options?: { append?: boolean }): void
  res: Response
}

/**
 * Hono middleware: `app.use(session(manager))`, then `c.get('session')`. The session is committed
 * after the handlers and its cookies appended to the response. A store fault with
 * `onStoreError: 'fail'` answers 503 (the handlers do not run).
 */
export function session<Data extends SessionData = SessionData>(manager: AnyManager<Data>, options: SessionMiddlewareOptions = {}) {
  const lifecycle = new SessionLifecycle(manager, options)
  return async function tesseraSession(c: HonoContextLike<Data>, next: () => Promise<void>): Promise<Response | void> {
    if (!lifecycle.enabled) return next()
    let handle
    try {
      handle = await lifecycle.begin(c.req.header('cookie'))
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
