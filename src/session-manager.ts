import type { IncomingMessage } from 'node:http'
import { SessionManager as CoreSessionManager } from './core/manager.js'
import type { Session, SessionData } from './session/session.js'
import { session as connectSession, type ConnectMiddleware } from './http/connect.js'
import { loadReadonlySession, type SessionMiddlewareOptions } from './http/lifecycle.js'
import { clientFactsOf } from './security/hooks.js'

/**
 * The manager exported from `tessera`: the core {@link CoreSessionManager} plus the HTTP entry
 * points, so `app.use(manager.middleware())` works without importing an adapter. The core class
 * knows nothing of HTTP; this composition is the only place the two meet.
 */
export class SessionManager<Data extends SessionData = SessionData, Names extends string = string> extends CoreSessionManager<Data, Names> {
  /** Connect-style middleware (Express 4/5, connect): `app.use(manager.middleware())`, then `req.session`. */
  middleware(options: SessionMiddlewareOptions = {}): ConnectMiddleware {
    return connectSession<Data>(this, options)
  }

  /**
   * A read-only session for a request that must not write, such as a WebSocket upgrade: pass
   * the request or its Cookie header. It is never committed and sets no cookie.
   */
  readonlySession(request: IncomingMessage | string | undefined, options: { driver?: Names | (string & {}) } = {}): Promise<Session<Data>> {
    if (typeof request === 'string' || request === undefined) return loadReadonlySession<Data>(this, request, options)
    return loadReadonlySession<Data>(this, request.headers.cookie, { ...options, client: clientFactsOf(request) })
  }
}
