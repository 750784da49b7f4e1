import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Session, SessionData } from '../session/session.js'
import { clientFactsOf } from './security-hooks.js'
import { SessionLifecycle, type AnyManager, type SessionMiddlewareOptions } from './lifecycle.js'
import { commitBeforeHeaders } from './response.js'

export { csrf } from './csrf.js'
export { verifyCsrf } from '../security/csrf.js'
export type { CsrfOptions } from '../security/csrf.js'

/**
 * A request with its session, for typing handlers: `(req: Request & SessionRequest, res) => …`.
 * (Tessera does not augment Express's global `Request`, so it can live beside express-session.)
 */
export interface SessionRequest<Data extends SessionData = SessionData> {
  session: Session<Data>
}

/** A connect/Express middleware. */
export type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void

/**
 * Connect-style middleware (Express 4 and 5, connect, polka…): `app.use(session(manager))`, then
 * `req.session` in every handler. The session is committed before the response's headers go
 * out, whichever way the handler ends it. A store fault with `onStoreError: 'fail'` reaches the
 * app's error handler as a `SessionStoreError` (status 503). A new session over
 * `rateLimit.create` found at commit time replaces the response with 429 and `Retry-After`.
 */
export function session<Data extends SessionData = SessionData>(
  manager: AnyManager<Data>,
  options: SessionMiddlewareOptions = {},
): ConnectMiddleware {
  const lifecycle = new SessionLifecycle(manager, options)
  const { onError } = options
  return function tesseraSession(req, res, next) {
    if (!lifecycle.enabled) return next()
    lifecycle.begin(req.headers.cookie, { client: lifecycle.wantsClient ? clientFactsOf(req) : undefined }).then((handle) => {
      ;(req as IncomingMessage & SessionRequest<Data>).session = handle.session
      // Read-only and anonymous sessions never commit: leave the response untouched.
      if (!handle.session.status.readonly && !handle.anonymous) commitBeforeHeaders(res, handle, onError)
      next()
    }, next)
  }
}
