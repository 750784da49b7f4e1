import type { ResolvedConfig } from '../config/resolve.js'
import type { Session, SessionData } from '../session/session.js'
import { SessionConfigError } from '../lib/errors.js'
import type { ClientFacts } from '../security/binding.js'
import { resolveCsrfOptions, verifyCsrf, type CsrfOptions } from '../security/csrf.js'
import { csrfRequest } from './csrf.js'
import { errorHeaders, SessionLifecycle, statusOf, statusText, type AnyManager, type SessionMiddlewareOptions } from './lifecycle.js'

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
export type SessionHandler<Data extends SessionData = SessionData> = (request: Request, session: Session<Data>) => Response | Promise<Response>

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
  const lifecycle = new SessionLifecycle(manager, options)
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

/**
 * A plain-text response with the error's status (403 CSRF, 429 with `Retry-After`, 503 store
 * fault); the message stays server-side.
 */
export function errorResponse(error: unknown, onError?: (error: unknown) => void): Response {
  onError?.(error)
  const status = statusOf(error)
  return new Response(statusText(status), { status, headers: errorHeaders(error) })
}

/**
 * How an adapter without a socket reads client facts; undefined when nothing needs them, so
 * apps without binding or a creation limit do no per-request work.
 */
export function clientFactsReader(
  lifecycle: { readonly manager: { readonly config: ResolvedConfig }; readonly needsClientIp: boolean },
  custom: ((request: Request, env?: unknown) => ClientFacts) | undefined,
): ((request: Request, env?: unknown) => ClientFacts) | undefined {
  const { binding, createLimit } = lifecycle.manager.config.security
  if (!binding && !createLimit) return undefined
  if (custom) return custom
  const needsIp = lifecycle.needsClientIp && (binding?.trustProxy ?? false) === false
  return (request, env) => {
    const facts: ClientFacts = {
      remoteAddress: nodeRemoteAddress(env),
      forwardedFor: request.headers.get('x-forwarded-for') ?? undefined,
      userAgent: request.headers.get('user-agent') ?? undefined,
    }
    if (needsIp && facts.remoteAddress === undefined) {
      throw new SessionConfigError(
        "binding.ip and rateLimit.create need the client's IP, which a Fetch Request does not carry: pass withSession(manager, handler, { clientFacts: (request) => ({ remoteAddress, userAgent }) }), or set binding.trustProxy when a proxy adds X-Forwarded-For.",
      )
    }
    return facts
  }
}

/** The socket address `@hono/node-server` passes as `env.incoming`. */
function nodeRemoteAddress(env: unknown): string | undefined {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined)?.incoming
  const address = incoming?.socket?.remoteAddress
  return typeof address === 'string' ? address : undefined
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
    const error = verifyCsrf(csrfRequest(request.method, (name) => request.headers.get(name) ?? undefined, session, body), resolved)
    return error ? errorResponse(error) : null
  }
}
