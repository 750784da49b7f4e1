import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { SessionCodec } from '../../../src/session/codec.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import type { Change } from '../../../src/drivers/contract.js'
import { PostgresDriver, schemaSql, type PgPool } from '../../../src/drivers/postgres.js'
import type { CorruptRowReport } from '../../../src/drivers/sql/rows.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { SessionConfigError, SessionStoreError } from '../../../src/lib/errors.js'
import { generateSessionId, storageKeyFor } from '../../../src/lib/ids.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'
import { adminQuery, dropTable, PG_URL, pgTestConnection, probePostgres, randomTable, reportUnreachable } from './postgres-env.js'
import { closedPort, TcpProxy } from './tcp-proxy.js'

const codec = new SessionCodec(typedJsonSerializer)
const patchOptions = { ttl: 60_000, codec }
const tables: string[] = []
/** A fresh table name, dropped after the run. */
const table = (): string => {
  const name = randomTable()
  tables.push(name)
  return name
}
const drivers: PostgresDriver[] = []
/** A driver on a fresh table, closed after the run. */
const open = (options: Partial<ConstructorParameters<typeof PostgresDriver>[0]> = {}): PostgresDriver => {
  const driver = new PostgresDriver({ connection: pgTestConnection(), table: table(), ...options })
  drivers.push(driver)
  return driver
}
const decode = (encoded: string | undefined, key: string): unknown => codec.decode(encoded as string, key)

/** Wraps a real pool and counts the statements sent, to hold the driver to its round-trip budget. */
function countingPool(pool: pg.Pool): { pool: PgPool; statements: string[] } {
  const statements: string[] = []
  const counted: PgPool = {
    query: (text, values) => {
      statements.push(text)
      return pool.query(text, values)
    },
    connect: async () => {
      const client = await pool.connect()
      return {
        query: (text: string, values?: unknown[]) => {
          statements.push(text)
          return client.query(text, values)
        },
        release: (destroy?: boolean | Error) => client.release(destroy),
      }
    },
    end: () => pool.end(),
    on: (event, listener) => pool.on(event, listener),
  }
  return { pool: counted, statements }
}

