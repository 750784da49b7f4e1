import { randomBytes } from 'node:crypto'
import { CSRF_SESSION_KEY } from '../session/session.js'
import { safeEqual, type Keyring } from '../lib/crypto.js'
import { CsrfError, SessionConfigError } from '../lib/errors.js'

/** What a session must offer for the synchronizer-token mode (a Tessera `Session` does). */
export interface CsrfSession {
  auth: { csrfToken(): string }
  get(key: string): unknown
}

export interface CsrfOptions {
  /**
   * `session` (default): the token lives in the session (`session.auth.csrfToken()`).
   * `double-submit`: the token is a signed random value in a cookie, echoed back in the header
   * or form field, and bound to the request's session when there is one (another client's token
   * fails). Without a session it is bound to nothing, and the Origin or Sec-Fetch-Site header
   * that browsers send is required.
   */
  mode?: 'session' | 'double-submit'
  /** Header carrying the token. Default `x-csrf-token`. */
  header?: string
  /** Form field carrying the token (the body must already be parsed). Default `_csrf`. */
  field?: string
  /** Methods that are never checked. Default GET, HEAD, OPTIONS, TRACE. */
  ignoreMethods?: readonly string[]
  /** Other origins allowed to send unsafe requests, e.g. `['https://admin.example.com']`. */
  trustedOrigins?: readonly string[]
  /** Accept `Sec-Fetch-Site: same-site` (sibling subdomains). Default false. */
  allowSameSite?: boolean
  /** Signing keys for `double-submit` mode: a manager (its `keyring`) or a keyring. */
  manager?: { keyring: Keyring; cookie?: { secure: boolean } }
  keyring?: Keyring
  /** The double-submit cookie. Default name `__Host-csrf` when secure, else `tessera_csrf`. */
  cookie?: { name?: string; secure?: boolean; sameSite?: 'strict' | 'lax'; path?: string }
}

/** The request facts a CSRF check needs; adapters build one from their framework's request. */
export interface CsrfRequest {
  method: string
  /** A header by lower-case name. */
  header(name: string): string | undefined
  /** The parsed body, if the app parsed one. */
  body?: unknown
  /** The request's session, for `session` mode. */
  session?: CsrfSession | undefined
  /** A request cookie by name, for `double-submit` mode. */
  cookie?(name: string): string | undefined
}

/** Options with defaults filled in; build once with {@link resolveCsrfOptions}. */
export interface ResolvedCsrfOptions {
  mode: 'session' | 'double-submit'
  header: string
  field: string
  ignore: ReadonlySet<string>
  trustedOrigins: ReadonlySet<string>
  allowSameSite: boolean
  keyring: Keyring | null
  cookie: { name: string; secure: boolean; sameSite: 'strict' | 'lax'; path: string }
}

const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS', 'TRACE']
const DOUBLE_SUBMIT_CONTEXT = 'tessera/csrf:'

/** Options resolved by {@link resolveCsrfOptions}, so {@link verifyCsrf} can tell them from raw ones. */
const RESOLVED = new WeakSet<object>()
/** Raw options an app passed to `verifyCsrf`, resolved once per options object. */
const resolvedFor = new WeakMap<CsrfOptions, ResolvedCsrfOptions>()

export function resolveCsrfOptions(options: CsrfOptions = {}): ResolvedCsrfOptions {
  const mode = options.mode ?? 'session'
  if (mode !== 'session' && mode !== 'double-submit') {
    throw new SessionConfigError(`csrf mode must be 'session' or 'double-submit', got ${JSON.stringify(mode)}.`)
  }
  const keyring = options.keyring ?? options.manager?.keyring ?? null
  if (mode === 'double-submit' && !keyring) {
    throw new SessionConfigError("csrf({ mode: 'double-submit' }) signs its cookie: pass { manager } (its keys are used) or { keyring }.")
  }
  const trusted = new Set<string>()
  for (const origin of options.trustedOrigins ?? []) {
    let parsed: URL
    try {
      parsed = new URL(origin)
    } catch {
      throw new SessionConfigError(
        `csrf trustedOrigins entries must be origins such as 'https://app.example.com', got ${JSON.stringify(origin)}.`,
      )
    }
    trusted.add(parsed.origin)
  }
  const secure = options.cookie?.secure ?? options.manager?.cookie?.secure ?? process.env.NODE_ENV === 'production'
  const resolved: ResolvedCsrfOptions = {
    mode,
    header: (options.header ?? 'x-csrf-token').toLowerCase(),
    field: options.field ?? '_csrf',
    ignore: new Set((options.ignoreMethods ?? SAFE_METHODS).map((method) => method.toUpperCase())),
    trustedOrigins: trusted,
    allowSameSite: options.allowSameSite ?? false,
    keyring,
    cookie: {
      name: options.cookie?.name ?? (secure ? '__Host-csrf' : 'tessera_csrf'),
      secure,
      sameSite: options.cookie?.sameSite ?? 'strict',
      path: options.cookie?.path ?? '/',
    },
  }
  RESOLVED.add(resolved)
  return resolved
}

/**
 * What a double-submit token is bound to: the secret of the request's session (its synchronizer
 * token, `session.auth.csrfToken()`: random, kept in the session, replaced by `regenerate()`),
 * so a token minted for another client fails. `''` when the request has no session (a stateless
 * app): then nothing is bound, and {@link verifyCsrf} demands the browser's Origin or
 * Sec-Fetch-Site header instead. `undefined` when the session has no secret yet (verify only).
 */
