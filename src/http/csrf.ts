import { stringifySetCookie } from 'cookie'
import { safeEqual, type Keyring } from '../lib/crypto.js'
import { SessionConfigError } from '../lib/errors.js'
import {
  doubleSubmitBinding,
  issueDoubleSubmitToken,
  isSignedDoubleSubmitToken,
  resolveCsrfOptions,
  verifyCsrf,
  type CsrfOptions,
  type CsrfRequest,
  type CsrfSession,
} from '../security/csrf.js'
import { parseCookies } from './cookies.js'
import { appendSetCookie, type CookieResponse } from './response.js'

/**
 * The framework-neutral request a CSRF check reads, built from an adapter's own request. Cookies
 * are parsed only when the double-submit mode asks for one.
 */
export function csrfRequest(method: string, header: (name: string) => string | undefined, session: unknown, body?: unknown): CsrfRequest {
  let cookies: Record<string, string | undefined> | undefined
  return {
    method,
    header,
    body,
    session: isCsrfSession(session) ? session : undefined,
    cookie(name) {
      cookies ??= parseCookies(header('cookie'))
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

/** The parts of a Node/Express request the middleware touches. */
export interface CsrfIncomingMessage {
  method?: string
  headers: Record<string, string | string[] | undefined>
  body?: unknown
  /** A Tessera session (typed loosely: other libraries augment `req.session` with their own types). */
  session?: unknown
  /** Set by the middleware: the token to render into forms or hand to scripts. */
  csrfToken?: () => string
}

/**
 * CSRF protection as connect-style middleware (Express, connect, polka; other adapters reuse
 * {@link verifyCsrf}): `app.use(csrf())` after the session middleware and body parser. Sets
 * `req.csrfToken()`. A failed check calls `next(err)` with a `CsrfError` (status 403).
 */
export function csrf(options: CsrfOptions = {}) {
  const resolved = resolveCsrfOptions(options)
  return function csrfMiddleware(req: CsrfIncomingMessage, res: CookieResponse, next: (error?: unknown) => void): void {
    try {
      const request = csrfRequest(req.method ?? 'GET', (name) => singleHeader(req.headers[name]), req.session, req.body)
      if (resolved.mode === 'session') {
        req.csrfToken = () => {
          if (!isCsrfSession(req.session))
            throw new SessionConfigError('req.csrfToken() needs the session middleware to run before csrf().')
          return req.session.auth.csrfToken()
        }
      } else {
        // Issued for the session as it is when called: after a login (regenerate) it is re-issued.
        let token: string | undefined
        let boundTo: string | undefined
        req.csrfToken = () => {
          const binding = doubleSubmitBinding(request.session, true) as string
          if (token !== undefined && boundTo !== undefined && safeEqual(boundTo, binding)) return token
          boundTo = binding
          const current = request.cookie?.(resolved.cookie.name)
          if (token === undefined && isSignedDoubleSubmitToken(resolved.keyring as Keyring, current, binding)) return (token = current)
          token = issueDoubleSubmitToken(resolved.keyring as Keyring, binding)
          const { name, secure, sameSite, path } = resolved.cookie
          // Readable by scripts on purpose: single-page apps copy it into the header.
          appendSetCookie(res, [stringifySetCookie(name, token, { secure, sameSite, path, httpOnly: false })])
          return token
        }
      }
      next(verifyCsrf(request, resolved) ?? undefined)
    } catch (error) {
      next(error)
    }
  }
}
