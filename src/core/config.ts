import type { DriverConfig } from '../drivers/registry.js'
import type { SessionDriver } from '../drivers/contract.js'
import { Keyring, type KeyMaterial } from '../lib/crypto.js'
import { parseDuration, type Duration } from '../lib/durations.js'
import { SessionConfigError } from '../lib/errors.js'
import { SECURITY_KEYS, resolveSecurity, type ResolvedSecurity, type SecurityConfig } from './security-config.js'
import { typedJsonSerializer, type Serializer } from '../session/serializer.js'

/** The subset of the Standard Schema spec (standardschema.dev) Tessera uses: zod, valibot, arktype… */
export interface StandardSchemaV1<Output = unknown> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
  }
}
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string }> }

export type SameSite = 'strict' | 'lax' | 'none'

/** Options of the session id cookie. Secure by default: HttpOnly, SameSite=Lax, Path=/, Secure in production. */
export interface CookieConfig {
  /** Default `tessera_session`. A `__Host-` name requires Secure, Path=/ and no Domain. */
  name?: string
  path?: string
  domain?: string
  /** Default: true when NODE_ENV is `production` (and always for `__Host-`/`__Secure-` names). */
  secure?: boolean
  /** Default true. */
  httpOnly?: boolean
  /** Default `lax`. `none` requires Secure. */
  sameSite?: SameSite | 'Strict' | 'Lax' | 'None'
  /** A browser-session cookie (no Max-Age): it is dropped when the browser closes. Default false. */
  clearWithBrowser?: boolean
}

export interface EncryptionConfig {
  /** Encrypt every stored value with AES-256-GCM. Default true when this object is given. */
  enabled?: boolean
  /** One key (≥ 32 bytes). Prefer `keys` for rotation. */
  key?: KeyMaterial
  /** Keys, newest first: values are sealed with the newest and opened with any. */
  keys?: readonly KeyMaterial[]
  algorithm?: 'aes-256-gcm'
}

/** Configuration of a {@link SessionManager}. Every field is optional. */
export interface SessionConfig<Names extends string = string> extends SecurityConfig {
  /** Turns sessions on or off for the whole app (middleware passes requests through). Default true. */
  enabled?: boolean
  /** Name of the driver used when none is named. Default: the only/first configured driver. */
  default?: NoInfer<Names>
  /** Named drivers: `{ redis: { driver: 'redis', connection: {…} } }`, or driver instances. */
  drivers?: Record<Names, DriverConfig | SessionDriver>
  /** Shorthand for a single driver: `{ driver: 'file', path: '/tmp/sessions' }`. */
  driver?: string
  /** Session lifetime in minutes. Default 120. */
  lifetime?: number
  /** Session lifetime as a duration (`'2h'`) or milliseconds; used when `lifetime` is not given. */
  age?: Duration
  /** Cookie name, or cookie options. */
  cookie?: string | CookieConfig
  /** Cookie name (AdonisJS style); same as `cookie.name`. */
  cookieName?: string
  /** Same as `cookie.clearWithBrowser`. */
  clearWithBrowser?: boolean
  /** Keys for signing cookies (and sealing, unless `encryption` names its own), newest first. */
  keys?: readonly KeyMaterial[]
  /** Encrypt stored session values. */
  encryption?: EncryptionConfig
  /** How values are turned into text or bytes. Default: type-preserving JSON. */
  serializer?: Serializer
  /** Validates stored data on load; invalid data yields an empty session and an event. */
  schema?: StandardSchemaV1
  /** End sessions unused for this long (sliding). */
  idleTimeout?: Duration
  /** End sessions this long after creation, whatever the activity. */
  absoluteTimeout?: Duration
  /**
   * Share of the lifetime (0–1) that must pass before a read-only request refreshes expiry in
   * the store. Default 0.1: a 2 h session is touched at most every 12 minutes.
   */
  touchAfter?: number
  /** Run gc on a timer, e.g. `'1h'`. Default: off (drivers with native expiry need none). */
  gcInterval?: Duration | false
  /** Chance (0–1) that a session start triggers gc in the background. Default 0. */
  gcProbability?: number
  /** Longest a store call may take before it fails with `SessionStoreError`. Default `'5s'`. */
  storeTimeout?: Duration
  /** What a request does when the store fails: answer 503 (`fail`, default) or go on with an empty, unsaved session. */
  onStoreError?: 'fail' | 'anonymous'
  /** Any further option goes to the shorthand driver (`path`, `connection`, …). */
  [driverOption: string]: unknown
}

