import { parseCookie } from 'cookie'
import type { CsrfRequest, CsrfSession } from '../security/csrf.js'

/**
 * The framework-neutral request a CSRF check reads, built from an adapter's own request. Cookies
 * are parsed only when the double-submit mode asks for one.
 */
export function csrfRequest(
  method: string,
  header: (name: string) => string | undefined,
  session: unknown,
  body?: unknown,
): CsrfRequest {
  let cookies: Record<string, string | undefined> | undefined
  return {
    method,
    header,
    body,
    session: isCsrfSession(session) ? session : undefined,
    cookie(name) {
      cookies ??= parseCookie(header('cookie') ?? '', { decode: (value) => value })
      return cookies[name]
    },
  }
}

function isCsrfSession(value: unknown): value is CsrfSession {
  const candidate = value as Partial<CsrfSession> | null | undefined
  return typeof candidate?.auth?.csrfToken === 'function' && typeof candidate.get === 'function'
}

/** First value of a Node-style header. */
export function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
