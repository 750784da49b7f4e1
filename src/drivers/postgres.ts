import { SessionConfigError } from '../lib/errors.js'
import { applyChanges } from './apply.js'
import { importClient, type ClientRequirement } from './client.js'
import type { Change, PatchOptions, PatchResult, SessionDriver, SessionSummary, StoredRecord, Unlock } from './contract.js'
import { Leases } from './lease.js'
import { BUILTIN_OPTION_NAMES } from './option-names.js'
import { checkOptions, exactOptionNames } from './options.js'
import { foldChanges, type FoldedChanges } from './sql/fold.js'
import { leaseKey, leaseParams, leaseSql } from './sql/lease.js'
import { deleteExpiredInBatches, type GcBatchOptions } from './sql/gc.js'
import { assertStorageKey, COLUMNS, isStorageKey, patchedParams, recordToParams, rowToSummary, type SessionRow } from './sql/rows.js'
import { createTableSql, DEFAULT_TABLE, SessionTable, sqlTable, type SqlTableOptions } from './sql/table.js'

export type { CorruptRowHandler, CorruptRowReport } from './sql/rows.js'
export type { GcBatch, GcBatchOptions } from './sql/gc.js'

export const POSTGRES_DRIVER = 'postgres'

/** The client this driver loads on first use; checked against package.json by a test. */
export const POSTGRES_CLIENT: ClientRequirement = { driver: POSTGRES_DRIVER, package: 'pg', range: '^8.0.0' }

/** What a pg query resolves to, as far as this driver reads it. */
export interface PgResult {
  rows: Record<string, unknown>[]
  rowCount: number | null
}

/** A pooled connection (pg `PoolClient`), used for multi-statement transactions. */
export interface PgPoolClient {
  query(text: string, values?: unknown[]): Promise<PgResult>
  release(destroy?: boolean | Error): void
}

/** The parts of a `pg.Pool` this driver uses (structural, so no type dependency on pg). */
export interface PgPool {
  query(text: string, values?: unknown[]): Promise<PgResult>
  connect(): Promise<PgPoolClient>
  end(): Promise<void>
  on(event: 'error', listener: (error: Error) => void): unknown
  listenerCount?(event: 'error'): number
}

/** A `pg.Pool` config: `connectionString`, `host`, `max`, `connectionTimeoutMillis`, … */
export interface PgPoolConfig {
  connectionString?: string
  connectionTimeoutMillis?: number
  [option: string]: unknown
}

interface PgModule {
  Pool?: new (config: PgPoolConfig) => PgPool
  default?: { Pool: new (config: PgPoolConfig) => PgPool }
}

export interface PostgresDriverOptions extends SqlTableOptions {
  /** A connection string, a `pg.Pool` config, or a `pg.Pool` to share (the driver never ends a pool it was given). */
  connection: string | PgPoolConfig | PgPool
  /**
   * Create the table and its indexes on first use (default true). Set false when you manage the
   * schema yourself with {@link schemaSql}.
   */
  createTable?: boolean
}

/** Every option of this driver (declared in option-names.ts); unknown options are rejected against it. */
export const POSTGRES_OPTION_NAMES = exactOptionNames<PostgresDriverOptions>()(BUILTIN_OPTION_NAMES.postgres)

/**
 * The schema as SQL, for migrations you run yourself (`createTable: false`). Idempotent.
 * `data` is text rather than jsonb, which would refuse `\u0000`; patches still use jsonb
 * operators on it in a single UPDATE.
 */
export function schemaSql(table: string = DEFAULT_TABLE): string {
  return createTableSql(sqlTable(POSTGRES_DRIVER, table), { text: 'text', integer: 'bigint' })
}

const isPool = (value: unknown): value is PgPool =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as PgPool).query === 'function' &&
  typeof (value as PgPool).connect === 'function'

// SQLSTATEs of a stored text that jsonb cannot take (invalid JSON, a \u0000 escape): the patch
// falls back to reading the row in JavaScript, which also reports it if it is corrupt.
const JSONB_REFUSED = new Set(['22P02', '22P05'])

