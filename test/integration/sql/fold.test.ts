import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { SessionCodec } from '../../../src/session/codec.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import { applyChanges } from '../../../src/drivers/apply.js'
import type { Change, StoredRecord } from '../../../src/drivers/contract.js'
import { PostgresDriver } from '../../../src/drivers/postgres.js'
import { foldChanges } from '../../../src/drivers/sql/fold.js'
import { cloneRecord, emptyData } from '../../../src/drivers/record.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'
import { dropTable, PG_URL, probePostgres, randomTable, reportUnreachable } from './postgres-env.js'

const codec = new SessionCodec(typedJsonSerializer)
// Few distinct keys, so sets, deletes and clears of the same key interleave often.
const dataKey = fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor', 'ü €')
const encoded = fc.jsonValue().map((value) => codec.encode(value, 'v'))
const device = fc.record({ ip: fc.ipV4(), userAgent: fc.string({ maxLength: 20 }) }, { requiredKeys: [] })
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: dataKey, value: encoded }),
  fc.record({ op: fc.constant('delete' as const), key: dataKey }),
  fc.constant({ op: 'clear' as const }),
  fc.record({ op: fc.constant('flash' as const), value: fc.option(encoded, { nil: null }) }),
  fc.record(
    {
      op: fc.constant('user' as const),
      userId: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: null }),
      device: fc.option(device, { nil: undefined }),
    },
    { requiredKeys: ['op', 'userId'] },
  ),
)
const changeLog = fc.array(change, { maxLength: 12 })
const start = fc.dictionary(dataKey, encoded, { maxKeys: 4 })

function recordWith(data: Record<string, string>): StoredRecord {
  const record = makeRecord({}, { userId: 'u0' })
  record.data = Object.assign(emptyData(), data)
  return record
}

/** What a folded log does to a record, applied the way the SQL UPDATE does. */
function applyFolded(record: StoredRecord, changes: readonly Change[]): StoredRecord {
  const folded = foldChanges(changes)
  assert.ok(folded)
  const next = cloneRecord(record)
  if (folded.cleared) next.data = emptyData()
  for (const key of folded.deletes) delete next.data[key]
  Object.assign(next.data, folded.sets)
  if (folded.flash) next.flash = folded.flash.value
  if (folded.user) {
    if (folded.user.userId === null) delete next.meta.userId
    else next.meta.userId = folded.user.userId
    if (folded.user.device) next.meta.device = folded.user.device
  }
  return next
}

const comparable = (record: StoredRecord | null) =>
  record && { data: { ...record.data }, flash: record.flash, userId: record.meta.userId, device: record.meta.device }

describe('folding a change log for a single SQL UPDATE', () => {
  it('property: folding set/delete/clear/flash/user equals applying the log in order', () => {
    fc.assert(
      fc.property(start, changeLog, (data, changes) => {
        const expected = applyChanges(recordWith(data), changes, codec, 60_000)
        assert.deepEqual(comparable(applyFolded(recordWith(data), changes)), comparable(expected))
      }),
      { numRuns: 500 },
    )
  })

  it('refuses logs with increment or push: their values need the codec', () => {
    assert.equal(
      foldChanges([
        { op: 'set', key: 'a', value: '1' },
        { op: 'increment', key: 'n', by: 1 },
      ]),
      null,
    )
    assert.equal(foldChanges([{ op: 'push', key: 'l', value: '1' }]), null)
  })
})

const unreachable = await probePostgres()
if (unreachable) {
  reportUnreachable(unreachable)
} else {
  const table = randomTable()
  const driver = new PostgresDriver({ connection: PG_URL, table })
  after(async () => {
    await driver.close()
    await dropTable(table)
  })

  describe('postgres single-UPDATE patch', () => {
    it('property: the jsonb UPDATE stores what applyChanges computes', async () => {
      await fc.assert(
        fc.asyncProperty(start, changeLog, async (data, changes) => {
          const key = randomKey()
          await driver.write(key, recordWith(data), 60_000)
          assert.equal(await driver.patch(key, changes, { ttl: 60_000, codec }), 'applied')
          const expected = applyChanges(recordWith(data), changes, codec, 60_000)
          assert.deepEqual(comparable(await driver.read(key)), comparable(expected))
        }),
        { numRuns: 60 },
      )
    })
  })
}
