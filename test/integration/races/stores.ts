/**
 * The server-side stores the race tests run on, each able to open a second connection to the
 * same data (two managers, as two processes would). Redis and PostgreSQL skip locally when no
 * server answers and fail under CI (see redisMissing / reportUnreachable).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { SessionDriver } from '../../../src/drivers/contract.js'
import { FileDriver } from '../../../src/drivers/file.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import { PostgresDriver } from '../../../src/drivers/postgres.js'
import { RedisDriver } from '../../../src/drivers/redis.js'
import { SqliteDriver } from '../../../src/drivers/sqlite.js'
import { RedisCluster, redisMissing } from '../../helpers/redis-server.js'
import { dropTable, PG_URL, probePostgres, randomTable } from '../sql/postgres-env.js'

export interface RaceStore {
  name: string
  /** Why the store is unavailable here (the tests skip), or null. */
  skip: string | null
  /** A driver on the shared data; each call opens another connection (memory: the same driver). */
  connect(): SessionDriver
  cleanup(): Promise<void>
}

/** memory, file, sqlite, postgres, redis and (with `cluster`) a 3-master Redis Cluster. */
export async function raceStores(options: { cluster?: boolean } = {}): Promise<RaceStore[]> {
  const folder = mkdtempSync(join(tmpdir(), 'tessera-race-'))
  const memory = new MemoryDriver()
  const opened: SessionDriver[] = []
  const track = <D extends SessionDriver>(driver: D): D => {
    opened.push(driver)
    return driver
  }
  const closeAll = async (): Promise<void> => {
    await Promise.all(opened.splice(0).map((driver) => driver.close?.().catch(() => undefined)))
  }
  const table = randomTable('tessera_race')
  const prefix = `tessera-race:${randomBytes(6).toString('hex')}:`
  const pgSkip = await probePostgres()
  if (pgSkip && process.env.CI) throw new Error(pgSkip)
  const redisSkip = await redisMissing()
  const clusterSkip = options.cluster ? await redisMissing({ binaries: true }) : 'not requested'
  const cluster = options.cluster && !clusterSkip ? await RedisCluster.start(3) : null
  const stores: RaceStore[] = [
    { name: 'memory', skip: null, connect: () => memory, cleanup: async () => {} },
    {
      name: 'file',
      skip: null,
      connect: () => new FileDriver({ path: join(folder, 'files') }),
      cleanup: async () => rmSync(folder, { recursive: true, force: true }),
    },
    { name: 'sqlite', skip: null, connect: () => track(new SqliteDriver({ path: join(folder, 'sessions.db') })), cleanup: closeAll },
    {
      name: 'postgres',
      skip: pgSkip,
      // Small pools: these tests run beside others that need many connections of the same server.
      connect: () => track(new PostgresDriver({ connection: { connectionString: PG_URL, max: 4 }, table })),
      cleanup: async () => {
        await closeAll()
        if (!pgSkip) await dropTable(table)
      },
    },
    {
      name: 'redis',
      skip: redisSkip,
      connect: () => track(new RedisDriver({ connection: { host: '127.0.0.1', port: 6379 }, prefix })),
      cleanup: async () => {
        await closeAll()
        if (redisSkip) return
        const client = new Redis({ host: '127.0.0.1', port: 6379 })
        const keys = await client.keys(`${prefix}*`)
        if (keys.length > 0) await client.del(...keys)
        await client.quit()
      },
    },
  ]
  if (options.cluster) {
    stores.push({
      name: 'redis cluster (3 masters)',
      skip: clusterSkip,
      connect: () => track(new RedisDriver({ connection: { cluster: { nodes: cluster?.nodes ?? [] } } })),
      cleanup: async () => {
        await closeAll()
        await cluster?.stop()
      },
    })
  }
  return stores
}

/**
 * The driver with its writes held back: `write`, `rename` and `patch` wait until `gate` resolves
 * once they are called, so a test can finish a logout or revokeAll while a request's write is in
 * flight. Every capability of the driver is kept (and no other added).
 */
export function slowWrites(driver: SessionDriver, hold: () => Promise<void>): SessionDriver {
  const slow = Object.create(null) as Record<string, unknown>
  for (const name of ['read', 'write', 'destroy', 'touch', 'gc', 'patch', 'rename', 'listByUser', 'destroyByUser', 'lock'] as const) {
    const method = driver[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (typeof method !== 'function') continue
    const call = (...args: unknown[]) => method.apply(driver, args)
    const held = async (...args: unknown[]) => {
      await hold()
      return call(...args)
    }
    slow[name] = name === 'write' || name === 'rename' || name === 'patch' ? held : call
  }
  slow.name = driver.name
  return slow as unknown as SessionDriver
}

/** Holds calls while closed: `close()`, wait for `held(n)`, then `open()` lets them all through. */
export class Gate {
  #closed: Promise<void> | null = null
  #release: () => void = () => {}
  #count = 0

  close(): void {
    this.#count = 0
    this.#closed = new Promise((resolve) => (this.#release = resolve))
  }

  open(): void {
    this.#closed = null
    this.#release()
  }

  /** Resolves once `n` calls wait at the closed gate. */
  async held(n: number): Promise<void> {
    while (this.#count < n) await sleep(1)
  }

  readonly hold = async (): Promise<void> => {
    const closed = this.#closed
    if (!closed) return
    this.#count += 1
    await closed
  }
}

export const jitter = (max = 3): Promise<void> => sleep(Math.floor(Math.random() * max))