export interface ResolvedCookie {
  name: string
  path: string
  domain: string | undefined
  secure: boolean
  httpOnly: boolean
  sameSite: SameSite
  clearWithBrowser: boolean
}

export interface ResolvedDriver {
  config: DriverConfig
  lifetimeMs: number
  /** Set when the config named a driver instance rather than a driver config. */
  instance?: SessionDriver
}

export interface ResolvedConfig {
  enabled: boolean
  defaultDriver: string
  drivers: ReadonlyMap<string, ResolvedDriver>
  lifetimeMs: number
  cookie: ResolvedCookie
  keyring: Keyring
  /** False when no keys were configured and an ephemeral key is in use. */
  keysConfigured: boolean
  sealing: Keyring | null
  serializer: Serializer
  schema: StandardSchemaV1 | undefined
  idleTimeoutMs: number | null
  absoluteTimeoutMs: number | null
  touchAfter: number
  gcIntervalMs: number | null
  gcProbability: number
  storeTimeoutMs: number
  onStoreError: 'fail' | 'anonymous'
  /** CSRF-independent security policies: session limit, rate limit, binding, remember-me. */
  security: ResolvedSecurity
}

const MANAGER_KEYS = new Set([
  'enabled', 'default', 'drivers', 'driver', 'lifetime', 'age', 'cookie', 'cookieName', 'clearWithBrowser',
  'keys', 'encryption', 'serializer', 'schema', 'idleTimeout', 'absoluteTimeout', 'touchAfter', 'gcInterval',
  'gcProbability', 'storeTimeout', 'onStoreError', 'sessionClass', 'metrics', ...SECURITY_KEYS,
])
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const UNSAFE_ATTRIBUTE = /[;\r\n\0]/
const DEFAULT_LIFETIME_MINUTES = 120
/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis). */
export const MAX_COOKIE_AGE_MS = 400 * 86_400_000

function duration(name: string, value: unknown, { allowZero = false } = {}): number | null {
  if (value === undefined || value === null || value === false) return null
  const ms = parseDuration(value)
  if (ms === null || (!allowZero && ms === 0)) {
    throw new SessionConfigError(
      `${name} must be a positive duration such as '30m', '2h' or a number of milliseconds, got ${JSON.stringify(value)}.`,
    )
  }
  return ms
}

function lifetimeOf(owner: string, source: { lifetime?: unknown; age?: unknown }, fallback: number): number {
  if (source.lifetime !== undefined) {
    const minutes = source.lifetime
    if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0) {
      throw new SessionConfigError(`${owner}lifetime must be a positive number of minutes, got ${JSON.stringify(minutes)}.`)
    }
    return minutes * 60_000
  }
  if (source.age !== undefined) return duration(`${owner}age`, source.age) ?? fallback
  return fallback
}

function share(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new SessionConfigError(`${name} must be a number between 0 and 1, got ${JSON.stringify(value)}.`)
  }
  return value
}