const unreachable = await probePostgres()
if (unreachable) {
  reportUnreachable(unreachable)
} else {
  after(async () => {
    await Promise.all(drivers.map((driver) => driver.close()))
    for (const name of tables) await dropTable(name)
  })

  describe('postgres driver: schema', () => {
    it('creates the table and its expiry and user indexes on first use', async () => {
      const driver = open()
      await driver.read(randomKey())
      const { rows } = await adminQuery('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [driver.table])
      assert.deepEqual(
        rows.map((row) => row.indexname),
        [`${driver.table}_expires_at_idx`, `${driver.table}_pkey`, `${driver.table}_user_id_idx`],
      )
    })

    it('eight processes starting at once on a new table all come up (advisory-locked CREATE)', async () => {
      const name = table()
      const many = Array.from({ length: 8 }, () => new PostgresDriver({ connection: PG_URL, table: name }))
      try {
        await Promise.all(many.map((driver) => driver.write(randomKey(), makeRecord({ a: 1 }), 60_000)))
        const { rows } = await adminQuery(`SELECT count(*)::int AS n FROM "${name}"`)
        assert.equal(rows[0].n, 8)
      } finally {
        await Promise.all(many.map((driver) => driver.close()))
      }
    })

    it('with createTable: false it uses the schema from schemaSql() and creates nothing itself', async () => {
      const name = table()
      const driver = open({ table: name, createTable: false })
      await assert.rejects(driver.read(randomKey()), /does not exist/)
      await adminQuery(schemaSql(name))
      const key = randomKey()
      await driver.write(key, makeRecord({ a: 1 }), 60_000)
      assert.equal(decode((await driver.read(key))?.data.a, 'a'), 1)
      assert.match(schemaSql(), /CREATE TABLE IF NOT EXISTS "tessera_sessions"/)
    })

    it('accepts a schema-qualified table', async () => {
      const schema = randomTable('tessera_schema')
      await adminQuery(`CREATE SCHEMA "${schema}"`)
      try {
        const driver = new PostgresDriver({ connection: PG_URL, table: `${schema}.sessions` })
        const key = randomKey()
        await driver.write(key, makeRecord({ a: 1 }), 60_000)
        assert.ok(await driver.read(key))
        await driver.close()
      } finally {
        await adminQuery(`DROP SCHEMA "${schema}" CASCADE`)
      }
    })

    it('refuses table names that are not identifiers, and bad options, with a config error', () => {
      for (const name of ['x; DROP TABLE users', 'a"b', '1abc', '', 'a.b.c', 'x'.repeat(49)]) {
        assert.throws(() => new PostgresDriver({ connection: PG_URL, table: name }), SessionConfigError, name)
      }
      assert.throws(() => new PostgresDriver({} as never), /"connection" must be/)
      assert.throws(() => new PostgresDriver({ connection: PG_URL, createTable: 'yes' as never }), /createTable/)
    })
  })

  describe('postgres driver: round trips', () => {
    it('read, write, touch and destroy are one statement each; a set/delete patch is one UPDATE', async () => {
      const shared = new pg.Pool({ connectionString: PG_URL })
      const { pool, statements } = countingPool(shared)
      const driver = new PostgresDriver({ connection: pool, table: table() })
      const key = randomKey()
      await driver.read(randomKey()) // first use: creates the schema
      const measure = async (work: () => Promise<unknown>): Promise<string[]> => {
        statements.length = 0
        await work()
        return statements.map((text) => text.trim().split(/\s+/)[0] as string)
      }
      assert.deepEqual(await measure(() => driver.write(key, makeRecord({ a: 1 }), 60_000)), ['INSERT'])
      assert.deepEqual(await measure(() => driver.read(key)), ['SELECT'])
      assert.deepEqual(await measure(() => driver.touch(key, 60_000)), ['UPDATE'])
      const setAndDelete: Change[] = [
        { op: 'set', key: 'b', value: codec.encode(2, 'b') },
        { op: 'delete', key: 'a' },
        { op: 'flash', value: null },
      ]
      assert.deepEqual(await measure(() => driver.patch(key, setAndDelete, patchOptions)), ['UPDATE'])
      assert.deepEqual(await measure(() => driver.patch(key, [{ op: 'increment', key: 'b', by: 1 }], patchOptions)), [
        'BEGIN',
        'SELECT',
        'UPDATE',
        'COMMIT',
      ])
      assert.deepEqual(await measure(() => driver.destroy(key)), ['DELETE'])
      await driver.close()
      assert.equal((await shared.query('SELECT 1 AS one')).rows[0].one, 1, 'close() leaves a pool it was given open')
      await shared.end()
    })

    it('keeps data keys that jsonb refuses (\\u0000) by falling back to the transaction', async () => {
      const driver = open()
      const key = randomKey()
      const odd = 'a\u0000b'
      const record = makeRecord({})
      record.data[odd] = codec.encode(1, odd)
      await driver.write(key, record, 60_000)
      assert.equal(await driver.patch(key, [{ op: 'set', key: 'c', value: codec.encode(3, 'c') }], patchOptions), 'applied')
      assert.equal(await driver.patch(key, [{ op: 'set', key: `${odd}2`, value: codec.encode(2, `${odd}2`) }], patchOptions), 'applied')
      const data = (await driver.read(key))?.data
      assert.equal(decode(data?.[odd], odd), 1)
      assert.equal(decode(data?.[`${odd}2`], `${odd}2`), 2)
      assert.equal(decode(data?.c, 'c'), 3)
    })

    it('works as { driver: "postgres", connection, table } through the SessionManager', async () => {
      const name = table()
      const manager = new SessionManager({ driver: 'postgres', connection: pgTestConnection(), table: name })
      const session = await manager.open()
      session.put('cart', ['apple'])
      await session.save()
      const again = await manager.open({ id: session.sessionId })
      again.increment('visits')
      await again.save()
      assert.equal((await manager.open({ id: session.sessionId })).get('visits'), 1)
      await manager.close()
    })
  })

  describe('postgres driver: concurrency', () => {
    it('RACE: 200 distinct-key patches (single UPDATE) and 200 increments (locked transaction) at once all persist', async () => {
      const driver = open()
      const key = randomKey()
      await driver.write(key, makeRecord({ n: 0 }), 60_000)
      const results = await Promise.all([
        ...Array.from({ length: 200 }, (_, i) =>
          driver.patch(key, [{ op: 'set', key: `k${i}`, value: codec.encode(i, `k${i}`) }], patchOptions),
        ),
        ...Array.from({ length: 200 }, () => driver.patch(key, [{ op: 'increment', key: 'n', by: 1 }], patchOptions)),
      ])
      assert.ok(results.every((result) => result === 'applied'))
      const record = await driver.read(key)
      assert.equal(decode(record?.data.n, 'n'), 200)
      for (let i = 0; i < 200; i++) assert.equal(decode(record?.data[`k${i}`], `k${i}`), i)
      assert.equal(record?.meta.version, 401, 'every patch bumps the version exactly once')
    })

    it('RACE: two processes (separate pools) incrementing one session lose nothing', async () => {
      const name = table()
      const a = open({ table: name })
      const b = open({ table: name })
      const key = randomKey()
      await a.write(key, makeRecord({ n: 0 }), 60_000)
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).patch(key, [{ op: 'increment', key: 'n', by: 1 }], patchOptions)),
      )
      assert.equal(decode((await a.read(key))?.data.n, 'n'), 200)
    })

    it('RACE: 200 increments of an encrypted value all count (values the database cannot read)', async () => {
      const sealed = new SessionCodec(typedJsonSerializer, new Keyring([Buffer.alloc(32, 7)]))
      const driver = open()
      const key = randomKey()
      const record = makeRecord({})
      record.data.n = sealed.encode(0, 'n')
      await driver.write(key, record, 60_000)
      await Promise.all(
        Array.from({ length: 200 }, () => driver.patch(key, [{ op: 'increment', key: 'n', by: 1 }], { ttl: 60_000, codec: sealed })),
      )
      const stored = (await driver.read(key))?.data.n as string
      assert.equal(sealed.decode(stored, 'n'), 200)
      assert.doesNotMatch(stored, /200/, 'the stored value is sealed')
    })

    it('a patch racing a destroy never brings the session back', async () => {
      const driver = open()
      const key = randomKey()
      await driver.write(key, makeRecord({ n: 0 }), 60_000)
      await Promise.all([
        ...Array.from({ length: 50 }, () => driver.patch(key, [{ op: 'increment', key: 'n', by: 1 }], patchOptions)),
        driver.destroy(key),
        ...Array.from({ length: 50 }, (_, i) =>
          driver.patch(key, [{ op: 'set', key: `k${i}`, value: codec.encode(i, `k${i}`) }], patchOptions),
        ),
      ])
      assert.equal(await driver.read(key), null)
    })
  })

  describe('postgres driver: corrupt rows', () => {
    const corruptions: [string, string][] = [
      ['invalid JSON data', `SET data = '{not json'`],
      ['data that is an array', `SET data = '[1,2]'`],
      ['a value that is not an encoded string', `SET data = '{"a":5}'`],
      ['invalid JSON device', `SET device = '{'`],
    ]
    for (const [what, set] of corruptions) {
      it(`a row with ${what} is reported, deleted and read as no session`, async () => {
        const reports: CorruptRowReport[] = []
        const driver = open({ onCorrupt: (report) => reports.push(report) })
        const key = randomKey()
        await driver.write(key, makeRecord({ a: 'x' }, { userId: 'u' }), 60_000)
        await adminQuery(`UPDATE "${driver.table}" ${set} WHERE key = $1`, [key])
        assert.equal(await driver.read(key), null)
        assert.deepEqual(
          reports.map((report) => [report.driver, report.table, report.key]),
          [['postgres', driver.table, key]],
        )
        assert.equal((await adminQuery(`SELECT count(*)::int AS n FROM "${driver.table}"`)).rows[0].n, 0, 'the corrupt row is deleted')
      })
    }

    it('patches of corrupt rows are dropped as missing and never repair them into sessions', async () => {
      let reported = 0
      const driver = open({ onCorrupt: () => reported++ })
      const [garbage, brokenObject, array] = [randomKey(), randomKey(), randomKey()]
      for (const key of [garbage, brokenObject, array]) await driver.write(key, makeRecord({ a: 1 }), 60_000)
      await adminQuery(`UPDATE "${driver.table}" SET data = 'garbage' WHERE key = $1`, [garbage])
      await adminQuery(`UPDATE "${driver.table}" SET data = '{"a":' WHERE key = $1`, [brokenObject])
      await adminQuery(`UPDATE "${driver.table}" SET data = '[]' WHERE key = $1`, [array])
      const set: Change[] = [{ op: 'set', key: 'b', value: codec.encode(1, 'b') }]
      assert.equal(await driver.patch(brokenObject, set, patchOptions), 'missing')
      assert.equal(reported, 1, 'the failed jsonb cast falls back to the JS path, which reports and deletes the row')
      assert.equal(await driver.patch(garbage, set, patchOptions), 'missing', 'the single UPDATE only touches JSON objects')
      assert.equal(await driver.patch(array, set, patchOptions), 'missing')
      assert.equal(await driver.patch(array, [{ op: 'increment', key: 'a', by: 1 }], patchOptions), 'missing')
      assert.equal(reported, 2, 'the JS path reports the array row')
      for (const key of [garbage, brokenObject, array]) assert.equal(await driver.read(key), null)
      assert.equal(reported, 3, 'the next read reports the remaining corrupt row')
      assert.equal((await adminQuery(`SELECT count(*)::int AS n FROM "${driver.table}"`)).rows[0].n, 0)
    })
  })

  describe('postgres driver: faults', () => {
    it('an unreachable server gives a SessionStoreError with the cause, and no crash', async () => {
      const port = await closedPort()
      const manager = new SessionManager({ driver: 'postgres', connection: `postgres://postgres@127.0.0.1:${port}/test`, table: table() })
      const id = generateSessionId()
      for (let attempt = 0; attempt < 2; attempt++) {
        await assert.rejects(manager.open({ id }), (error: unknown) => {
          assert.ok(error instanceof SessionStoreError)
          assert.equal(error.status, 503)
          assert.equal((error.cause as NodeJS.ErrnoException)?.code, 'ECONNREFUSED')
          assert.ok(!error.message.includes(id))
          return true
        })
      }
      await manager.close()
    })

    it('recovers when the server comes back: the schema is created and sessions work', async () => {
      const proxy = new TcpProxy({ host: '127.0.0.1', port: 5432 })
      const port = await proxy.start()
      await proxy.stop()
      const manager = new SessionManager({ driver: 'postgres', connection: `postgres://postgres@127.0.0.1:${port}/test`, table: table() })
      const session = await manager.open()
      session.put('a', 1)
      await assert.rejects(session.save(), SessionStoreError)
      await proxy.start()
      const retry = await manager.open()
      retry.put('a', 1)
      await retry.save()
      assert.equal((await manager.open({ id: retry.sessionId })).get('a'), 1)

      await proxy.stop() // cuts the pooled connections mid-life
      await assert.rejects(manager.open({ id: retry.sessionId }), SessionStoreError)
      await proxy.start()
      assert.equal((await manager.open({ id: retry.sessionId })).get('a'), 1)
      await manager.close()
      await proxy.stop()
    })

    it('survives pg_terminate_backend of every pooled connection', async () => {
      const application = `tessera-terminate-${randomKey().slice(0, 8)}`
      const manager = new SessionManager({
        driver: 'postgres',
        connection: { connectionString: PG_URL, application_name: application },
        table: table(),
      })
      const session = await manager.open()
      session.put('a', 1)
      await session.save()
      const { rows } = await adminQuery(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [application],
      )
      assert.ok(rows[0].n >= 1, 'the pool had connections to terminate')
      await sleep(50) // the pool hears the idle clients die and drops them
      let loaded
      try {
        loaded = await manager.open({ id: session.sessionId })
      } catch (error) {
        assert.ok(error instanceof SessionStoreError, 'a request that hits a dead connection fails as a store error')
        loaded = await manager.open({ id: session.sessionId })
      }
      assert.equal(loaded.get('a'), 1)
      await manager.close()
    })
  })

  describe('postgres driver: gc and per-user index', () => {
    it('deletes expired rows in bounded batches and keeps live ones', async () => {
      const driver = open()
      await driver.read(randomKey())
      await adminQuery(
        `INSERT INTO "${driver.table}" (key, data, created_at, last_seen_at, expires_at, version)
         SELECT 'expired-' || i, '{}', 0, 0, $1::bigint, 1 FROM generate_series(1, 12000) AS i`,
        [Date.now() - 1_000],
      )
      const live = randomKey()
      await driver.write(live, makeRecord({ a: 1 }), 60_000)
      const batches: number[] = []
      assert.equal(await driver.gcInBatches({ batchSize: 5_000, onBatch: (batch) => batches.push(batch.rows) }), 12_000)
      assert.deepEqual(batches, [5_000, 5_000, 2_000])
      assert.ok(await driver.read(live))
      assert.equal(await driver.gc(), 0)
    })

    it('gc skips an expired row that a transaction holds locked instead of waiting for it', async () => {
      const driver = open()
      const [locked, free] = [randomKey(), randomKey()]
      await driver.write(locked, makeRecord({}), 1)
      await driver.write(free, makeRecord({}), 1)
      await sleep(10)
      const holder = new pg.Client({ connectionString: PG_URL })
      await holder.connect()
      try {
        await holder.query('BEGIN')
        await holder.query(`SELECT 1 FROM "${driver.table}" WHERE key = $1 FOR UPDATE`, [locked])
        assert.equal(await driver.gc(), 1, 'gc returns while the lock is held (it would hang otherwise)')
        await holder.query('COMMIT')
      } finally {
        await holder.end()
      }
      assert.equal(await driver.gc(), 1)
    })

    it('destroyByUser counts live sessions only and keeps the excepted ones', async () => {
      const driver = open()
      const user = `user-${randomKey()}`
      const [kept, live, expired] = [randomKey(), randomKey(), randomKey()]
      await driver.write(kept, makeRecord({}, { userId: user }), 60_000)
      await driver.write(live, makeRecord({}, { userId: user }), 60_000)
      await driver.write(expired, makeRecord({}, { userId: user }), 1)
      await sleep(10)
      assert.equal(await driver.destroyByUser(user, { exceptKeys: [kept] }), 1)
      assert.deepEqual(
        (await driver.listByUser(user)).map((summary) => summary.key),
        [kept],
      )
      assert.equal((await adminQuery(`SELECT count(*)::int AS n FROM "${driver.table}" WHERE user_id = $1`, [user])).rows[0].n, 1)
    })

    it('a session bound to a user through the manager is listed and revoked by user', async () => {
      const manager = new SessionManager({ driver: 'postgres', connection: pgTestConnection(), table: table() })
      const a = await manager.users.create('alice', { role: 'user' }, { device: { name: 'Firefox on Linux' } })
      const b = await manager.users.create('alice', { role: 'user' })
      const listed = await manager.users.list('alice')
      assert.deepEqual(listed.map((s) => s.key).sort(), [a.key, b.key].sort())
      assert.equal(listed.find((s) => s.key === a.key)?.deviceName, 'Firefox on Linux')
      assert.equal(a.key, storageKeyFor(a.id))
      const idA = a.id
      await manager.users.revokeAll('alice', { except: idA })
      assert.deepEqual(
        (await manager.users.list('alice')).map((s) => s.key),
        [a.key],
      )
      await manager.close()
    })
  })
}
