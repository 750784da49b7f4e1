import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { SessionConfigError } from '../lib/errors.js'
import { applyChanges } from './apply.js'
import { importClient, type ClientRequirement } from './client.js'
import type { Change, PatchOptions, PatchResult, SessionDriver, SessionSummary, StoredRecord, Unlock } from './contract.js'
import { Leases } from './lease.js'
import { BUILTIN_OPTION_NAMES } from './option-names.js'
import { checkOptions, exactOptionNames } from './options.js'
import { leaseKey, leaseParams, leaseSql } from './sql/lease.js'
import { deleteExpiredInBatches, type GcBatchOptions } from './sql/gc.js'
import { assertStorageKey, COLUMNS, isStorageKey, patchedParams, recordToParams, rowToSummary, type SessionRow } from './sql/rows.js'
import { createTableSql, DEFAULT_TABLE, SessionTable, sqlTable, type SqlTableOptions } from './sql/table.js'

export type { CorruptRowHandler, CorruptRowReport } from './sql/rows.js'
export type { GcBatch, GcBatchOptions } from './sql/gc.js'

export const SQLITE_DRIVER = 'sqlite'

/** The client this driver loads on first use; checked against package.json by a test. */
export const SQLITE_CLIENT: ClientRequirement = { driver: SQLITE_DRIVER, package: 'better-sqlite3', range: '^12.0.0' }

/** The parts of a better-sqlite3 statement this driver uses. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
}

/** The parts of a better-sqlite3 `Database` this driver uses (structural, so no type dependency). */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  exec(sql: string): unknown
  pragma(source: string, options?: { simple?: boolean }): unknown
  transaction(fn: () => unknown): { (): unknown; immediate(): unknown }
  close(): unknown
}

interface SqliteModule {
  default: new (path: string, options?: { timeout?: number }) => SqliteDatabase
}

export interface SqliteDriverOptions extends SqlTableOptions {
  /** Database file, created (with its folder) on first use; `':memory:'` for a private in-memory database. */
  path?: string
  /** An open better-sqlite3 Database to use instead of `path`; the driver never closes it. */
  database?: SqliteDatabase
  /** How long a write waits for another process's write lock, in ms. Default 5000. */
  busyTimeout?: number
}

/** Every option of this driver (declared in option-names.ts); unknown options are rejected against it. */
export const SQLITE_OPTION_NAMES = exactOptionNames<SqliteDriverOptions>()(BUILTIN_OPTION_NAMES.sqlite)

interface Statements {
  read: SqliteStatement
  write: SqliteStatement
  update: SqliteStatement
  touch: SqliteStatement
  destroy: SqliteStatement
  destroyLive: SqliteStatement
  listByUser: SqliteStatement
  destroyByUser: SqliteStatement
  gcBatch: SqliteStatement
}

/** The schema of the sessions table, for migrations you run yourself; the driver runs it on first use (`IF NOT EXISTS`). */
export function schemaSql(table: string = DEFAULT_TABLE): string {
  return createTableSql(sqlTable(SQLITE_DRIVER, table, false), { text: 'TEXT', integer: 'INTEGER' })
}

/**
 * Sessions in one SQLite table through better-sqlite3 (12.x). The database runs in WAL mode, so
 * readers never wait for the writer. better-sqlite3 is synchronous: a patch runs start to finish
 * without yielding, and as a `BEGIN IMMEDIATE` transaction it also excludes other processes that
 * share the file (they wait up to `busyTimeout`).
 */
export class SqliteDriver implements SessionDriver {
  readonly name = SQLITE_DRIVER
  readonly #options: SqliteDriverOptions
  readonly #table: SessionTable
  #opening: Promise<{ db: SqliteDatabase; statements: Statements }> | undefined
  #owned: SqliteDatabase | undefined
  #leases: Leases | undefined