/** Validates cookie options; every rule is enforced here once, when the manager is built. */
export function resolveCookie(config: SessionConfig): ResolvedCookie {
  const options: CookieConfig = typeof config.cookie === 'string' ? { name: config.cookie } : { ...(config.cookie ?? {}) }
  const name = options.name ?? config.cookieName ?? 'tessera_session'
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw new SessionConfigError(`cookie.name must be a cookie token (letters, digits and !#$%&'*+-.^_\`|~), got ${JSON.stringify(name)}.`)
  }
  const prefixed = name.startsWith('__Host-') || name.startsWith('__Secure-')
  const secure = options.secure ?? (prefixed || process.env.NODE_ENV === 'production')
  const path = options.path ?? '/'
  const domain = options.domain
  for (const [field, value] of [['path', path], ['domain', domain]] as const) {
    if (value !== undefined && (typeof value !== 'string' || UNSAFE_ATTRIBUTE.test(value) || value === '')) {
      throw new SessionConfigError(`cookie.${field} must be a non-empty string without ";", CR, LF or NUL, got ${JSON.stringify(value)}.`)
    }
  }
  if (!path.startsWith('/')) throw new SessionConfigError(`cookie.path must start with "/", got ${JSON.stringify(path)}.`)
  const sameSite = (options.sameSite ?? 'lax').toLowerCase()
  if (sameSite !== 'strict' && sameSite !== 'lax' && sameSite !== 'none') {
    throw new SessionConfigError(`cookie.sameSite must be 'strict', 'lax' or 'none', got ${JSON.stringify(options.sameSite)}.`)
  }
  if (sameSite === 'none' && !secure) {
    throw new SessionConfigError("cookie.sameSite 'none' requires cookie.secure: true (browsers reject such cookies otherwise).")
  }
  if (name.startsWith('__Host-') && (!secure || path !== '/' || domain !== undefined)) {
    throw new SessionConfigError('A "__Host-" cookie name requires secure: true, path: "/" and no domain.')
  }
  if (name.startsWith('__Secure-') && !secure) {
    throw new SessionConfigError('A "__Secure-" cookie name requires secure: true.')
  }
  return {
    name,
    path,
    domain,
    secure,
    httpOnly: options.httpOnly ?? true,
    sameSite,
    clearWithBrowser: options.clearWithBrowser ?? config.clearWithBrowser ?? false,
  }
}

/** True for an object that implements the required driver methods. */
export function isDriverInstance(value: unknown): value is SessionDriver {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return typeof candidate.read === 'function' && typeof candidate.write === 'function' && typeof candidate.destroy === 'function'
}

function resolveDrivers(config: SessionConfig, lifetimeMs: number): Map<string, ResolvedDriver> {
  const drivers = new Map<string, ResolvedDriver>()
  const add = (name: string, entry: DriverConfig | SessionDriver): void => {
    if (isDriverInstance(entry)) {
      drivers.set(name, { config: { driver: entry.name ?? name }, lifetimeMs, instance: entry })
      return
    }
    if (typeof entry !== 'object' || entry === null || typeof entry.driver !== 'string' || entry.driver === '') {
      throw new SessionConfigError(`drivers.${name} must be an object with a "driver" name, e.g. { driver: 'memory' }.`)
    }
    drivers.set(name, { config: entry, lifetimeMs: lifetimeOf(`drivers.${name}.`, entry, lifetimeMs) })
  }
  if (config.drivers !== undefined) {
    if (typeof config.drivers !== 'object' || config.drivers === null) {
      throw new SessionConfigError('drivers must be an object of named driver configs.')
    }
    for (const [name, entry] of Object.entries(config.drivers)) add(name, entry as DriverConfig | SessionDriver)
  }
  if (typeof config.driver === 'string') {
    const options = Object.fromEntries(Object.entries(config).filter(([key]) => !MANAGER_KEYS.has(key)))
    add(config.driver, { ...options, driver: config.driver })
  } else if (config.driver !== undefined) {
    throw new SessionConfigError(`driver must be a driver name such as 'memory', 'file' or 'redis', got ${typeof config.driver}.`)
  }
  if (drivers.size === 0) add('memory', { driver: 'memory' })
  return drivers
}

function resolveKeys(config: SessionConfig): { keyring: Keyring; keysConfigured: boolean; sealing: Keyring | null } {
  const keys = config.keys?.filter((key) => key !== undefined)
  if (config.keys !== undefined && !Array.isArray(config.keys)) {
    throw new SessionConfigError('keys must be an array of secrets, newest first, e.g. keys: [process.env.SESSION_KEY].')
  }
  if (config.keys !== undefined && keys?.length === 0) {
    throw new SessionConfigError('keys is empty (is the environment variable that should hold the key set?). Give at least one secret of 32 bytes or more.')
  }
  const keyring = keys && keys.length > 0 ? new Keyring(keys, 'keys') : Keyring.ephemeral()
  let sealing: Keyring | null = null
  const encryption = config.encryption
  if (encryption !== undefined && encryption.enabled !== false) {
    if (encryption.algorithm !== undefined && encryption.algorithm !== 'aes-256-gcm') {
      throw new SessionConfigError(`encryption.algorithm must be 'aes-256-gcm', got ${JSON.stringify(encryption.algorithm)}.`)
    }
    if (encryption.keys) sealing = new Keyring(encryption.keys, 'encryption.keys')
    else if (encryption.key !== undefined) sealing = new Keyring([encryption.key], 'encryption.key')
    else if (keys && keys.length > 0) sealing = keyring
    else {
      throw new SessionConfigError('encryption is enabled but no key is configured: set encryption.key (32+ bytes) or keys.')
    }
  }
  return { keyring, keysConfigured: keyring !== undefined && (keys?.length ?? 0) > 0, sealing }
}

