import { SessionManager as CoreSessionManager } from './manager/manager.js'
import type { SessionData } from './session/session.js'
import { session as connectSession, type ConnectMiddleware } from './http/connect.js'
import type { SessionMiddlewareOptions } from './http/lifecycle.js'

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
}
