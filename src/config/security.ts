import { parseDuration, type Duration } from '../lib/durations.js'
import { SessionConfigError } from '../lib/errors.js'

/** Binds a session to facts about the client that created it (seed 003). */
export interface BindingConfig {
  /** Bind to the client IP: `true` (exact) or `'subnet'` (same /24 for IPv4, /64 for IPv6). */
  ip?: boolean | 'subnet'
  /** Bind to the User-Agent header. */
  userAgent?: boolean
  /** `reject` (default): destroy the session and start a fresh one. `log`: emit an event only. */
  onMismatch?: 'reject' | 'log'
  /**
   * Where the client IP comes from. `false` (default): the socket address. `true`: the left-most
   * `X-Forwarded-For` entry. A number n: the n-th entry from the right (n trusted proxies).
   */
  trustProxy?: boolean | number
}

/** Long-lived "remember me" tokens (selector + validator, rotated on every use). */
export interface RememberMeConfig {
  /** How long a token lives. Default `'30d'`. */
  lifetime?: Duration
  /** Cookie name. Default `remember_me`. */
  cookie?: string
  /**
   * A just-rotated token presented again within this window is refused without being treated as
   * theft (parallel requests of one browser all carry the old cookie). Default `'10s'`.
   */
  reuseGrace?: Duration
}

/** A token bucket: `points` attempts, refilled evenly over `duration`. */
export interface RateLimitRule {
  points: number
  duration: Duration
}

export interface RateLimitConfig {
  /** Limits the creation of new sessions, per client IP (and per user for `manager.createSession`). */
  create?: RateLimitRule
}

export interface SessionLimitConfig {
  max: number
  /** `evict-oldest` (default): the oldest sessions end. `refuse`: the new login fails with `SessionLimitError`. */
  onLimit?: 'evict-oldest' | 'refuse'
}

/** The security options of a manager's config. */
export interface SecurityConfig {
  /** At most this many live sessions per user; `1` is exclusive login. */
  maxSessionsPerUser?: number | SessionLimitConfig
  rateLimit?: RateLimitConfig
  binding?: BindingConfig
  rememberMe?: RememberMeConfig
  /**
   * Driver name that keeps security state (remember-me tokens, rate-limit buckets, revocation
   * records). Default: the default driver. Required when the default driver is the cookie driver.
   */
  securityStore?: string
}

export interface ResolvedBinding {
  ip: false | 'exact' | 'subnet'
  userAgent: boolean
  onMismatch: 'reject' | 'log'
  trustProxy: boolean | number
}

export interface ResolvedSecurity {
  sessionLimit: { max: number; onLimit: 'evict-oldest' | 'refuse' } | null
  createLimit: { points: number; durationMs: number } | null
  binding: ResolvedBinding | null
  rememberMe: { lifetimeMs: number; cookie: string; reuseGraceMs: number }
  securityStore: string | undefined
}

export const SECURITY_KEYS = ['maxSessionsPerUser', 'rateLimit', 'binding', 'rememberMe', 'securityStore'] as const

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new SessionConfigError(`${name} must be a whole number of 1 or more, got ${JSON.stringify(value)}.`)
  }
  return value
}

function durationMs(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  const ms = parseDuration(value)
  if (ms === null || (!allowZero && ms === 0)) {
    throw new SessionConfigError(`${name} must be a positive duration such as '30s', '15m' or '30d', got ${JSON.stringify(value)}.`)
  }
  return ms
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) {
    throw new SessionConfigError(`${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${JSON.stringify(value)}.`)
  }
  return value as T
}

function object(name: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SessionConfigError(`${name} must be an object.`)
  }
  return value as Record<string, unknown>
}

function resolveBinding(value: unknown): ResolvedBinding | null {
  const binding = object('binding', value)
  if (!binding) return null
  const ip = binding.ip ?? false
  if (ip !== true && ip !== false && ip !== 'subnet') {
    throw new SessionConfigError(`binding.ip must be true, false or 'subnet', got ${JSON.stringify(ip)}.`)
  }
  const userAgent = binding.userAgent ?? false
  if (typeof userAgent !== 'boolean') throw new SessionConfigError(`binding.userAgent must be true or false, got ${JSON.stringify(userAgent)}.`)
  const trustProxy = binding.trustProxy ?? false
  if (typeof trustProxy !== 'boolean' && !(typeof trustProxy === 'number' && Number.isInteger(trustProxy) && trustProxy >= 0)) {
    throw new SessionConfigError(`binding.trustProxy must be true, false or the number of trusted proxies, got ${JSON.stringify(trustProxy)}.`)
  }
  if (ip === false && !userAgent) {
    throw new SessionConfigError("binding binds to nothing: set binding.ip (true or 'subnet') and/or binding.userAgent: true.")
  }
  return {
    ip: ip === true ? 'exact' : ip,
    userAgent,
    onMismatch: oneOf('binding.onMismatch', binding.onMismatch, ['reject', 'log'], 'reject'),
    trustProxy,
  }
}

/** Validates the security options; throws {@link SessionConfigError} with what to change. */
export function resolveSecurity(config: SecurityConfig): ResolvedSecurity {
  let sessionLimit: ResolvedSecurity['sessionLimit'] = null
  const limit = config.maxSessionsPerUser
  if (typeof limit === 'number') {
    sessionLimit = { max: positiveInteger('maxSessionsPerUser', limit), onLimit: 'evict-oldest' }
  } else if (limit !== undefined) {
    const options = object('maxSessionsPerUser', limit) as Record<string, unknown>
    sessionLimit = {
      max: positiveInteger('maxSessionsPerUser.max', options.max),
      onLimit: oneOf('maxSessionsPerUser.onLimit', options.onLimit, ['evict-oldest', 'refuse'], 'evict-oldest'),
    }
  }

  let createLimit: ResolvedSecurity['createLimit'] = null
  const create = object('rateLimit.create', object('rateLimit', config.rateLimit)?.create)
  if (create) {
    createLimit = {
      points: positiveInteger('rateLimit.create.points', create.points),
      durationMs: durationMs('rateLimit.create.duration', create.duration ?? null, 0),
    }
  }

  const remember = object('rememberMe', config.rememberMe) ?? {}
  const cookie = remember.cookie ?? 'remember_me'
  if (typeof cookie !== 'string' || !COOKIE_NAME.test(cookie)) {
    throw new SessionConfigError(`rememberMe.cookie must be a cookie token (letters, digits and !#$%&'*+-.^_\`|~), got ${JSON.stringify(cookie)}.`)
  }

  if (config.securityStore !== undefined && (typeof config.securityStore !== 'string' || config.securityStore === '')) {
    throw new SessionConfigError(`securityStore must name a configured driver, got ${JSON.stringify(config.securityStore)}.`)
  }

  return {
    sessionLimit,
    createLimit,
    binding: resolveBinding(config.binding),
    rememberMe: {
      lifetimeMs: durationMs('rememberMe.lifetime', remember.lifetime, 30 * 86_400_000),
      cookie,
      reuseGraceMs: durationMs('rememberMe.reuseGrace', remember.reuseGrace, 10_000, true),
    },
    securityStore: config.securityStore,
  }
}