  constructor(options: SqliteDriverOptions) {
    checkOptions(SQLITE_DRIVER, options, SQLITE_OPTION_NAMES)
    if (options?.database === undefined && (typeof options?.path !== 'string' || options.path.trim() === '')) {
      throw new SessionConfigError(
        'sqlite driver: pass "path" (the database file, e.g. { driver: "sqlite", path: "./storage/sessions.db" }) or an open better-sqlite3 Database as "database".',
      )
    }
    if (options.busyTimeout !== undefined && !(Number.isInteger(options.busyTimeout) && options.busyTimeout >= 0)) {
      throw new SessionConfigError(
        `sqlite driver: "busyTimeout" must be a whole number of milliseconds (0 or more), got ${String(options.busyTimeout)}.`,
      )
    }
    this.#options = { ...options }
    this.#table = new SessionTable(SQLITE_DRIVER, options, false)
  }

  /** The validated table name. */
  get table(): string {
    return this.#table.name
  }

  async read(key: string): Promise<StoredRecord | null> {
    if (!isStorageKey(key)) return null
    const { statements } = await this.#ready()
    const row = statements.read.get(key, Date.now()) as SessionRow | undefined
    return row ? this.#toRecord(statements, key, row) : null
  }

  async write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    assertStorageKey(SQLITE_DRIVER, key)
    const { statements } = await this.#ready()
    statements.write.run(...recordToParams(key, record, Date.now() + ttl))
  }

  async destroy(key: string): Promise<void> {
    if (!isStorageKey(key)) return
    const { statements } = await this.#ready()
    statements.destroy.run(key)
  }

  async touch(key: string, ttl: number): Promise<void> {
    if (!isStorageKey(key)) return
    const { statements } = await this.#ready()
    const now = Date.now()
    statements.touch.run(now, now + ttl, key, now)
  }

  async patch(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    if (!isStorageKey(key)) return 'missing'
    const { db, statements } = await this.#ready()
    const apply = db.transaction((): PatchResult => {
      const now = Date.now()
      const row = statements.read.get(key, now) as SessionRow | undefined
      const record = row ? this.#toRecord(statements, key, row) : null
      if (!record) return 'missing'
      const next = applyChanges(record, changes, options.codec, options.ttl, now)
      statements.update.run(...patchedParams(next), key)
      return 'applied'
    })
    return apply.immediate() as PatchResult
  }

  /** One IMMEDIATE transaction: the old row is deleted only if live, and the new one written only then. */
  async rename(fromKey: string, toKey: string, record: StoredRecord, ttl: number): Promise<boolean> {
    assertStorageKey(SQLITE_DRIVER, toKey)
    if (!isStorageKey(fromKey)) return false
    const { db, statements } = await this.#ready()
    const move = db.transaction((): boolean => {
      const now = Date.now()
      if (statements.destroyLive.run(fromKey, now).changes !== 1) return false
      statements.write.run(...recordToParams(toKey, record, now + ttl))
      return true
    })
    return move.immediate() as boolean
  }

  async gc(): Promise<number> {
    return this.gcInBatches()
  }

  /**
   * Deletes expired rows `batchSize` at a time (default 5,000), each batch its own short
   * transaction, yielding to the event loop in between so requests are served meanwhile.
   */
  async gcInBatches(options: GcBatchOptions = {}): Promise<number> {
    const { statements } = await this.#ready()
    return deleteExpiredInBatches((now, limit) => statements.gcBatch.run(now, limit).changes, options)
  }

  async listByUser(userId: string): Promise<SessionSummary[]> {
    const { statements } = await this.#ready()
    const rows = statements.listByUser.all(userId, Date.now()) as SessionRow[]
    return rows.map(rowToSummary).filter((summary): summary is SessionSummary => summary !== null)
  }

  async destroyByUser(userId: string, options: { exceptKeys?: readonly string[] } = {}): Promise<number> {
    const { statements } = await this.#ready()
    const except = JSON.stringify(options.exceptKeys ?? [])
    const rows = statements.destroyByUser.all(userId, except) as { expires_at: unknown }[]
    const now = Date.now()
    return rows.filter((row) => typeof row.expires_at === 'number' && row.expires_at > now).length
  }

  /** Closes the database if this driver opened it; an injected database stays open. */
  async close(): Promise<void> {
    const opening = this.#opening
    this.#opening = undefined
    await opening?.catch(() => undefined)
    this.#owned?.close()
    this.#owned = undefined
  }

  /** The row's record; a corrupt row is reported, deleted and read as no session. */
  #toRecord(statements: Statements, key: string, row: SessionRow): StoredRecord | null {
    const record = this.#table.toRecord(key, row)
    if (!record) statements.destroy.run(key)
    return record
  }

  #ready(): Promise<{ db: SqliteDatabase; statements: Statements }> {
    this.#opening ??= this.#open().catch((error: unknown) => {
      this.#opening = undefined
      throw error
    })
    return this.#opening
  }

  async #open(): Promise<{ db: SqliteDatabase; statements: Statements }> {
    let db = this.#options.database
    if (db === undefined) {
      const { default: Database } = await importClient<SqliteModule>(SQLITE_CLIENT)
      const path = this.#options.path as string
      if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 })
      db = new Database(path, { timeout: this.#options.busyTimeout ?? 5_000 })
      this.#owned = db
      try {
        // WAL: readers and the single writer do not block each other; NORMAL sync is durable
        // across application crashes and only risks the last commits on power loss.
        db.pragma('journal_mode = WAL')
        db.pragma('synchronous = NORMAL')
      } catch (error) {
        db.close()
        this.#owned = undefined
        throw error
      }
    }
    db.exec(schemaSql(this.#table.name))
    return { db, statements: prepare(db, this.#table.sql.quoted) }
  }

  // --- lock: a lease row per key, shared by every process on the database (atomic security state) ---

  /** Mutual exclusion per key across every process sharing the database: see {@link Leases}. */
  lock(key: string, ttl: number): Promise<Unlock> {
    this.#leases ??= new Leases(SQLITE_DRIVER, {
      acquire: async (key, holder, ttl) => {
        const { db } = await this.#ready()
        const sql = leaseSql(this.#table.sql.quoted, () => '?', { name: this.#table.sql.quoted })
        return db.prepare(sql.acquire).run(...leaseParams(key, holder, ttl)).changes === 1
      },
      release: async (key, holder) => {
        const { db } = await this.#ready()
        db.prepare(leaseSql(this.#table.sql.quoted, () => '?', { name: this.#table.sql.quoted }).release).run(leaseKey(key), holder)
      },
    })
    return this.#leases.lock(key, ttl)
  }
}

function prepare(db: SqliteDatabase, t: string): Statements {
  return {
    read: db.prepare(`SELECT ${COLUMNS} FROM ${t} WHERE key = ? AND expires_at > ?`),
    write: db.prepare(
      `INSERT INTO ${t} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET data = excluded.data, flash = excluded.flash, created_at = excluded.created_at,
         last_seen_at = excluded.last_seen_at, expires_at = excluded.expires_at, version = excluded.version,
         user_id = excluded.user_id, device = excluded.device`,
    ),
    update: db.prepare(
      `UPDATE ${t} SET data = ?, flash = ?, last_seen_at = ?, expires_at = ?, version = ?, user_id = ?, device = ? WHERE key = ?`,
    ),
    touch: db.prepare(`UPDATE ${t} SET last_seen_at = ?, expires_at = ? WHERE key = ? AND expires_at > ?`),
    destroy: db.prepare(`DELETE FROM ${t} WHERE key = ?`),
    destroyLive: db.prepare(`DELETE FROM ${t} WHERE key = ? AND expires_at > ?`),
    listByUser: db.prepare(
      `SELECT key, user_id, created_at, last_seen_at, expires_at, device FROM ${t} WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC`,
    ),
    destroyByUser: db.prepare(`DELETE FROM ${t} WHERE user_id = ? AND key NOT IN (SELECT value FROM json_each(?)) RETURNING expires_at`),
    gcBatch: db.prepare(`DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t} WHERE expires_at <= ? LIMIT ?)`),
  }
}

/** Creates a SQLite driver: `sqliteDriver({ path: './storage/sessions.db' })`. */
export function sqliteDriver(options: SqliteDriverOptions): SqliteDriver {
  return new SqliteDriver(options)
}

export default sqliteDriver
