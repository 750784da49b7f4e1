import { isSessionDriver, type SessionDriver } from '../drivers/contract.js'
import { Keyring, type KeyMaterial } from '../lib/crypto.js'
import { SessionConfigError } from '../lib/errors.js'
import { rejectUnknownOptions } from '../lib/options.js'
import type { Serializer } from '../lib/serializer.js'
import { translateAliases, type ManagerAliasOptions } from './aliases.js'
import { MAX_COOKIE_AGE_MS, type ResolvedCookie } from './cookie.js'
import { builtinDriverOptions, resolveDriverEntry, type DriverShorthand, type ResolvedDriver } from './drivers.js'
import { MANAGER_KEYS, readOption, type EncryptionConfig, type ManagerOptions, type StandardSchemaV1 } from './options.js'
import type { ResolvedSecurity } from './security.js'

export type { ResolvedDriver } from './drivers.js'
export { MAX_COOKIE_AGE_MS, type CookieConfig, type ResolvedCookie, type SameSite } from './cookie.js'
export type { EncryptionConfig, StandardSchemaResult, StandardSchemaV1 } from './options.js'

/**
 * Configuration of a {@link SessionManager}. Every field is optional. Closed: an option that is
 * neither a manager option, nor an alias (docs/seeds.md), nor an option of the shorthand's
 * built-in driver is a type error and, at construction, a `SessionConfigError` naming the
 * closest known option.
 */
export type SessionConfig<Names extends string = string> = ManagerOptions<Names> & ManagerAliasOptions & DriverShorthand

/** A validated config with its defaults filled in. Every time is in milliseconds. */
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

/**
 * The config with aliases translated, split into manager options and the shorthand's driver
 * options. An unknown key is an error, unless the shorthand names a driver registered with
 * `extend()`: its factory checks the options it receives.
 */
function splitShorthand(config: Readonly<Record<string, unknown>>): {
  options: Record<string, unknown>
  shorthand: Record<string, unknown> | undefined
} {
  const driver = readOption(config, 'driver')
  let options = translateAliases(config, 'manager')
  if (driver === 'redis') options = translateAliases(options, 'redis')
  const own = driver === undefined ? [] : builtinDriverOptions(driver)
  if (own !== undefined) rejectUnknownOptions(options, [...MANAGER_KEYS, ...own], 'session config')
  if (driver === undefined) return { options, shorthand: undefined }
  const shorthand: Record<string, unknown> = { driver }
  for (const key of Object.keys(options)) {
    if (MANAGER_KEYS.includes(key)) continue
    shorthand[key] = options[key]
    delete options[key]
  }
  return { options, shorthand }
}

function resolveDrivers(
  options: Record<string, unknown>,
  shorthand: Record<string, unknown> | undefined,
  lifetimeMs: number,
): Map<string, ResolvedDriver> {
  const drivers = new Map<string, ResolvedDriver>()
  for (const [name, entry] of Object.entries(readOption(options, 'drivers') ?? {})) {
    drivers.set(
      name,
      isSessionDriver(entry)
        ? { config: { driver: entry.name ?? name }, lifetimeMs, instance: entry }
        : resolveDriverEntry(`drivers.${name}`, entry, lifetimeMs),
    )
  }
  if (shorthand !== undefined) drivers.set(shorthand.driver as string, resolveDriverEntry('', shorthand, lifetimeMs))
  if (drivers.size === 0) drivers.set('memory', { config: { driver: 'memory' }, lifetimeMs })
  return drivers
}

function resolveKeys(options: Record<string, unknown>): { keyring: Keyring; keysConfigured: boolean; sealing: Keyring | null } {
  const keys = readOption(options, 'keys')
  const keyring = keys ? new Keyring(keys, 'keys') : Keyring.ephemeral()
  const encryption: EncryptionConfig | null = readOption(options, 'encryption') ?? null
  let sealing: Keyring | null = null
  if (encryption?.keys) sealing = new Keyring(encryption.keys, 'encryption.keys')
  else if (encryption?.key !== undefined) sealing = new Keyring([encryption.key as KeyMaterial], 'encryption.key')
  else if (encryption && keys) sealing = keyring
  else if (encryption) {
    throw new SessionConfigError('encryption is enabled but no key is configured: set encryption.key (32+ bytes) or keys.')
  }
  return { keyring, keysConfigured: keys !== undefined, sealing }
}

function configuredDriver(option: string, name: string, drivers: ReadonlyMap<string, ResolvedDriver>): void {
  if (!drivers.has(name)) {
    throw new SessionConfigError(
      `${option} names the driver "${name}", which is not configured. Configured drivers: ${[...drivers.keys()].join(', ')}.`,
    )
  }
}

/** Validates a config and fills in defaults. Throws {@link SessionConfigError} with what to change. */
export function resolveConfig(config: SessionConfig = {}, instance?: SessionDriver): ResolvedConfig {
  if (typeof config !== 'object' || config === null) throw new SessionConfigError('The session config must be an object.')
  const { options, shorthand } = splitShorthand(config as Readonly<Record<string, unknown>>)
  const lifetimeMs = readOption(options, 'lifetime')
  const drivers = resolveDrivers(options, shorthand, lifetimeMs)
  if (instance) drivers.set('default', { config: { driver: instance.name ?? 'custom' }, lifetimeMs, instance })
  const defaultDriver = instance
    ? 'default'
    : (readOption(options, 'default') ?? (shorthand?.driver as string | undefined) ?? [...drivers.keys()][0]!)
  configuredDriver('default', defaultDriver, drivers)
  const cookie = readOption(options, 'cookie')
  const longest = Math.max(...[...drivers.values()].map((entry) => entry.lifetimeMs))
  if (!cookie.clearWithBrowser && longest > MAX_COOKIE_AGE_MS) {
    throw new SessionConfigError(
      `The session lifetime (${Math.round(longest / 86_400_000)} days) is longer than browsers keep cookies (400 days): shorten lifetime, or set cookie.clearWithBrowser.`,
    )
  }
  const security: ResolvedSecurity = {
    sessionLimit: readOption(options, 'maxSessionsPerUser') ?? null,
    createLimit: readOption(options, 'rateLimit') ?? null,
    binding: readOption(options, 'binding') ?? null,
    rememberMe: readOption(options, 'rememberMe'),
    securityStore: readOption(options, 'securityStore'),
  }
  if (security.securityStore !== undefined) configuredDriver('securityStore', security.securityStore, drivers)
  // Checked here with every other option; the manager reads them.
  readOption(options, 'sessionClass')
  readOption(options, 'metrics')
  return {
    enabled: readOption(options, 'enabled'),
    defaultDriver,
    drivers,
    lifetimeMs,
    cookie,
    ...resolveKeys(options),
    serializer: readOption(options, 'serializer'),
    schema: readOption(options, 'schema'),
    idleTimeoutMs: readOption(options, 'idleTimeout') ?? null,
    absoluteTimeoutMs: readOption(options, 'absoluteTimeout') ?? null,
    touchAfter: readOption(options, 'touchAfter'),
    gcIntervalMs: readOption(options, 'gcInterval') ?? null,
    gcProbability: readOption(options, 'gcProbability'),
    storeTimeoutMs: readOption(options, 'storeTimeout'),
    onStoreError: readOption(options, 'onStoreError'),
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
