import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import type { SessionManagerOptions } from '../../../src/manager/manager.js'
import { RedisCluster, redisMissing } from '../../helpers/redis-server.js'
import { KEY } from '../../security/helpers.js'
import { dropTable, pgTestConnection, probePostgres, randomTable } from '../sql/postgres-env.js'

/**
 * One shared store for the concurrency tests: `config(extra)` is a manager config on it, and every
 * manager built from it (two per test: two apps, or two processes' worth of connections) shares
 * the same sessions and security state. `skip` says why the store is not available here.
 */
export interface SharedStore {
  name: string
  skip: string | false
  /** False for the sealed cookie driver: sessions live in the browser, only security state in a store. */
  perUser?: false
  config(extra: SessionManagerOptions): SessionManagerOptions
  cleanup(): Promise<void>
}

const temp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))

/**
 * memory (one driver shared by both managers), file, sqlite, sealed cookie (security state in a file
 * store), postgres, redis, redis cluster (3 masters).
 */
export async function sharedStores(): Promise<SharedStore[]> {
  const stores: SharedStore[] = []
  const memory = new MemoryDriver()
  stores.push({
    name: 'memory',
    skip: false,
    config: (extra) => ({ drivers: { main: memory }, default: 'main', keys: [KEY], ...extra }),
    cleanup: async () => undefined,
  })
  const files = temp('tessera-atomic-file-')
  stores.push({
    name: 'file',
    skip: false,
    config: (extra) => ({ driver: 'file', path: files, keys: [KEY], ...extra }),
    cleanup: async () => rmSync(files, { recursive: true, force: true }),
  })
  const sqlite = temp('tessera-atomic-sqlite-')
  stores.push({
    name: 'sqlite',
    skip: false,
    config: (extra) => ({ driver: 'sqlite', path: join(sqlite, 'sessions.db'), keys: [KEY], ...extra }),
    cleanup: async () => rmSync(sqlite, { recursive: true, force: true }),
  })
  const state = temp('tessera-atomic-cookie-state-')
  stores.push({
    name: 'cookie (security store: file)',
    skip: false,
    perUser: false,
    config: (extra) => ({
      drivers: { cookie: { driver: 'cookie' }, state: { driver: 'file', path: state } },
      default: 'cookie',
      securityStore: 'state',
      keys: [KEY],
      ...extra,
    }),
    cleanup: async () => rmSync(state, { recursive: true, force: true }),
  })
  const table = randomTable('tessera_atomic')
  const pgMissing = await probePostgres()
  if (pgMissing && process.env.CI) throw new Error(`${pgMissing}: required under CI`)
  stores.push({
    name: 'postgres',
    skip: pgMissing ?? false,
    config: (extra) => ({ driver: 'postgres', connection: pgTestConnection(), table, keys: [KEY], ...extra }),
    cleanup: async () => (pgMissing ? undefined : dropTable(table)),
  })
  const redisSkip = await redisMissing()
  const prefix = `tessera-test:atomic:${randomBytes(6).toString('hex')}:`
  stores.push({
    name: 'redis',
    skip: redisSkip ?? false,
    config: (extra) => ({ driver: 'redis', connection: { host: '127.0.0.1', port: 6379 }, prefix, keys: [KEY], ...extra }),
    cleanup: async () => undefined,
  })
  const clusterSkip = await redisMissing({ binaries: true })
  const cluster = clusterSkip ? null : await RedisCluster.start(3)
  stores.push({
    name: 'redis cluster',
    skip: clusterSkip ?? false,
    config: (extra) => ({ driver: 'redis', connection: { cluster: { nodes: cluster?.nodes ?? [] } }, prefix, keys: [KEY], ...extra }),
    cleanup: async () => cluster?.stop(),
  })
  return stores
}
