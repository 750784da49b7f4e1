import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { SessionCodec } from '../../../src/session/codec.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import { schemaSql, SqliteDriver, sqliteDriver } from '../../../src/drivers/sqlite.js'
import type { CorruptRowReport } from '../../../src/drivers/sql/rows.js'
import { SessionConfigError, SessionStoreError } from '../../../src/lib/errors.js'
import { storageKeyFor } from '../../../src/lib/ids.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'

const run = promisify(execFile)
const folder = mkdtempSync(join(tmpdir(), 'tessera-sqlite-it-'))
after(() => rmSync(folder, { recursive: true, force: true }))
const codec = new SessionCodec(typedJsonSerializer)
const patchOptions = { ttl: 60_000, codec }
let files = 0
const dbPath = (): string => join(folder, `db-${files++}`, 'sessions.db')

describe('sqlite driver: setup', () => {
  it('creates the folder, the table and both indexes on first use, in WAL mode', async () => {
    const path = dbPath()
    const driver = sqliteDriver({ path, table: 'app_sessions' })
    await driver.write(randomKey(), makeRecord({ a: 1 }), 60_000)
    await driver.close()
    const db = new Database(path, { readonly: true })
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      const names = (
        db.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'app_sessions' ORDER BY name").all() as { name: string }[]
      ).map((row) => row.name)
      assert.deepEqual(names, [
        'app_sessions',
        'app_sessions_expires_at_idx',
        'app_sessions_user_id_idx',
        'sqlite_autoindex_app_sessions_1',
      ])
    } finally {
      db.close()
    }
  })

  it('refuses table names that are not plain identifiers', () => {
    for (const table of ['x; DROP TABLE users', 'a"b', '1abc', '', 'main.sessions', 'x'.repeat(49)]) {
      assert.throws(() => new SqliteDriver({ path: dbPath(), table }), SessionConfigError, table)
    }
    assert.throws(() => new SqliteDriver({} as never), /pass "path"/)
    assert.throws(() => new SqliteDriver({ path: dbPath(), busyTimeout: -1 }), /busyTimeout/)
  })

  it('uses an injected database and leaves it open on close()', async () => {
    const db = new Database(':memory:')
    const driver = new SqliteDriver({ database: db })
    const key = randomKey()
    await driver.write(key, makeRecord({ a: 1 }), 60_000)
    await driver.close()
    assert.equal(db.open, true)
    assert.equal((db.prepare('SELECT count(*) AS n FROM tessera_sessions WHERE key = ?').get(key) as { n: number }).n, 1)
    db.close()
  })

  it('the exported schema SQL creates a working table', async () => {
    const db = new Database(':memory:')
    db.exec(schemaSql('own_schema'))
    const driver = new SqliteDriver({ database: db, table: 'own_schema' })
    const key = randomKey()
    await driver.write(key, makeRecord({ a: 1 }), 60_000)
    assert.ok(await driver.read(key))
    db.close()
  })

  it('works as { driver: "sqlite", path } through the SessionManager', async () => {
    const path = dbPath()
    const manager = new SessionManager({ driver: 'sqlite', path })
    const session = await manager.open()
    session.put('cart', ['apple'])
    await session.save()
    await manager.close()
    const again = new SessionManager({ driver: 'sqlite', path })
    const loaded = await again.open({ id: session.sessionId })
    assert.deepEqual(loaded.get('cart'), ['apple'], 'sessions survive a restart')
    await again.close()
  })
})

describe('sqlite driver: concurrency', () => {
  it('RACE: 200 concurrent distinct-key patches and 200 concurrent increments on one session all persist', async () => {
    const driver = new SqliteDriver({ path: dbPath() })
    const key = randomKey()
    await driver.write(key, makeRecord({ n: 0 }), 60_000)
    await Promise.all([
      ...Array.from({ length: 200 }, (_, i) =>
        driver.patch(key, [{ op: 'set', key: `k${i}`, value: codec.encode(i, `k${i}`) }], patchOptions),
      ),
      ...Array.from({ length: 200 }, () => driver.patch(key, [{ op: 'increment', key: 'n', by: 1 }], patchOptions)),
    ])
    const record = await driver.read(key)
    assert.equal(codec.decode(record?.data.n as string, 'n'), 200)
    for (let i = 0; i < 200; i++) assert.equal(codec.decode(record?.data[`k${i}`] as string, `k${i}`), i)
    await driver.close()
  })

  it('RACE: four processes sharing the file lose no increment and no distinct key (BEGIN IMMEDIATE + busy timeout)', async () => {
    const path = dbPath()
    const table = 'shared'
    const driver = new SqliteDriver({ path, table })
    const key = randomKey()
    await driver.write(key, makeRecord({ n: 0 }), 60_000)
    const worker = join(import.meta.dirname, 'sqlite-worker.ts')
    const spawn = (mode: string, from: number) =>
      run(process.execPath, ['--import', 'tsx', worker, path, table, key, mode, String(from), '50'], { cwd: process.cwd() })
    const outputs = await Promise.all([
      spawn('increment', 0),
      spawn('increment', 0),
      spawn('set', 0),
      spawn('set', 50),
      spawn('increment', 0),
      spawn('increment', 0),
      spawn('set', 100),
      spawn('set', 150),
    ])
    assert.deepEqual(
      outputs.map((output) => Number(output.stdout)),
      Array(8).fill(50),
    )
    const record = await driver.read(key)
    assert.equal(codec.decode(record?.data.n as string, 'n'), 200)
    assert.equal(Object.keys(record?.data ?? {}).length, 201)
    await driver.close()
  })
})

