import type { Session, SessionData } from '../core/session.js'
import { SessionLifecycle, statusOf, statusText, type AnyManager, type SessionMiddlewareOptions } from './lifecycle.js'

export { loadReadonlySession } from './lifecycle.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'

/** A Fetch-API handler that gets the request's session. */
export type SessionHandler<Data extends SessionData = SessionData> = (request: Request, session: Session<Data>) => Response | Promise<Response>

/**
 * Wraps a Fetch-API handler (Bun, Deno, Next.js route handlers, service workers):
 * `export default withSession(manager, async (request, session) => new Response(…))`.
 * The session is committed after the handler and its cookies are added to the Response. A store
 * fault with `onStoreError: 'fail'` answers 503 without calling the handler. With
 * `enabled: false` the handler gets an empty session that is never saved.
 */
export function withSession<Data extends SessionData = SessionData>(
  manager: AnyManager<Data>,
  handler: SessionHandler<Data>,
  options: SessionMiddlewareOptions = {},
): (request: Request) => Promise<Response> {
  const lifecycle = new SessionLifecycle(manager, options)
  return async function tesseraFetch(request) {
    if (!lifecycle.enabled) {
      const session = manager.session({ driver: options.driver })
      await session.start()
      return handler(request, session)
    }
    let handle
    try {
      handle = await lifecycle.begin(request.headers.get('cookie') ?? undefined)
    } catch (error) {
      return errorResponse(error, options.onError)
    }
    const response = await handler(request, handle.session)
    try {
      return withCookies(response, await handle.commit())
    } catch (error) {
      return errorResponse(error, options.onError)
    }
  }
}

/** Adds Set-Cookie values to a Response, copying it first when its headers are immutable (`Response.redirect`). */
export function withCookies(response: Response, cookies: readonly string[]): Response {
  if (cookies.length === 0) return response
  let target = response
  try {
    for (const cookie of cookies) target.headers.append('set-cookie', cookie)
  } catch {
    target = new Response(response.body, response)
    for (const cookie of cookies) target.headers.append('set-cookie', cookie)
  }
  return target
}

/** A plain-text response with the error's status (503 for store faults); the message stays server-side. */
export function errorResponse(error: unknown, onError?: (error: unknown) => void): Response {
  onError?.(error)
  const status = statusOf(error)
  return new Response(statusText(status), { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}
