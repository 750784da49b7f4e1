import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isSessionDriver, supports, type SessionDriver, type StoredRecord } from '../../../src/drivers/contract.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import { SessionManager } from '../../../src/index.js'

/** Shaped like the SessionManager custom driver of docs/seeds.md: read, write, destroy, gc — no touch. */
class DatabaseStyleDriver implements SessionDriver {
  readonly rows = new Map<string, string>()
  async read(sessionId: string): Promise<StoredRecord | null> {
    const row = this.rows.get(sessionId)
    return row ? (JSON.parse(row) as StoredRecord) : null
  }
  async write(sessionId: string, data: StoredRecord): Promise<void> {
    this.rows.set(sessionId, JSON.stringify(data))
  }
  async destroy(sessionId: string): Promise<void> {
    this.rows.delete(sessionId)
  }
  async gc(_maxLifetime: number): Promise<void> {}
}

/** Shaped like the AdonisJS-style custom driver (docs/seeds.md): read, write, destroy, touch — no gc; keeps what it is given. */
class AdonisStyleDriver implements SessionDriver {
  readonly sessions = new Map<string, StoredRecord>()
  async read(sessionId: string) {
    return this.sessions.get(sessionId) ?? null
  }
  async write(sessionId: string, values: StoredRecord) {
    this.sessions.set(sessionId, values)
  }
  async destroy(sessionId: string) {
    this.sessions.delete(sessionId)
  }
  async touch() {}
}

describe('driver contract', () => {
  it('a manager never adopts an expired session from a driver that does not filter by expiry', async () => {
    const driver = new AdonisStyleDriver()
    const manager = new SessionManager({ drivers: { main: driver }, lifetime: 0.001 }) // 60 ms
    try {
      const session = await manager.open()
      session.put('a', 1)
      await session.save()
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(driver.sessions.size, 1, 'the driver still holds the expired record')
      const again = await manager.open({ id: session.sessionId })
      assert.equal(again.status.fresh, true)
      assert.deepEqual(again.all(), {})
    } finally {
      await manager.close()
    }
  })

  it('isSessionDriver requires read, write and destroy, and nothing else', () => {
    const required = { read: async () => null, write: async () => {}, destroy: async () => {} }
    assert.equal(isSessionDriver(required), true)
    for (const method of ['read', 'write', 'destroy'] as const) {
      const { [method]: _, ...missing } = required
      assert.equal(isSessionDriver(missing), false, `without ${method}`)
    }
    assert.equal(isSessionDriver(new DatabaseStyleDriver()), true)
    assert.equal(isSessionDriver(new AdonisStyleDriver()), true)
    assert.equal(isSessionDriver(new MemoryDriver()), true)
    assert.equal(isSessionDriver(null), false)
    assert.equal(isSessionDriver({ driver: 'redis', connection: 'redis://x' }), false)
  })

  it('isSessionDriver refuses an optional capability that is not a function', () => {
    const base = { read: async () => null, write: async () => {}, destroy: async () => {} }
    assert.equal(isSessionDriver({ ...base, touch: 5 }), false)
    assert.equal(isSessionDriver({ ...base, gc: 'daily' }), false)
    assert.equal(isSessionDriver({ ...base, touch: undefined }), true)
  })

  it('supports() detects touch and gc as optional capabilities', () => {
    assert.equal(supports(new DatabaseStyleDriver(), 'touch'), false)
    assert.equal(supports(new DatabaseStyleDriver(), 'gc'), true)
    assert.equal(supports(new AdonisStyleDriver(), 'gc'), false)
    assert.equal(supports(new MemoryDriver(), 'touch'), true)
  })

  for (const [name, create] of [
    ['a driver without touch', () => new DatabaseStyleDriver()],
    ['a driver without gc', () => new AdonisStyleDriver()],
  ] as const) {
    it(`a manager works with ${name}: start, save, increment, touch on a later request, gc`, async () => {
      const manager = new SessionManager({ drivers: { main: create() }, touchAfter: 0 })
      try {
        const session = await manager.open()
        session.put('a', 1)
        await session.save()
        const again = await manager.open({ id: session.sessionId })
        again.increment('n')
        await again.save()
        const read = await manager.open({ id: session.sessionId })
        assert.deepEqual(read.all(), { a: 1, n: 1 })
        await read.save() // read-only: touches when due
        assert.equal(await manager.gc(), 0)
      } finally {
        await manager.close()
      }
    })
  }
})
