import type { ResolvedConfig } from '../config/resolve.js'
import { SessionConfigError } from '../lib/errors.js'
import type { ClientFacts } from '../security/binding.js'
import { errorHeaders, statusOf, statusText } from './lifecycle.js'

/** Web-standard Request/Response plumbing shared by the Fetch and Hono adapters (internal). */

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
