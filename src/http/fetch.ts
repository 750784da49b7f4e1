import type { Session, SessionData } from '../session/session.js'
import type { ClientFacts } from '../security/binding.js'
import { resolveCsrfOptions, verifyCsrf, type CsrfOptions } from '../security/csrf.js'
import { csrfRequest } from './csrf.js'
import { clientFactsReader, errorResponse, withCookies } from './web-response.js'
import { SessionLifecycle, type AnyManager, type SessionMiddlewareOptions } from './lifecycle.js'

export { readonlySession } from './lifecycle.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'
export { verifyCsrf } from '../security/csrf.js'
export type { CsrfOptions } from '../security/csrf.js'

/** Options of the Fetch and Hono adapters. */
export interface FetchSessionOptions extends SessionMiddlewareOptions {
  /**
   * The client facts for `binding` and `rateLimit.create`. A Fetch `Request` carries no socket
   * address, so pass this when either is configured. `env` is the handler's second argument
   * (Bun: the server, so `(request, env) => ({ remoteAddress: env.requestIP(request)?.address })`).
   * Default: the User-Agent and `X-Forwarded-For` headers (the latter used only under
   * `binding.trustProxy`), and the socket address when running on `@hono/node-server`.
   */
  clientFacts?: (request: Request, env?: unknown) => ClientFacts
}

/** A Fetch-API handler that gets the request's session. */
export type SessionHandler<Data extends SessionData = SessionData> = (
  request: Request,
  session: Session<Data>,
) => Response | Promise<Response>

/**
 * Wraps a Fetch-API handler (Bun, Deno, Next.js route handlers, service workers):
 * `export default withSession(manager, async (request, session) => new Response(…))`.
 * The session is committed after the handler and its cookies are added to the Response. A store
 * fault with `onStoreError: 'fail'` answers 503 without calling the handler, and a new session
 * over `rateLimit.create` answers 429 with `Retry-After`. With `enabled: false` the handler gets
 * an empty session that is never saved.
 */
export function withSession<Data extends SessionData = SessionData>(
  manager: AnyManager<Data>,
  handler: SessionHandler<Data>,
  options: FetchSessionOptions = {},
): (request: Request, env?: unknown) => Promise<Response> {
  const lifecycle = new SessionLifecycle(manager, options, ['clientFacts'])
  const clientFacts = clientFactsReader(lifecycle, options.clientFacts)
  return async function tesseraFetch(request, env) {
    if (!lifecycle.enabled) {
      const session = manager.prepare({ driver: options.driver })
      await session.start()
      return handler(request, session)
    }
    let handle
    try {
      handle = await lifecycle.begin(request.headers.get('cookie') ?? undefined, { client: clientFacts?.(request, env) })
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

/**
 * CSRF check for Fetch handlers (the framework-neutral {@link verifyCsrf} with options resolved
 * once): `const refused = checkCsrf(request, session); if (refused) return refused`. Returns a
 * 403 Response, or null when the request may proceed. The token is read from the header; pass
 * the parsed form body as `body` to accept the form field too.
 */
export function csrf(options: CsrfOptions = {}): (request: Request, session: Session | undefined, body?: unknown) => Response | null {
  const resolved = resolveCsrfOptions(options)
  return (request, session, body) => {
    const error = verifyCsrf(
      csrfRequest(request.method, (name) => request.headers.get(name) ?? undefined, session, body),
      resolved,
    )
    return error ? errorResponse(error) : null
  }
}