describe('sqlite driver: faults and corrupt rows', () => {
  const corruptions: [string, string][] = [
    ['invalid JSON data', `UPDATE tessera_sessions SET data = '{not json' WHERE key = ?`],
    ['data that is an array', `UPDATE tessera_sessions SET data = '[1,2]' WHERE key = ?`],
    ['a value that is not an encoded string', `UPDATE tessera_sessions SET data = '{"a":5}' WHERE key = ?`],
    ['a text timestamp', `UPDATE tessera_sessions SET created_at = 'yesterday' WHERE key = ?`],
    ['a fractional version', `UPDATE tessera_sessions SET version = 1.5 WHERE key = ?`],
    ['invalid JSON device', `UPDATE tessera_sessions SET device = '{' WHERE key = ?`],
    ['a binary user id', `UPDATE tessera_sessions SET user_id = x'00ff' WHERE key = ?`],
  ]
  for (const [what, sql] of corruptions) {
    it(`a row with ${what} is reported, deleted and read as no session`, async () => {
      const db = new Database(':memory:')
      const reports: CorruptRowReport[] = []
      const driver = new SqliteDriver({ database: db, onCorrupt: (report) => reports.push(report) })
      const key = randomKey()
      await driver.write(key, makeRecord({ a: 'x' }, { userId: 'u' }), 60_000)
      db.prepare(sql).run(key)
      assert.equal(await driver.read(key), null)
      assert.equal(reports.length, 1)
      assert.equal(reports[0]?.key, key)
      assert.equal(reports[0]?.table, 'tessera_sessions')
      assert.equal((db.prepare('SELECT count(*) AS n FROM tessera_sessions').get() as { n: number }).n, 0, 'the corrupt row is deleted')
      db.close()
    })
  }

  it('a patch on a corrupt row is dropped as missing and does not recreate it', async () => {
    const db = new Database(':memory:')
    let reported = 0
    const driver = new SqliteDriver({ database: db, onCorrupt: () => reported++ })
    const key = randomKey()
    await driver.write(key, makeRecord({ a: 1 }), 60_000)
    db.prepare(`UPDATE tessera_sessions SET data = 'garbage' WHERE key = ?`).run(key)
    assert.equal(await driver.patch(key, [{ op: 'increment', key: 'a', by: 1 }], patchOptions), 'missing')
    assert.equal(reported, 1)
    assert.equal(await driver.read(key), null)
    db.close()
  })

  it('a corrupt row seen through the manager is a new session, not an error', async () => {
    const path = dbPath()
    const reports: CorruptRowReport[] = []
    const manager = new SessionManager({ driver: 'sqlite', path, onCorrupt: (report: CorruptRowReport) => reports.push(report) })
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    const db = new Database(path)
    db.prepare('UPDATE tessera_sessions SET data = ? WHERE key = ?').run('{"a":', storageKeyFor(session.sessionId))
    db.close()
    const again = await manager.open({ id: session.sessionId })
    assert.equal(again.status.fresh, true)
    assert.notEqual(again.sessionId, session.sessionId)
    assert.equal(reports.length, 1)
    await manager.close()
  })

  it('an unusable database file becomes a SessionStoreError with the cause; the app keeps running', async () => {
    const path = join(folder, 'not-a-db')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(path, 'this is not a sqlite database, just text that fills the header page'.repeat(100))
    const manager = new SessionManager({ driver: 'sqlite', path })
    const id = (await new SessionManager().open()).sessionId
    await assert.rejects(manager.open({ id }), (error: unknown) => {
      assert.ok(error instanceof SessionStoreError)
      assert.match(String((error.cause as Error)?.message), /not a database/)
      return true
    })
    await manager.close()
  })
})

describe('sqlite driver: gc', () => {
  it('deletes expired rows in bounded batches and keeps live ones', async () => {
    const db = new Database(':memory:')
    const driver = new SqliteDriver({ database: db })
    await driver.read(randomKey()) // creates the table
    const insert = db.prepare(
      'INSERT INTO tessera_sessions (key, data, created_at, last_seen_at, expires_at, version) VALUES (?, ?, 0, 0, ?, 1)',
    )
    db.transaction(() => {
      for (let i = 0; i < 12_000; i++) insert.run(`expired-${i}`, '{}', Date.now() - 1_000)
    })()
    const live = randomKey()
    await driver.write(live, makeRecord({ a: 1 }), 60_000)
    const batches: number[] = []
    const removed = await driver.gcInBatches({ batchSize: 5_000, onBatch: (batch) => batches.push(batch.rows) })
    assert.equal(removed, 12_000)
    assert.deepEqual(batches, [5_000, 5_000, 2_000])
    assert.ok(await driver.read(live))
    assert.equal(await driver.gc(), 0)
    db.close()
  })
})
