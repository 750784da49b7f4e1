import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Session, SessionData } from '../session/session.js'
import { clientFactsOf } from './security-hooks.js'
import { errorHeaders, SessionLifecycle, statusOf, statusText, type AnyManager, type SessionMiddlewareOptions } from './lifecycle.js'
import { commitBeforeHeaders } from './response.js'

export { readonlySession } from './lifecycle.js'
// node:http has no middleware chain: call csrf() as `csrf()(req, res, (error) => …)` or use verifyCsrf.
export { csrf } from './csrf.js'
export { verifyCsrf } from '../security/csrf.js'
export { rememberMeMiddleware } from './remember-me.js'
export type { CsrfOptions } from '../security/csrf.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'

/** A node request with its session. */
export type SessionIncomingMessage<Data extends SessionData = SessionData> = IncomingMessage & { session: Session<Data> }

/**
 * Wraps a plain node:http handler: `createServer(withSession(manager, (req, res) => …))`, with
 * `req.session` set and committed before the response's headers go out. When the store fails
 * (`onStoreError: 'fail'`) the handler is not called and the client gets 503.
 * With `enabled: false` the handler runs without a session.
 */
export function withSession<Data extends SessionData = SessionData>(
  manager: AnyManager<Data>,
  handler: (req: SessionIncomingMessage<Data>, res: ServerResponse) => unknown,
  options: SessionMiddlewareOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const lifecycle = new SessionLifecycle(manager, options)
  const { onError } = options
  return function tesseraRequest(req, res) {
    if (!lifecycle.enabled) {
      handler(req as SessionIncomingMessage<Data>, res)
      return
    }
    lifecycle.begin(req.headers.cookie, { client: lifecycle.wantsClient ? clientFactsOf(req) : undefined }).then(
      (handle) => {
        const request = req as SessionIncomingMessage<Data>
        request.session = handle.session
        if (!handle.session.status.readonly && !handle.anonymous) commitBeforeHeaders(res, handle, onError)
        handler(request, res)
      },
      (error: unknown) => {
        const status = statusOf(error)
        res.writeHead(status, errorHeaders(error)).end(statusText(status))
        onError?.(error)
      },
    )
  }
}