export function doubleSubmitBinding(session: CsrfSession | undefined, create: boolean): string | undefined {
  if (!session) return ''
  if (create) return session.auth.csrfToken()
  const secret = session.get(CSRF_SESSION_KEY)
  return typeof secret === 'string' && secret !== '' ? secret : undefined
}

function signedText(binding: string, nonce: string): string {
  return binding === '' ? DOUBLE_SUBMIT_CONTEXT + nonce : `${DOUBLE_SUBMIT_CONTEXT}session:${binding}:${nonce}`
}

/** A fresh double-submit token, `<nonce>.<signature>`, bound to `binding` (see {@link doubleSubmitBinding}). */
export function issueDoubleSubmitToken(keyring: Keyring, binding = ''): string {
  const nonce = randomBytes(24).toString('base64url')
  return `${nonce}.${keyring.sign(signedText(binding, nonce))}`
}

/** True when `token` is a double-submit token signed by one of the keyring's keys for `binding`. */
export function isSignedDoubleSubmitToken(keyring: Keyring, token: string | undefined, binding = ''): token is string {
  if (typeof token !== 'string' || token.length > 256) return false
  const dot = token.indexOf('.')
  if (dot <= 0) return false
  return keyring.verify(signedText(binding, token.slice(0, dot)), token.slice(dot + 1)) !== null
}

/**
 * The first line: reject requests a browser marks as cross-site, or whose Origin is neither this
 * host nor trusted. Requests without these headers (non-browser clients) go on to the token check.
 */
function checkOrigin(request: CsrfRequest, options: ResolvedCsrfOptions): CsrfError | null {
  const origin = request.header('origin')
  if (origin !== undefined) {
    if (options.trustedOrigins.has(origin)) return null
    let host: string | null = null
    try {
      host = origin === 'null' ? null : new URL(origin).host
    } catch {
      host = null
    }
    if (host === null || host !== request.header('host')) {
      return new CsrfError(
        'origin',
        'Cross-origin request refused: its Origin is not this site. Add the origin to csrf({ trustedOrigins }) if it should be allowed.',
      )
    }
  }
  const site = request.header('sec-fetch-site')
  if (site === 'cross-site' || (site === 'same-site' && !options.allowSameSite)) {
    return new CsrfError(
      'origin',
      `Request refused: the browser marked it ${site}. Send it from this origin, or allow it with csrf({ trustedOrigins }) / csrf({ allowSameSite: true }).`,
    )
  }
  return null
}

function presentedToken(request: CsrfRequest, options: ResolvedCsrfOptions): string | undefined {
  const header = request.header(options.header)
  if (typeof header === 'string' && header !== '') return header
  const body = request.body
  if (typeof body === 'object' && body !== null && Object.hasOwn(body, options.field)) {
    const value = (body as Record<string, unknown>)[options.field]
    if (typeof value === 'string' && value !== '') return value
  }
  return undefined
}

/**
 * The framework-neutral CSRF check (each adapter's `csrf()` calls it): `verifyCsrf(request, { manager })`
 * with the same options as `csrf()`. Returns null when the request may proceed, else the
 * {@link CsrfError} (status 403) to answer with. Safe methods always pass. Options are checked and
 * resolved once per options object: keep the object, don't build it per request.
 */
export function verifyCsrf(request: CsrfRequest, given: CsrfOptions | ResolvedCsrfOptions = {}): CsrfError | null {
  const options = resolvedOptions(given)
  if (options.ignore.has(request.method.toUpperCase())) return null
  const origin = checkOrigin(request, options)
  if (origin) return origin
  const presented = presentedToken(request, options)
  if (presented === undefined) {
    return new CsrfError('token', `CSRF token missing: send it in the "${options.header}" header or the "${options.field}" form field.`)
  }
  let expected: unknown
  if (options.mode === 'session') {
    if (!request.session) {
      throw new SessionConfigError('csrf() in session mode needs the session middleware to run first (req.session is missing).')
    }
    expected = request.session.get(CSRF_SESSION_KEY)
  } else {
    const binding = doubleSubmitBinding(request.session, false)
    if (binding === '' && request.header('origin') === undefined && request.header('sec-fetch-site') === undefined) {
      // Without a session the token is bound to nothing: a cookie planted by someone who can
      // write cookies would pass, so the browser must show where the request comes from.
      return new CsrfError(
        'origin',
        'Request refused: a double-submit check without a session needs the browser’s Origin or Sec-Fetch-Site header. Send it from a browser, or set an Origin header.',
      )
    }
    const cookie = request.cookie?.(options.cookie.name)
    expected = binding !== undefined && isSignedDoubleSubmitToken(options.keyring as Keyring, cookie, binding) ? cookie : undefined
  }
  if (typeof expected !== 'string' || expected === '' || !safeEqual(expected, presented)) {
    return new CsrfError('token', 'CSRF token invalid: reload the page to get a current token (tokens change at login).')
  }
  return null
}

function resolvedOptions(given: CsrfOptions | ResolvedCsrfOptions): ResolvedCsrfOptions {
  if (RESOLVED.has(given)) return given as ResolvedCsrfOptions
  let resolved = resolvedFor.get(given as CsrfOptions)
  if (!resolved) {
    resolved = resolveCsrfOptions(given as CsrfOptions)
    resolvedFor.set(given as CsrfOptions, resolved)
  }
  return resolved
}
