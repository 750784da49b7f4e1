import { Session } from '../session/session.js'
import type { DeviceInfo } from '../drivers/contract.js'
import type { RememberMe } from '../security/remember-me.js'
import { parseCookies } from './cookies.js'
import { appendSetCookie, type CookieResponse } from './response.js'

/** The parts of a Node/Express request the remember-me middleware reads. */
export interface RememberMeIncomingMessage {
  headers: Record<string, string | string[] | undefined>
  /** A Tessera session (typed loosely: other libraries augment `req.session` with their own types). */
  session?: unknown
  socket?: { remoteAddress?: string | undefined } | undefined
}

/**
 * Connect-style middleware, mounted after the session middleware: a request without a signed-in
 * session that carries a remember-me cookie is signed in from it (and the cookie rotated); a bad
 * token's cookie is cleared. `req.session.auth.userId` tells the app who is signed in.
 * `app.use(rememberMeMiddleware(rememberMe(manager)))`.
 */
export function rememberMeMiddleware(remember: RememberMe) {
  return function tesseraRememberMe(req: RememberMeIncomingMessage, res: CookieResponse, next: (error?: unknown) => void): void {
    const session = req.session instanceof Session ? req.session : undefined
    const header = req.headers.cookie
    const token = parseCookies(typeof header === 'string' ? header : undefined)[remember.cookieName]
    if (!session || token === undefined || session.auth.userId !== undefined || session.status.readonly) return next()
    const userAgent = typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined
    const device: DeviceInfo = {}
    if (req.socket?.remoteAddress) device.ip = req.socket.remoteAddress
    if (userAgent) device.userAgent = userAgent
    remember.restore(session, token, { device }).then((result) => {
      appendSetCookie(res, [result.status === 'valid' ? remember.setCookie(result.next) : remember.clearCookie()])
      next()
    }, next)
  }
}