/** Validates a config and fills in defaults. Throws {@link SessionConfigError} with what to change. */
export function resolveConfig(config: SessionConfig = {}, instance?: SessionDriver): ResolvedConfig {
  if (typeof config !== 'object' || config === null) throw new SessionConfigError('The session config must be an object.')
  const lifetimeMs = lifetimeOf('', config, DEFAULT_LIFETIME_MINUTES * 60_000)
  const drivers = resolveDrivers(config, lifetimeMs)
  if (instance) drivers.set('default', { config: { driver: instance.name ?? 'custom' }, lifetimeMs, instance })
  const defaultDriver = instance ? 'default' : (config.default ?? (typeof config.driver === 'string' ? config.driver : [...drivers.keys()][0])) as string
  if (!drivers.has(defaultDriver)) {
    throw new SessionConfigError(
      `default names the driver "${defaultDriver}", which is not configured. Configured drivers: ${[...drivers.keys()].join(', ')}.`,
    )
  }
  const serializer = config.serializer ?? typedJsonSerializer
  if (typeof serializer?.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw new SessionConfigError('serializer must have serialize(value) and deserialize(raw) functions.')
  }
  if (config.schema !== undefined && typeof config.schema?.['~standard']?.validate !== 'function') {
    throw new SessionConfigError('schema must be a Standard Schema validator (zod, valibot, arktype, …).')
  }
  const cookie = resolveCookie(config)
  const longest = Math.max(...[...drivers.values()].map((entry) => entry.lifetimeMs))
  if (!cookie.clearWithBrowser && longest > MAX_COOKIE_AGE_MS) {
    throw new SessionConfigError(
      `The session lifetime (${Math.round(longest / 86_400_000)} days) is longer than browsers keep cookies (400 days): shorten lifetime/age, or set cookie.clearWithBrowser.`,
    )
  }
  if (config.onStoreError !== undefined && config.onStoreError !== 'fail' && config.onStoreError !== 'anonymous') {
    throw new SessionConfigError(`onStoreError must be 'fail' or 'anonymous', got ${JSON.stringify(config.onStoreError)}.`)
  }
  const security = resolveSecurity(config)
  if (security.securityStore !== undefined && !drivers.has(security.securityStore)) {
    throw new SessionConfigError(
      `securityStore names the driver "${security.securityStore}", which is not configured. Configured drivers: ${[...drivers.keys()].join(', ')}.`,
    )
  }
  return {
    enabled: config.enabled ?? true,
    defaultDriver,
    drivers,
    lifetimeMs,
    cookie,
    ...resolveKeys(config),
    serializer,
    schema: config.schema,
    idleTimeoutMs: duration('idleTimeout', config.idleTimeout),
    absoluteTimeoutMs: duration('absoluteTimeout', config.absoluteTimeout),
    touchAfter: share('touchAfter', config.touchAfter, 0.1),
    gcIntervalMs: duration('gcInterval', config.gcInterval),
    gcProbability: share('gcProbability', config.gcProbability, 0),
    storeTimeoutMs: duration('storeTimeout', config.storeTimeout) ?? 5_000,
    onStoreError: config.onStoreError ?? 'fail',
    security,
  }
}

/**
 * Declares a session config with full typing (driver names flow into `default`) and validates it
 * right away, so a mistake fails at startup with a message that says what to change.
 */
export function defineConfig<const Names extends string>(config: SessionConfig<Names>): SessionConfig<Names> {
  resolveConfig(config as SessionConfig)
  return config
}
