import type { SessionDriver } from '../drivers/contract.js'
import { BUILTIN_OPTION_NAMES, type BuiltinDriverName } from '../drivers/option-names.js'
import type { CookieDriverOptions } from '../drivers/cookie.js'
import type { FileDriverOptions } from '../drivers/file.js'
import type { MemoryDriverOptions } from '../drivers/memory.js'
import type { PostgresDriverOptions } from '../drivers/postgres.js'
import type { RedisDriverOptions } from '../drivers/redis.js'
import { isBuiltinDriver, type DriverConfig } from '../drivers/registry.js'
import type { SqliteDriverOptions } from '../drivers/sqlite.js'
import { SessionConfigError } from '../lib/errors.js'
import { rejectUnknownOptions } from '../lib/options.js'
import { translateAliases, type RedisAliasOptions } from './aliases.js'
import { lifetimeMs, optionKeys, plainObject } from './checks.js'

/** The options of each built-in driver, by the name that selects it. */
export interface BuiltinDriverOptions extends Record<BuiltinDriverName, object> {
  memory: MemoryDriverOptions
  file: FileDriverOptions
  cookie: CookieDriverOptions
  redis: RedisDriverOptions & RedisAliasOptions
  sqlite: SqliteDriverOptions
  postgres: PostgresDriverOptions
}

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

const ENTRY_OPTIONS = ['driver', ...optionKeys<DriverEntryOptions>({ lifetime: true })]

/** The options of a built-in driver; undefined for a driver registered with `extend()`. */
export function builtinDriverOptions(driver: string): readonly string[] | undefined {
  return isBuiltinDriver(driver) ? BUILTIN_OPTION_NAMES[driver as BuiltinDriverName] : undefined
}

export interface ResolvedDriver {
  config: DriverConfig
  lifetimeMs: number
  /** Set when the config named a driver instance rather than a driver config. */
  instance?: SessionDriver
}

/** `key` inside the object named `where` (the top level when `where` is empty). */
const at = (where: string, key: string): string => (where === '' ? key : `${where}.${key}`)

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
  if (config.driver === 'redis') config = translateAliases(config, 'redis', where)
  const own = builtinDriverOptions(config.driver as string)
  if (own !== undefined) rejectUnknownOptions(config, [...ENTRY_OPTIONS, ...own], where || 'session config')
  const lifetime = config.lifetime === undefined ? managerLifetimeMs : lifetimeMs(at(where, 'lifetime'), config.lifetime)
  return { config: config as DriverConfig, lifetimeMs: lifetime }
}
