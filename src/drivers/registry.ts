import type { DriverContext, SessionDriver } from './contract.js'

/**
 * Settings of one named driver in a manager's config: `driver` picks the implementation and the
 * lifetime fields are the manager's; every other field is an option of that driver.
 */
export interface DriverConfig {
  driver: string
  /** Session lifetime in minutes, overrides the manager's. */
  lifetime?: number
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

/** What a built-in driver module exports for the registry: its factory, as `export default`. */
interface DriverModule {
  default: (options: never, context?: DriverContext) => SessionDriver | Promise<SessionDriver>
}

/**
 * Built-in drivers by name, every one imported on first use: an app that never names a driver
 * never loads it (or its client). A built-in factory gets only its own options, so it can reject
 * any key it does not know.
 */
export const BUILTIN_DRIVERS: Readonly<Record<string, () => Promise<DriverFactory>>> = {
  memory: () => load(import('./memory.js')),
  file: () => load(import('./file.js')),
  cookie: () => load(import('./cookie.js')),
  redis: () => load(import('./redis.js')),
  sqlite: () => load(import('./sqlite.js')),
  postgres: () => load(import('./postgres.js')),
}

async function load(module: Promise<DriverModule>): Promise<DriverFactory> {
  const { default: create } = await module
  return (config, context) => create(driverOptions(config) as never, context)
}

/** The driver's own options of a config entry: the entry without its manager fields. */
export function driverOptions(config: DriverConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([field]) => !ENTRY_FIELDS.has(field)))
}

export function isBuiltinDriver(name: string): boolean {
  return Object.hasOwn(BUILTIN_DRIVERS, name)
}
