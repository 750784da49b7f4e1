import type { Keyring } from '../lib/crypto.js'
import type { SessionDriver } from './contract.js'
import { fileDriver, type FileDriverOptions } from './file.js'
import { memoryDriver, type MemoryDriverOptions } from './memory.js'

/**
 * Settings of one named driver in a manager's config. `driver` picks the implementation; the
 * other fields are that driver's options plus the shared `lifetime`/`age`.
 */
export interface DriverConfig {
  driver: string
  /** Session lifetime in minutes (seed style), overrides the manager's. */
  lifetime?: number
  /** Session lifetime as a duration (`'2h'`) or milliseconds, overrides the manager's. */
  age?: number | string
  /** Filled in by the manager (when keys are configured) for drivers that seal data themselves. */
  keyring?: Keyring
  /** Filled in by the manager: the session cookie's name, for drivers that keep data in cookies. */
  cookieName?: string
  [option: string]: unknown
}

/** Builds a driver from its config entry. May be async, e.g. to import an optional client. */
export type DriverFactory = (config: DriverConfig) => SessionDriver | Promise<SessionDriver>

/**
 * Built-in drivers by name. Drivers that need an optional client are imported lazily, so an app
 * that never names them never loads them (or their client).
 */
export const BUILTIN_DRIVERS: Readonly<Record<string, () => Promise<DriverFactory>>> = {
  memory: async () => (config) => memoryDriver(config as MemoryDriverOptions),
  file: async () => (config) => fileDriver(config as unknown as FileDriverOptions),
  cookie: () => loadDriverModule('./cookie.js'),
  redis: () => loadDriverModule('./redis.js'),
  sqlite: () => loadDriverModule('./sqlite.js'),
  postgres: () => loadDriverModule('./postgres.js'),
}

/** Each lazily loaded driver module exports `createDriver`, a {@link DriverFactory}. */
async function loadDriverModule(specifier: string): Promise<DriverFactory> {
  const module = (await import(specifier)) as { createDriver: DriverFactory }
  return module.createDriver
}

export function isBuiltinDriver(name: string): boolean {
  return Object.hasOwn(BUILTIN_DRIVERS, name)
}