/**
 * Sessions in one PostgreSQL table through a shared `pg` pool. Reads, writes and touches are one
 * statement each; a patch is one UPDATE applying the change log with jsonb operators, or — for
 * increments and pushes, whose values only the codec understands — one transaction that locks
 * the row (`SELECT … FOR UPDATE`), applies the log in JavaScript and writes it back. Either way
 * concurrent patches of one session serialize on the row lock and none is lost.
 */
export class PostgresDriver implements SessionDriver {
  readonly name = POSTGRES_DRIVER
  readonly #table: SessionTable
  readonly #connection: PostgresDriverOptions['connection']
  readonly #createTable: boolean
  readonly #sql: ReturnType<typeof statements>
  #owned = false
  #connecting: Promise<PgPool> | undefined
  #schemaReady: Promise<void> | undefined
  #leases: Leases | undefined

  constructor(options: PostgresDriverOptions) {
    checkOptions(POSTGRES_DRIVER, options, POSTGRES_OPTION_NAMES)
    const connection = options?.connection
    if (!(typeof connection === 'string' && connection.trim() !== '') && !(typeof connection === 'object' && connection !== null)) {
      throw new SessionConfigError(
        'postgres driver: "connection" must be a connection string (e.g. "postgres://user@localhost:5432/app"), a pg Pool config object or a pg.Pool instance.',
      )
    }
    if (options.createTable !== undefined && typeof options.createTable !== 'boolean') {
      throw new SessionConfigError(
        'postgres driver: "createTable" must be true (create the table on first use) or false (you run schemaSql() yourself).',
      )
    }
    this.#table = new SessionTable(POSTGRES_DRIVER, options, true)
    this.#connection = connection
    this.#createTable = options.createTable ?? true
    this.#sql = statements(this.#table.sql.quoted)
  }

  /** The validated table name. */
  get table(): string {
    return this.#table.name
  }

