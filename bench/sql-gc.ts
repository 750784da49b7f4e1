// gc of a million expired sessions in SQLite and PostgreSQL: how fast, and how long the longest
// single batch (one DELETE statement = one transaction holding its locks) takes, while a reader
// keeps reading a live session. Run: node --import tsx bench/sql-gc.ts [rows]
// Needs PostgreSQL at TESSERA_PG_URL (default postgres://postgres@127.0.0.1:5432/test); skips it if absent.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import Database from 'better-sqlite3'
import pg from 'pg'
import { PostgresDriver } from '../src/drivers/postgres.js'
import { GC_BATCH_SIZE } from '../src/drivers/sql/gc.js'
import { SqliteDriver } from '../src/drivers/sqlite.js'
import type { GcBatchOptions } from '../src/drivers/sql/gc.js'
import type { StoredRecord } from '../src/drivers/contract.js'

const ROWS = Number(process.argv[2] ?? 1_000_000)
const LIVE = 10_000
const PG_URL = process.env.TESSERA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DATA = JSON.stringify({ user_id: '"u-123"', cart: '["apple","pear"]', csrf: `"${randomBytes(24).toString('base64url')}"` })

interface Result {
  store: string
  expired: number
  'insert s': string
  'gc s': string
  'rows/s': string
  batches: number
  'median batch ms': string
  'longest batch ms': string
  'max read ms during gc': string
}

interface GcDriver {
  read(key: string): Promise<StoredRecord | null>
  gcInBatches(options: GcBatchOptions): Promise<number>
}

/** Runs gc while a reader loops on a live session, recording batch times and read latencies. */
async function measureGc(store: string, driver: GcDriver, liveKey: string, insertMs: number): Promise<Result> {
  const batchMs: number[] = []
  let maxRead = 0
  let done = false
  const reader = (async () => {
    while (!done) {
      const started = performance.now()
      if (!(await driver.read(liveKey))) throw new Error('the live session disappeared during gc')
      maxRead = Math.max(maxRead, performance.now() - started)
      await nextTurn() // like requests arriving through I/O, not a microtask loop that starves gc
    }
  })()
  const started = performance.now()
  const removed = await driver.gcInBatches({
    onBatch: ({ ms }) => batchMs.push(ms),
  })
  const elapsed = performance.now() - started
  done = true
  await reader
  if (removed !== ROWS) throw new Error(`${store}: gc removed ${removed} rows, expected ${ROWS}`)
  return {
    store,
    expired: removed,
    'insert s': (insertMs / 1000).toFixed(1),
    'gc s': (elapsed / 1000).toFixed(2),
    'rows/s': Math.round(removed / (elapsed / 1000)).toLocaleString('en-US'),
    batches: batchMs.length,
    'median batch ms': (batchMs.sort((a, b) => a - b)[batchMs.length >> 1] ?? 0).toFixed(1),
    'longest batch ms': Math.max(...batchMs).toFixed(1),
    'max read ms during gc': maxRead.toFixed(1),
  }
}

async function sqlite(): Promise<Result> {
  const folder = mkdtempSync(join(tmpdir(), 'tessera-bench-'))
  const path = join(folder, 'sessions.db')
  const driver = new SqliteDriver({ path })
  try {
    await driver.read('warm-up') // creates the table and indexes
    const db = new Database(path)
    const insert = db.prepare(
      'INSERT INTO tessera_sessions (key, data, created_at, last_seen_at, expires_at, version, user_id) VALUES (?, ?, ?, ?, ?, 1, ?)',
    )
    const now = Date.now()
    const started = performance.now()
    db.transaction(() => {
      for (let i = 0; i < ROWS; i++)
        insert.run(`expired-${i}`, DATA, now - 7_200_000, now - 3_600_000, now - 1_000 - (i % 3_600_000), `u-${i % 50_000}`)
      for (let i = 0; i < LIVE; i++) insert.run(`live-${i}`, DATA, now, now, now + 3_600_000, `u-${i}`)
    })()
    const insertMs = performance.now() - started
    db.close()
    return await measureGc('sqlite (better-sqlite3, WAL)', driver, 'live-0', insertMs)
  } finally {
    await driver.close()
    rmSync(folder, { recursive: true, force: true })
  }
}

async function postgres(): Promise<Result | string> {
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  try {
    await admin.connect()
  } catch (error) {
    return `PostgreSQL skipped: ${PG_URL} unreachable (${(error as Error).message})`
  }
  const table = `tessera_bench_${randomBytes(4).toString('hex')}`
  const driver = new PostgresDriver({ connection: PG_URL, table })
  try {
    await driver.read('warm-up')
    const now = Date.now()
    const started = performance.now()
    await admin.query(
      `INSERT INTO "${table}" (key, data, created_at, last_seen_at, expires_at, version, user_id)
       SELECT 'expired-' || i, $1, $2::bigint - 7200000, $2::bigint - 3600000, $2::bigint - 1000 - (i % 3600000), 1, 'u-' || (i % 50000)
       FROM generate_series(1, $3::int) AS i`,
      [DATA, now, ROWS],
    )
    await admin.query(
      `INSERT INTO "${table}" (key, data, created_at, last_seen_at, expires_at, version, user_id)
       SELECT 'live-' || i, $1, $2::bigint, $2::bigint, $2::bigint + 3600000, 1, 'u-' || i FROM generate_series(0, $3::int - 1) AS i`,
      [DATA, now, LIVE],
    )
    await admin.query(`ANALYZE "${table}"`)
    const insertMs = performance.now() - started
    return await measureGc('postgres (pg, SKIP LOCKED)', driver, 'live-0', insertMs)
  } finally {
    await driver.close()
    await admin.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => undefined)
    await admin.end()
  }
}

console.log(
  `gc of ${ROWS.toLocaleString('en-US')} expired rows (+${LIVE.toLocaleString('en-US')} live), ${GC_BATCH_SIZE.toLocaleString('en-US')} rows per batch, Node ${process.version}`,
)
const results: Result[] = [await sqlite()]
const pgResult = await postgres()
if (typeof pgResult === 'string') console.log(pgResult)
else results.push(pgResult)
console.table(results)
