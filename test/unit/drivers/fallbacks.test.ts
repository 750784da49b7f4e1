import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SessionCodec } from '../../../src/session/codec.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import type { SessionDriver, StoredRecord } from '../../../src/drivers/contract.js'
import { collectExpired, patchRecord, readRecord, renameRecord, touchRecord } from '../../../src/drivers/fallbacks.js'
import { SessionTypeError } from '../../../src/lib/errors.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'

/** Only the required methods; hands out the very object it stores, as a naive custom driver does. */
function bareDriver(): SessionDriver & { stored: Map<string, StoredRecord>; writes: number } {
  const stored = new Map<string, StoredRecord>()
  return {
    stored,
    writes: 0,
    async read(key) {
      return stored.get(key) ?? null
    },
    async write(key, record) {
      this.writes += 1
      stored.set(key, record)
    },
    async destroy(key) {
      stored.delete(key)
    },
  }
}

const codec = new SessionCodec(typedJsonSerializer)

describe('driver fallbacks', () => {
  it('readRecord treats a record past its expiry as none, for drivers that do not filter by expiry', async () => {
    const driver = bareDriver()
    const [live, expired] = [randomKey(), randomKey()]
    await driver.write(live, makeRecord({ a: 1 }), 60_000)
    const old = makeRecord({ a: 2 })
    old.meta.expiresAt = Date.now() - 1
    await driver.write(expired, old, 60_000)
    assert.ok(await readRecord(driver, live))
    assert.equal(await readRecord(driver, expired), null)
    assert.equal(await patchRecord(driver, expired, [{ op: 'set', key: 'b', value: '1' }], { ttl: 60_000, codec }), 'missing')
  })

  it('touchRecord rewrites the record with the new expiry when the driver has no touch', async () => {
    const driver = bareDriver()
    const key = randomKey()
    const record = makeRecord({ a: 1 })
    record.meta.lastSeenAt -= 1_000
    await driver.write(key, record, 60_000)
    await touchRecord(driver, key, 120_000)
    const touched = driver.stored.get(key) as StoredRecord
    assert.ok(touched.meta.expiresAt > Date.now() + 100_000)
    assert.ok(touched.meta.lastSeenAt > record.meta.lastSeenAt)
    await touchRecord(driver, randomKey(), 1_000)
    assert.equal(driver.stored.size, 1, 'touching a missing record creates nothing')
  })

  it("touchRecord and collectExpired use the driver's own methods when it has them", async () => {
    const calls: string[] = []
    const driver: SessionDriver = {
      ...bareDriver(),
      touch: async () => void calls.push('touch'),
      gc: async () => {
        calls.push('gc')
        return 7
      },
    }
    await touchRecord(driver, randomKey(), 1_000)
    assert.equal(await collectExpired(driver), 7)
    assert.deepEqual(calls, ['touch', 'gc'])
  })

  it('collectExpired collects nothing for a driver without gc', async () => {
    assert.equal(await collectExpired(bareDriver()), 0)
  })

  it('patchRecord reads, applies and writes; a missing record stays missing', async () => {
    const driver = bareDriver()
    const key = randomKey()
    await driver.write(key, makeRecord({ n: 1 }), 60_000)
    const options = { ttl: 60_000, codec }
    assert.equal(await patchRecord(driver, key, [{ op: 'increment', key: 'n', by: 2 }], options), 'applied')
    assert.equal(codec.decode(driver.stored.get(key)?.data.n as string, 'n'), 3)
    assert.equal(await patchRecord(driver, randomKey(), [{ op: 'set', key: 'a', value: '1' }], options), 'missing')
  })

  it('a failing patch leaves the stored object of a driver that does not copy untouched', async () => {
    const driver = bareDriver()
    const key = randomKey()
    await driver.write(key, makeRecord({ s: 'text' }), 60_000)
    const changes = [
      { op: 'set', key: 'a', value: codec.encode(1, 'a') },
      { op: 'increment', key: 's', by: 1 },
    ] as const
    await assert.rejects(patchRecord(driver, key, changes, { ttl: 60_000, codec }), SessionTypeError)
    assert.equal(driver.stored.get(key)?.data.a, undefined)
  })

  it('renameRecord without a native rename: moves a live record, and undoes the write when the old one is gone', async () => {
    const driver = bareDriver()
    const [from, to, gone, toGone] = [randomKey(), randomKey(), randomKey(), randomKey()]
    await driver.write(from, makeRecord({ a: 1 }), 60_000)
    assert.equal(await renameRecord(driver, from, to, makeRecord({ a: 2 }), 60_000), true)
    assert.equal(driver.stored.has(from), false)
    assert.equal(driver.stored.has(to), true)
    assert.equal(await renameRecord(driver, gone, toGone, makeRecord({ a: 2 }), 60_000), false)
    assert.equal(driver.stored.has(toGone), false, 'a rename of a destroyed session writes nothing that stays')
  })

  it('RACE: renameRecord without a native rename never leaves a new key after a destroy that finished before its check (50 parallel)', async () => {
    const driver = bareDriver()
    const pairs = Array.from({ length: 50 }, () => [randomKey(), randomKey()] as const)
    for (const [from] of pairs) await driver.write(from, makeRecord({ a: 1 }), 60_000)
    // The destroys run while the renames' writes are in flight: each rename must see its old key gone.
    const renames = pairs.map(([from, to]) => renameRecord(driver, from, to, makeRecord({ a: 2 }), 60_000))
    for (const [from] of pairs) driver.stored.delete(from)
    assert.deepEqual(new Set(await Promise.all(renames)), new Set([false]))
    assert.equal(pairs.filter(([, to]) => driver.stored.has(to)).length, 0)
  })
})
