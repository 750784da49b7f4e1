import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'

describe('memory driver', () => {
  it('frees expired sessions without a gc call (writes sweep what is due)', async () => {
    const driver = new MemoryDriver()
    for (let i = 0; i < 500; i++) await driver.write(randomKey(), makeRecord({ i }), 20)
    await sleep(40)
    await driver.write(randomKey(), makeRecord({}), 60_000)
    await driver.write(randomKey(), makeRecord({}), 60_000)
    // Each write sweeps a bounded batch; a few writes free everything that expired.
    for (let i = 0; i < 10; i++) await driver.write(randomKey(), makeRecord({}), 60_000)
    assert.equal(driver.size, 12)
  })

  it('gc removes exactly the expired sessions and reports how many', async () => {
    const driver = new MemoryDriver()
    for (let i = 0; i < 30; i++) await driver.write(randomKey(), makeRecord({}), 10)
    const live = randomKey()
    await driver.write(live, makeRecord({ a: 1 }), 60_000)
    await sleep(30)
    assert.equal(await driver.gc(), 30)
    assert.ok(await driver.read(live))
  })

  it('a touched session is not swept at its old expiry', async () => {
    const driver = new MemoryDriver()
    const key = randomKey()
    await driver.write(key, makeRecord({}), 30)
    await driver.touch(key, 60_000)
    await sleep(50)
    assert.equal(await driver.gc(), 0)
    assert.ok(await driver.read(key))
  })

  it('maxSessions bounds memory by evicting the session closest to expiry', async () => {
    const driver = new MemoryDriver({ maxSessions: 3 })
    const soonest = randomKey()
    await driver.write(soonest, makeRecord({}), 1_000)
    for (let i = 0; i < 3; i++) await driver.write(randomKey(), makeRecord({}), 60_000)
    assert.equal(driver.size, 3)
    assert.equal(await driver.read(soonest), null)
  })
})
