import type { Duration } from '../lib/durations.js'
import { SessionConfigError } from '../lib/errors.js'
import { rejectUnknownOptions } from '../lib/options.js'
import { boolean, cookieName, durationMs, nonEmptyString, oneOf, optionKeys, plainObject, positiveInteger } from './checks.js'

/** Binds a session to facts about the client that created it (docs/seeds.md). */
export interface BindingConfig {
  /** Bind to the client IP: `true` (exact) or `'subnet'` (same /24 for IPv4, /64 for IPv6). */
  ip?: boolean | 'subnet'
  /** Bind to the User-Agent header. */
  userAgent?: boolean
  /** `reject` (default): destroy the session and start a fresh one. `log`: emit an event only. */
  onMismatch?: 'reject' | 'log'
  /**
   * Where the client IP comes from, as Express's `trust proxy` hop count. `false` (default): the
   * socket address. A number n (n trusted proxies in front of the app): the n-th `X-Forwarded-For`
   * entry from the right. `true`: one trusted proxy (same as 1), the right-most entry — never the
   * left-most, which the client writes.
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

type ResolvedSessionLimit = ResolvedSecurity['sessionLimit']
type ResolvedCreateLimit = ResolvedSecurity['createLimit']
type ResolvedRememberMe = ResolvedSecurity['rememberMe']

/** Every key each nested object may hold, so a misspelled one is an error that names the closest. */
const SESSION_LIMIT_KEYS = optionKeys<SessionLimitConfig>({ max: true, onLimit: true })
const RATE_LIMIT_KEYS = optionKeys<RateLimitConfig>({ create: true })
const RATE_LIMIT_RULE_KEYS = optionKeys<RateLimitRule>({ points: true, duration: true })
const BINDING_KEYS = optionKeys<BindingConfig>({ ip: true, userAgent: true, onMismatch: true, trustProxy: true })
const REMEMBER_ME_KEYS = optionKeys<RememberMeConfig>({ lifetime: true, cookie: true, reuseGrace: true })

/** An options object whose keys are all known; `name` is how the message names it. */
function closedObject(name: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  const options = plainObject(name, value)
  rejectUnknownOptions(options, known, name)
  return options
}

/** `maxSessionsPerUser`: a number, or `{ max, onLimit }`. */
export function sessionLimitOption(name: string, value: unknown): ResolvedSessionLimit {
  if (typeof value === 'number') return { max: positiveInteger(name, value), onLimit: 'evict-oldest' }
  const options = closedObject(name, value, SESSION_LIMIT_KEYS)
  return {
    max: positiveInteger(`${name}.max`, options.max),
    onLimit: options.onLimit === undefined ? 'evict-oldest' : oneOf(`${name}.onLimit`, options.onLimit, ['evict-oldest', 'refuse']),
  }
}

/** `rateLimit`: `{ create: { points, duration } }`. */
export function rateLimitOption(name: string, value: unknown): ResolvedCreateLimit {
  const options = closedObject(name, value, RATE_LIMIT_KEYS)
  if (options.create === undefined) return null
  const create = closedObject(`${name}.create`, options.create, RATE_LIMIT_RULE_KEYS)
  return {
    points: positiveInteger(`${name}.create.points`, create.points),
    durationMs: durationMs(`${name}.create.duration`, create.duration),
  }
}

/** `binding`: what a session is bound to, checked on every request. */
export function bindingOption(name: string, value: unknown): ResolvedBinding {
  const binding = closedObject(name, value, BINDING_KEYS)
  const ip = binding.ip ?? false
  if (ip !== true && ip !== false && ip !== 'subnet') {
    throw new SessionConfigError(`${name}.ip must be true, false or 'subnet', got ${JSON.stringify(ip)}.`)
  }
  const userAgent = boolean(`${name}.userAgent`, binding.userAgent ?? false)
  const trustProxy = binding.trustProxy ?? false
  if (typeof trustProxy !== 'boolean' && !(typeof trustProxy === 'number' && Number.isInteger(trustProxy) && trustProxy >= 0)) {
    throw new SessionConfigError(
      `${name}.trustProxy must be true, false or the number of trusted proxies, got ${JSON.stringify(trustProxy)}.`,
    )
  }
  if (ip === false && !userAgent) {
    throw new SessionConfigError(`${name} binds to nothing: set ${name}.ip (true or 'subnet') and/or ${name}.userAgent: true.`)
  }
  return {
    ip: ip === true ? 'exact' : ip,
    userAgent,
    onMismatch: binding.onMismatch === undefined ? 'reject' : oneOf(`${name}.onMismatch`, binding.onMismatch, ['reject', 'log']),
    trustProxy,
  }
}

/** `rememberMe`: token lifetime, cookie name and the reuse grace after a rotation. */
export function rememberMeOption(name: string, value: unknown): ResolvedRememberMe {
  const options = closedObject(name, value, REMEMBER_ME_KEYS)
  return {
    lifetimeMs: options.lifetime === undefined ? 30 * 86_400_000 : durationMs(`${name}.lifetime`, options.lifetime),
    cookie: cookieName(`${name}.cookie`, options.cookie ?? 'remember_me'),
    reuseGraceMs: options.reuseGrace === undefined ? 10_000 : durationMs(`${name}.reuseGrace`, options.reuseGrace, { allowZero: true }),
  }
}

/** `securityStore`: the name of a configured driver (checked against the drivers by the resolver). */
export function securityStoreOption(name: string, value: unknown): string {
  return nonEmptyString(name, value)
}