  async read(key: string): Promise<StoredRecord | null> {
    if (!isStorageKey(key)) return null
    const pool = await this.#ready()
    const { rows } = await pool.query(this.#sql.read, [key, Date.now()])
    const row = rows[0] as SessionRow | undefined
    return row ? this.#toRecord(pool, key, row) : null
  }

  async write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    assertStorageKey(POSTGRES_DRIVER, key)
    const pool = await this.#ready()
    await pool.query(this.#sql.write, recordToParams(key, record, Date.now() + ttl))
  }

  async destroy(key: string): Promise<void> {
    if (!isStorageKey(key)) return
    const pool = await this.#ready()
    await pool.query(this.#sql.destroy, [key])
  }

  async touch(key: string, ttl: number): Promise<void> {
    if (!isStorageKey(key)) return
    const pool = await this.#ready()
    const now = Date.now()
    await pool.query(this.#sql.touch, [key, now, now + ttl])
  }

  async patch(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    if (!isStorageKey(key)) return 'missing'
    const pool = await this.#ready()
    const folded = foldChanges(changes)
    if (folded) {
      try {
        return await this.#patchInOneStatement(pool, key, folded, options.ttl)
      } catch (error) {
        if (!JSONB_REFUSED.has((error as { code?: string })?.code ?? '')) throw error
      }
    }
    return this.#patchInTransaction(pool, key, changes, options)
  }

  /** One statement: the new row is inserted only if the DELETE of the live old row found it. */
  async rename(fromKey: string, toKey: string, record: StoredRecord, ttl: number): Promise<boolean> {
    assertStorageKey(POSTGRES_DRIVER, toKey)
    if (!isStorageKey(fromKey)) return false
    const pool = await this.#ready()
    const now = Date.now()
    const { rowCount } = await pool.query(this.#sql.rename, [...recordToParams(toKey, record, now + ttl), fromKey, now])
    return rowCount === 1
  }

  async gc(): Promise<number> {
    return this.gcInBatches()
  }

  /**
   * Deletes expired rows `batchSize` at a time (default 5,000), each batch its own short
   * transaction. `SKIP LOCKED` leaves rows that a request is patching right now, so gc never
   * waits on traffic and two processes collecting at once do not contend.
   */
  async gcInBatches(options: GcBatchOptions = {}): Promise<number> {
    const pool = await this.#ready()
    return deleteExpiredInBatches(async (now, limit) => (await pool.query(this.#sql.gcBatch, [now, limit])).rowCount ?? 0, options)
  }

  async listByUser(userId: string): Promise<SessionSummary[]> {
    const pool = await this.#ready()
    const { rows } = await pool.query(this.#sql.listByUser, [userId, Date.now()])
    return rows.map((row) => rowToSummary(row as unknown as SessionRow)).filter((summary): summary is SessionSummary => summary !== null)
  }

  async destroyByUser(userId: string, options: { exceptKeys?: readonly string[] } = {}): Promise<number> {
    const pool = await this.#ready()
    const except = (options.exceptKeys ?? []).filter(isStorageKey)
    const { rows } = await pool.query(this.#sql.destroyByUser, [userId, except, Date.now()])
    return Number(rows[0]?.live ?? 0)
  }

  /** Ends the pool if this driver created it; a pool passed in stays open for its owner. */
  async close(): Promise<void> {
    const connecting = this.#connecting
    this.#connecting = undefined
    this.#schemaReady = undefined
    const pool = await connecting?.catch(() => undefined)
    if (pool && this.#owned) await pool.end()
  }

  async #patchInOneStatement(pool: PgPool, key: string, folded: FoldedChanges, ttl: number): Promise<PatchResult> {
    const now = Date.now()
    const params: unknown[] = [key, now, now + ttl, folded.cleared, [...folded.deletes], JSON.stringify(folded.sets)]
    const set = [
      `data = ((CASE WHEN $4::boolean THEN '{}'::jsonb ELSE data::jsonb - $5::text[] END) || $6::jsonb)::text`,
      'version = version + 1',
      'last_seen_at = $2',
      'expires_at = $3',
    ]
    if (folded.flash) {
      params.push(folded.flash.value)
      set.push(`flash = $${params.length}`)
    }
    if (folded.user) {
      params.push(folded.user.userId)
      set.push(`user_id = $${params.length}`)
      if (folded.user.device) {
        params.push(JSON.stringify(folded.user.device))
        set.push(`device = $${params.length}`)
      }
    }
    const { rowCount } = await pool.query(
      `UPDATE ${this.#table.sql.quoted} SET ${set.join(', ')} WHERE key = $1 AND expires_at > $2 AND left(data, 1) = '{'`,
      params,
    )
    return rowCount === 1 ? 'applied' : 'missing'
  }

  #patchInTransaction(pool: PgPool, key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    return this.#transaction(pool, async (client) => {
      const now = Date.now()
      const { rows } = await client.query(this.#sql.readForUpdate, [key, now])
      const row = rows[0] as SessionRow | undefined
      const record = row ? await this.#toRecord(client, key, row) : null
      if (!record) return 'missing'
      const next = applyChanges(record, changes, options.codec, options.ttl, now)
      await client.query(this.#sql.update, [key, ...patchedParams(next)])
      return 'applied'
    })
  }

  /** Runs `work` in BEGIN … COMMIT on one pooled connection; ROLLBACK when it throws. */
  async #transaction<T>(pool: PgPool, work: (client: Awaited<ReturnType<PgPool['connect']>>) => Promise<T>): Promise<T> {
    const client = await pool.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true
      })
      throw error
    } finally {
      // A connection that cannot even roll back is dropped instead of going back to the pool.
      client.release(broken)
    }
  }

  /** The row's record; a corrupt row is reported, deleted and read as no session. */
  async #toRecord(db: Pick<PgPool, 'query'>, key: string, row: SessionRow): Promise<StoredRecord | null> {
    const record = this.#table.toRecord(key, row)
    if (!record) await db.query(this.#sql.destroy, [key])
    return record
  }

  async #ready(): Promise<PgPool> {
    const pool = await (this.#connecting ??= this.#connect().catch((error: unknown) => {
      this.#connecting = undefined
      throw error
    }))
    if (this.#createTable) {
      await (this.#schemaReady ??= this.#ensureSchema(pool).catch((error: unknown) => {
        this.#schemaReady = undefined
        throw error
      }))
    }
    return pool
  }

  async #connect(): Promise<PgPool> {
    const connection = this.#connection
    if (isPool(connection)) {
      // An idle client that loses its server emits 'error' on the pool; unheard, that crashes
      // the process. Listen only when nobody else does, so an owner's handler stays in charge.
      if ((connection.listenerCount?.('error') ?? 0) === 0) connection.on('error', ignoreIdleError)
      return connection
    }
    const pg = await importClient<PgModule>(POSTGRES_CLIENT)
    const Pool = pg.Pool ?? pg.default?.Pool
    if (!Pool) throw new SessionConfigError('postgres driver: the installed "pg" package does not export Pool; install pg@"^8.0.0".')
    const config: PgPoolConfig = typeof connection === 'string' ? { connectionString: connection } : { ...connection }
    config.connectionTimeoutMillis ??= 5_000
    const pool = new Pool(config)
    pool.on('error', ignoreIdleError)
    this.#owned = true
    return pool
  }

  #ensureSchema(pool: PgPool): Promise<void> {
    // Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog; a transaction-
    // scoped advisory lock lets processes that start together create the table one at a time.
    return this.#transaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera:${this.#table.name}`])
      await client.query(schemaSql(this.#table.name))
    })
  }

  // --- lock: a lease row per key, shared by every process on the database (atomic security state) ---

  /** Mutual exclusion per key across every process sharing the table: see {@link Leases}. */
  lock(key: string, ttl: number): Promise<Unlock> {
    const sql = leaseSql(this.#table.sql.quoted, (n) => `$${n}`, { alias: 'lease', name: 'lease' })
    this.#leases ??= new Leases(POSTGRES_DRIVER, {
      acquire: async (key, holder, ttl) =>
        ((await (await this.#ready()).query(sql.acquire, leaseParams(key, holder, ttl))).rowCount ?? 0) === 1,
      release: async (key, holder) => void (await (await this.#ready()).query(sql.release, [leaseKey(key), holder])),
    })
    return this.#leases.lock(key, ttl)
  }
}

// The failed request surfaces the next error; the pool has already dropped the broken client.
function ignoreIdleError(): void {}

function statements(t: string) {
  return {
    read: `SELECT ${COLUMNS} FROM ${t} WHERE key = $1 AND expires_at > $2`,
    readForUpdate: `SELECT ${COLUMNS} FROM ${t} WHERE key = $1 AND expires_at > $2 FOR UPDATE`,
    write: `INSERT INTO ${t} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, flash = EXCLUDED.flash, created_at = EXCLUDED.created_at,
        last_seen_at = EXCLUDED.last_seen_at, expires_at = EXCLUDED.expires_at, version = EXCLUDED.version,
        user_id = EXCLUDED.user_id, device = EXCLUDED.device`,
    update: `UPDATE ${t} SET data = $2, flash = $3, last_seen_at = $4, expires_at = $5, version = $6, user_id = $7, device = $8 WHERE key = $1`,
    touch: `UPDATE ${t} SET last_seen_at = $2, expires_at = $3 WHERE key = $1 AND expires_at > $2`,
    destroy: `DELETE FROM ${t} WHERE key = $1`,
    rename: `WITH gone AS (DELETE FROM ${t} WHERE key = $10 AND expires_at > $11 RETURNING key)
      INSERT INTO ${t} (${COLUMNS}) SELECT $1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8::text, $9::text
      WHERE EXISTS (SELECT 1 FROM gone)
      ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, flash = EXCLUDED.flash, created_at = EXCLUDED.created_at,
        last_seen_at = EXCLUDED.last_seen_at, expires_at = EXCLUDED.expires_at, version = EXCLUDED.version,
        user_id = EXCLUDED.user_id, device = EXCLUDED.device`,
    listByUser: `SELECT key, user_id, created_at, last_seen_at, expires_at, device FROM ${t}
      WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC`,
    destroyByUser: `WITH gone AS (DELETE FROM ${t} WHERE user_id = $1 AND NOT (key = ANY($2::text[])) RETURNING expires_at)
      SELECT (count(*) FILTER (WHERE expires_at > $3))::int AS live FROM gone`,
    // = ANY(ARRAY(…)) makes the DELETE probe the primary key for the batch's keys; `IN (SELECT …)`
    // lets the planner hash-join against a scan of the whole table on every batch.
    gcBatch: `DELETE FROM ${t} WHERE key = ANY(ARRAY(SELECT key FROM ${t} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
  }
}

/** Creates a PostgreSQL driver: `postgresDriver({ connection: process.env.DATABASE_URL })`. */
export function postgresDriver(options: PostgresDriverOptions): PostgresDriver {
  return new PostgresDriver(options)
}

export default postgresDriver
