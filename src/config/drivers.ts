import type { SessionDriver } from '../drivers/contract.js'
import type { CookieDriverOptions } from '../drivers/cookie.js'
import type { FileDriverOptions } from '../drivers/file.js'
import type { MemoryDriverOptions } from '../drivers/memory.js'
import type { PostgresDriverOptions } from '../drivers/postgres.js'
import type { RedisDriverOptions } from '../drivers/redis.js'
import { isBuiltinDriver, type DriverConfig } from '../drivers/registry.js'
import type { SqliteDriverOptions } from '../drivers/sqlite.js'
import { SessionConfigError } from '../lib/errors.js'
import { rejectUnknownOptions } from '../lib/options.js'
import { translateAliases } from './aliases.js'
import { lifetimeMs, optionKeys, plainObject } from './checks.js'

/** The options of each built-in driver, by the name that selects it. */
export interface BuiltinDriverOptions {
  memory: MemoryDriverOptions
  file: FileDriverOptions
  cookie: CookieDriverOptions
  redis: RedisDriverOptions
  sqlite: SqliteDriverOptions
  postgres: PostgresDriverOptions
}

export type BuiltinDriverName = keyof BuiltinDriverOptions

/** Options every driver entry may carry besides its driver's own. */
export interface DriverEntryOptions {
  /** This driver's session lifetime, overriding the manager's: minutes, or a duration such as `'2h'`. */
  lifetime?: number | string
}

/**
 * The single-driver shorthand of a manager's config: `{ driver: 'file', path: '/tmp/sessions' }`.
 * A built-in driver takes its own options, typed and checked; a driver registered with
 * `extend()` is named as `{ driver: 'database' }` and its factory checks whatever options reach
 * it (pass them typed through `drivers: { db: { driver: 'database', … } }`).
 */
export type DriverShorthand =
  | { driver?: undefined }
  | { [Name in BuiltinDriverName]: { driver: Name } & BuiltinDriverOptions[Name] }[BuiltinDriverName]
  | { driver: string & {} }

/**
 * Every option of each built-in driver. The compiler holds each list to its driver's options
 * type, so a renamed or added driver option fails the build until it is listed here.
 */
const DRIVER_OPTIONS: Readonly<Record<BuiltinDriverName, readonly string[]>> = {
  memory: optionKeys<MemoryDriverOptions>({ maxSessions: true }),
  file: optionKeys<FileDriverOptions>({ path: true, lockTimeout: true }),
  cookie: optionKeys<CookieDriverOptions>({ keyring: true, name: true, cookieName: true, maxChunks: true, chunkSize: true }),
  redis: optionKeys<RedisDriverOptions>({
    client: true,
    url: true,
    connection: true,
    redisConnection: true,
    connections: true,
    cluster: true,
    prefix: true,
    closeClient: true,
    lockWait: true,
    maxConflictRetries: true,
    ioredis: true,
    onError: true,
  }),
  sqlite: optionKeys<SqliteDriverOptions>({ path: true, database: true, table: true, busyTimeout: true, onCorrupt: true }),
  postgres: optionKeys<PostgresDriverOptions>({ connection: true, table: true, createTable: true, onCorrupt: true }),
}
const ENTRY_OPTIONS = ['driver', ...optionKeys<DriverEntryOptions>({ lifetime: true })]

/** The options of a built-in driver; undefined for a driver registered with `extend()`. */
export function builtinDriverOptions(driver: string): readonly string[] | undefined {
  return isBuiltinDriver(driver) ? DRIVER_OPTIONS[driver as BuiltinDriverName] : undefined
}

export interface ResolvedDriver {
  config: DriverConfig
  lifetimeMs: number
  /** Set when the config named a driver instance rather than a driver config. */
  instance?: SessionDriver
}

/** `key` inside the object named `where` (the top level when `where` is empty). */
const at = (where: string, key: string): string => (where === '' ? key : `${where}.${key}`)

/** True for an object that implements the required driver methods. */
export function isDriverInstance(value: unknown): value is SessionDriver {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return typeof candidate.read === 'function' && typeof candidate.write === 'function' && typeof candidate.destroy === 'function'
}

/**
 * One driver config entry: `drivers.<name>`, or the shorthand's driver options. Aliases become canonical
 * options, and a built-in driver's entry may hold only that driver's options and `lifetime`.
 * @param where how the entry is named in messages, e.g. `drivers.cache`; empty for the shorthand
 */
export function resolveDriverEntry(where: string, entry: unknown, managerLifetimeMs: number): ResolvedDriver {
  const given = plainObject(where || 'driver options', entry)
  if (typeof given.driver !== 'string' || given.driver === '') {
    throw new SessionConfigError(`${where} must be an object with a "driver" name, e.g. { driver: 'memory' }.`)
  }
  let config = translateAliases(given, 'driver', where)
  if (config.driver === 'redis') config = namedRedisConnection(translateAliases(config, 'redis', where), where)
  const own = builtinDriverOptions(config.driver as string)
  if (own !== undefined) rejectUnknownOptions(config, [...ENTRY_OPTIONS, ...own], where || 'session config')
  const lifetime = config.lifetime === undefined ? managerLifetimeMs : lifetimeMs(at(where, 'lifetime'), config.lifetime)
  return { config: config as DriverConfig, lifetimeMs: lifetime }
}

/**
 * `connection` may name an entry of `connections` (AdonisJS style); the entry replaces the name,
 * so the driver only ever sees connection settings, a URL or a socket path.
 */
function namedRedisConnection(config: Record<string, unknown>, where: string): Record<string, unknown> {
  const { connection, connections } = config
  if (typeof connection !== 'string' || connection.includes('://') || connection.startsWith('/')) return config
  const named = connections === undefined ? {} : plainObject(at(where, 'connections'), connections)
  if (!Object.hasOwn(named, connection)) {
    const known = Object.keys(named)
    throw new SessionConfigError(
      `${at(where, 'connection')} names "${connection}", but ${known.length > 0 ? `"connections" only defines: ${known.join(', ')}` : 'no "connections" map is configured'}. Add it under connections, e.g. connections: { ${connection}: { host, port } }, or give a redis:// URL.`,
    )
  }
  return { ...config, connection: named[connection] }
}
