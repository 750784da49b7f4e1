import { fileURLToPath } from 'node:url'
import type { SessionManagerOptions } from 'tessera'

/**
 * A fixed key so the demo works out of the box. DEMO ONLY: anyone who reads this file can forge
 * cookies signed with it. Real apps read their keys from the environment or a secret store.
 */
export const DEMO_ONLY_KEY = 'tessera-demo-only-key--never-use-this-in-production'

export const DEFAULT_SQLITE_PATH = fileURLToPath(new URL('./.data/sessions.db', import.meta.url))

export interface DemoEnv {
  SESSION_DRIVER?: string | undefined
  SESSION_KEY?: string | undefined
  SESSION_DB?: string | undefined
  /** How often the admin chart takes a sample; default '10s'. */
  METRICS_INTERVAL?: string | undefined
  REDIS_URL?: string | undefined
  DATABASE_URL?: string | undefined
}

/**
 * The session store from the environment: SQLite by default (embedded, persistent, no server),
 * `SESSION_DRIVER=redis` or `postgres` for a shared store. Only config changes, never code.
 */
export function driverConfig(env: DemoEnv): { driver: string; [option: string]: unknown } {
  const driver = env.SESSION_DRIVER ?? 'sqlite'
  switch (driver) {
    case 'sqlite':
      return { driver: 'sqlite', path: env.SESSION_DB ?? DEFAULT_SQLITE_PATH }
    case 'redis':
      return { driver: 'redis', connection: env.REDIS_URL ?? 'redis://127.0.0.1:6379' }
    case 'postgres':
      return { driver: 'postgres', connection: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' }
    case 'memory':
      return { driver: 'memory' }
    default:
      throw new Error(`SESSION_DRIVER must be sqlite, redis, postgres or memory, got "${driver}".`)
  }
}

export function managerOptions(env: DemoEnv): SessionManagerOptions {
  return {
    default: 'main',
    drivers: { main: { ...driverConfig(env), lifetime: 120 } },
    keys: [env.SESSION_KEY ?? DEMO_ONLY_KEY],
    cookie: { name: 'tessera_demo', sameSite: 'lax' },
    idleTimeout: '30m',
    rememberMe: { lifetime: '30d', cookie: 'tessera_remember' },
    metrics: { sampleInterval: env.METRICS_INTERVAL ?? '10s', samples: 90 },
  }
}
