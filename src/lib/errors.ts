/**
 * Every error Tessera throws is a `SessionError` with a stable `code` (for programs) and a
 * message written for the person who has to fix the problem. Messages never contain a session
 * id, token or session data.
 */
export class SessionError extends Error {
  /** Stable, machine-readable identifier, e.g. `E_SESSION_STORE`. */
  readonly code: string
  /** HTTP status an adapter answers with when this error escapes a request. */
  readonly status: number

  constructor(message: string, options: { code: string; status?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = options.code
    this.status = options.status ?? 500
  }
}

/** The configuration passed to a manager, driver or middleware is invalid. */
export class SessionConfigError extends SessionError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'E_SESSION_CONFIG', status: 500, ...options })
  }
}

/** A store (driver) failed or timed out. `cause` carries the driver's own error. */
export class SessionStoreError extends SessionError {
  /** Name of the driver that failed, e.g. `redis`. */
  readonly driver: string
  constructor(message: string, options: { driver: string; cause?: unknown; code?: string }) {
    super(message, { code: options.code ?? 'E_SESSION_STORE', status: 503, cause: options.cause })
    this.driver = options.driver
  }
}

/** A value cannot be stored (function, symbol, cyclic object) or stored data cannot be decoded. */
export class SessionSerializationError extends SessionError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'E_SESSION_SERIALIZATION', status: 500, ...options })
  }
}

/** A write was attempted on a session opened read-only. */
export class SessionReadonlyError extends SessionError {
  constructor(operation: string) {
    super(
      `Cannot call session.${operation}() on a read-only session. Read-only sessions (e.g. for WebSocket upgrades) can be read but not changed; open the session without readonly to write.`,
      { code: 'E_SESSION_READONLY', status: 500 },
    )
  }
}

/** A data method was called before `await session.start()`. */
export class SessionNotStartedError extends SessionError {
  constructor(operation: string) {
    super(`Cannot call session.${operation}() before the session is started: call "await session.start()" first.`, {
      code: 'E_SESSION_NOT_STARTED',
      status: 500,
    })
  }
}

/** A Session was constructed without a store (`new Session()`), so it cannot start. */
export class SessionContextError extends SessionError {
  constructor() {
    super(
      'This session has no store to load from or save to: it was constructed without a context. Get sessions from a manager (`await manager.open()`, or `manager.prepare()` for one not started yet; subclasses through the `sessionClass` option), or use `createSession(config)`.',
      { code: 'E_SESSION_NO_CONTEXT', status: 500 },
    )
  }
}

/** `increment`/`decrement` on a value that is not a number. */
export class SessionTypeError extends SessionError {
  constructor(message: string) {
    super(message, { code: 'E_SESSION_NOT_A_NUMBER', status: 500 })
  }
}

/** Concurrent changes could not be merged within the retry budget. */
export class SessionConflictError extends SessionError {
  constructor(message: string) {
    super(message, { code: 'E_SESSION_CONFLICT', status: 409 })
  }
}

/** A driver needs an optional client package that is not installed. */
export class MissingClientError extends SessionConfigError {
  readonly packageName: string
  constructor(driver: string, packageName: string, versionRange: string, cause?: unknown) {
    super(
      `The "${driver}" session driver needs the "${packageName}" package. Install it with: npm install ${packageName}@"${versionRange}"`,
      { cause },
    )
    this.packageName = packageName
  }
}

/** Data to be stored in a sealed cookie does not fit into the configured number of chunks. */
export class SessionCookieTooLargeError extends SessionError {
  readonly size: number
  readonly limit: number
  constructor(size: number, limit: number) {
    super(
      `The sealed session cookie needs ${size} bytes but at most ${limit} fit into the configured cookie chunks. Store less data in the session, raise "maxChunks", or use a server-side driver (file, sqlite, redis, postgres).`,
      { code: 'E_SESSION_COOKIE_TOO_LARGE', status: 500 },
    )
    this.size = size
    this.limit = limit
  }
}

/** A request that changes state failed the CSRF check (missing or wrong token, cross-site origin). */
export class CsrfError extends SessionError {
  /** Which check failed: `origin` (Origin / Sec-Fetch-Site) or `token`. */
  readonly reason: 'origin' | 'token'
  constructor(reason: 'origin' | 'token', message: string) {
    super(message, { code: 'E_SESSION_CSRF', status: 403 })
    this.reason = reason
  }
}

/** Too many sessions were created from one client or for one user in the configured window. */
export class RateLimitError extends SessionError {
  /** Seconds until the next attempt can succeed (sent as `Retry-After`). */
  readonly retryAfter: number
  /** Response headers for the refusal; Express's default error handler sends `err.headers`. */
  readonly headers: Readonly<Record<string, string>>
  constructor(scope: 'ip' | 'user', retryAfter: number) {
    super(`Too many new sessions for this ${scope === 'ip' ? 'client' : 'user'}; retry in ${retryAfter} s.`, {
      code: 'E_SESSION_RATE_LIMITED',
      status: 429,
    })
    this.retryAfter = retryAfter
    this.headers = { 'Retry-After': String(retryAfter) }
  }
}

/** A user already has `maxSessionsPerUser` sessions and the policy is `onLimit: 'refuse'`. */
export class SessionLimitError extends SessionError {
  readonly limit: number
  constructor(limit: number) {
    super(`This user already has the maximum of ${limit} active session(s); sign out on another device first.`, {
      code: 'E_SESSION_LIMIT',
      status: 403,
    })
    this.limit = limit
  }
}
