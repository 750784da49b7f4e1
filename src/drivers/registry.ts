import { importClient, type ClientRequirement } from './client.js'
import type { DriverContext, SessionDriver } from './contract.js'

/**
 * Settings of one named driver in a manager's config: `driver` picks the implementation and the
 * lifetime fields are the manager's; every other field is an option of that driver.
 */
export interface DriverConfig {
  driver: string
  /** Session lifetime, overrides the manager's: minutes (a number) or a duration such as `'2h'`. */
  lifetime?: number | string
  /** Session lifetime as a duration (`'2h'`) or milliseconds, overrides the manager's (alias, docs/seeds.md). */
  age?: number | string
  [option: string]: unknown
}

/**
 * Builds a driver from its config entry, as written, and what the manager knows besides
 * (`context`). May be async, e.g. to import an optional client.
 */
export type DriverFactory = (config: DriverConfig, context: DriverContext) => SessionDriver | Promise<SessionDriver>

/** The config entry fields that belong to the manager, not to the driver. */
const ENTRY_FIELDS = new Set(['driver', 'lifetime', 'age'])

/** What the registry calls of a built-in driver module: its factory, the `export default`. */
interface DriverModule {
  default: (options: never, context?: DriverContext) => SessionDriver | Promise<SessionDriver>
}

/**
 * Built-in drivers by name, every one imported on first use: an app that never names a driver
 * never loads it (or its client). A built-in factory gets only its own options, so it can reject
 * any key it does not know.
 */
export const BUILTIN_DRIVERS: Readonly<Record<string, () => Promise<DriverFactory>>> = {
  memory: () => load(import('./memory.js'), (module) => module.MEMORY_CLIENT),
  file: () => load(import('./file.js'), (module) => module.FILE_CLIENT),
  cookie: () => load(import('./cookie.js'), (module) => module.COOKIE_CLIENT),
  redis: () => load(import('./redis.js'), (module) => module.REDIS_CLIENT),
  sqlite: () => load(import('./sqlite.js'), (module) => module.SQLITE_CLIENT),
  postgres: () => load(import('./postgres.js'), (module) => module.POSTGRES_CLIENT),
}

async function load<M extends DriverModule>(
  loading: Promise<M>,
  clientOf: (module: M) => ClientRequirement | null,
): Promise<DriverFactory> {
  const module = await loading
  const client = clientOf(module)
  return async (config, context) => {
    // The client is imported while the driver is built, so its load time is not spent inside the
    // first request's store timeout. A failure is left to the driver, which reports a missing
    // package on first use, and needs no package at all when the app hands it a client.
    if (client) await importClient(client).catch(() => undefined)
    return module.default(driverOptions(config) as never, context)
  }
}

/** The driver's own options of a config entry: the entry without its manager fields. */
export function driverOptions(config: DriverConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([field]) => !ENTRY_FIELDS.has(field)))
}

export function isBuiltinDriver(name: string): boolean {
  return Object.hasOwn(BUILTIN_DRIVERS, name)
}
