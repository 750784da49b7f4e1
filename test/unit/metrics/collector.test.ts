import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SessionEventEmitter, SessionEvents } from '../../../src/session/events.js'
import { MetricsCollector } from '../../../src/metrics/collector.js'
import type { SessionDriver } from '../../../src/drivers/contract.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import { SessionConfigError } from '../../../src/lib/errors.js'
import { SessionManager } from '../../../src/index.js'
import { CountingDriver } from '../../helpers/counting-driver.js'

const KEY = 'k'.repeat(32)

function manager(options: ConstructorParameters<typeof SessionManager>[0] = {}) {
  return new SessionManager({ keys: [KEY], lifetime: 60, ...(options as object) })
}

describe('manager.metrics()', () => {
  it('counts created, regenerated, invalidated and destroyed sessions, and tracks totals', async () => {
    const m = manager()
    const a = await m.open()
    a.put('n', 1)
    await a.save()
    const b = await m.open()
    b.put('n', 2)
    await b.save()
    let metrics = m.metrics()
    assert.equal(metrics.counts.created, 2)
    assert.equal(metrics.sessions.total, 2)
    assert.equal(metrics.sessions.active, 2)

    // Login: regenerate is not a creation and its old id is not an ending.
    const again = await m.open({ id: a.sessionId })
    await again.regenerate()
    again.auth.setUser('alice')
    await again.save()
    metrics = m.metrics()
    assert.equal(metrics.counts.regenerated, 1)
    assert.equal(metrics.counts.created, 2)
    assert.equal(metrics.counts.destroyed, 0)
    assert.equal(metrics.sessions.total, 2)
    assert.equal(metrics.sessions.uniqueUsers, 1)

    // Logout ends a session.
    const loaded = await m.open({ id: b.sessionId })
    await loaded.invalidate()
    metrics = m.metrics()
    assert.equal(metrics.counts.invalidated, 1)
    assert.equal(metrics.counts.destroyed, 1)
    assert.equal(metrics.sessions.total, 1)
    assert.ok(metrics.sessions.averageEndedLengthMs >= 0)
    await m.close()
  })

  it('regenerate emits no DESTROYED and ends no session: counts, totals and ended lengths stay right', async () => {
    const m = manager()
    const destroyed: string[] = []
    m.on(SessionEvents.DESTROYED, (id) => destroyed.push(id))
    const session = await m.open()
    session.put('n', 1)
    await session.save()
    const createdAt = session.status.meta?.createdAt
    const oldId = session.sessionId
    await session.regenerate()
    await session.regenerate()
    assert.deepEqual(destroyed, [], 'a regenerate retires an id; it destroys no session')
    assert.notEqual(session.sessionId, oldId)
    assert.equal(session.status.meta?.createdAt, createdAt, 'the session keeps its creation time')
    let metrics = m.metrics()
    assert.equal(metrics.counts.regenerated, 2)
    assert.equal(metrics.counts.created, 1)
    assert.equal(metrics.counts.destroyed, 0)
    assert.equal(metrics.sessions.total, 1)
    assert.equal(metrics.sessions.averageEndedLengthMs, 0, 'the retired id is not an ended session')

    await new Promise((resolve) => setTimeout(resolve, 5))
    const liveId = session.sessionId
    await session.invalidate()
    assert.deepEqual(destroyed, [liveId], 'logout is the one ending')
    metrics = m.metrics()
    assert.equal(metrics.counts.destroyed, 1)
    assert.equal(metrics.sessions.total, 0)
    assert.ok(metrics.sessions.averageEndedLengthMs >= 5, 'the ended length runs from the original creation')
    await m.close()
  })

  it('a fresh session that is never stored is not counted', async () => {
    const m = manager()
    const s = await m.open()
    await s.save() // nothing to store
    assert.equal(m.metrics().counts.created, 0)
    assert.equal(m.metrics().sessions.total, 0)
    await m.close()
  })

  it('sessions by user, uniqueUsers, and revokeAll / revokeSession remove them', async () => {
    const m = manager()
    const alice = await Promise.all([m.users.create('alice'), m.users.create('alice'), m.users.create('alice')])
    await m.users.create('bob')
    let metrics = m.metrics({ topUsers: 5 })
    assert.equal(metrics.sessions.uniqueUsers, 2)
    assert.deepEqual(metrics.sessionsByUser, [
      { userId: 'alice', sessions: 3 },
      { userId: 'bob', sessions: 1 },
    ])
    assert.deepEqual(m.metrics().sessionsByUser, [], 'top users only on request')

    assert.equal(await m.users.revoke(alice[0]!.key, { userId: 'alice' }), true)
    metrics = m.metrics({ topUsers: 5 })
    assert.equal(metrics.sessionsByUser[0]?.sessions, 2)
    assert.equal(metrics.counts.destroyed, 1)

    assert.equal(await m.users.revokeAll('alice', { except: alice[1]!.id }), 1)
    metrics = m.metrics({ topUsers: 5 })
    assert.deepEqual(metrics.sessionsByUser, [
      { userId: 'alice', sessions: 1 },
      { userId: 'bob', sessions: 1 },
    ])
    assert.equal(metrics.counts.destroyed, 2)
    assert.equal(metrics.sessions.total, 2)
    await m.close()
  })

  it('metrics() never touches the store', async () => {
    const driver = new CountingDriver()
    const m = new SessionManager(driver)
    const s = await m.open()
    s.put('x', 1)
    await s.save()
    driver.reset()
    for (let i = 0; i < 5; i++) m.metrics({ topUsers: 10 })
    assert.deepEqual(driver.calls, { read: 0, write: 0, destroy: 0, touch: 0, gc: 0, patch: 0 })
    await m.close()
  })

  it('records store latency per driver and operation, and counts store errors', async () => {
    const failing: SessionDriver = {
      name: 'flaky',
      read: () => Promise.reject(new Error('down')),
      write: () => Promise.resolve(),
      destroy: () => Promise.resolve(),
      touch: () => Promise.resolve(),
      gc: () => Promise.resolve(0),
    }
    const m = new SessionManager({ keys: [KEY], default: 'main', drivers: { main: { driver: 'memory' } } })
    m.extend('flaky', () => failing)
    const s = await m.open()
    s.put('a', 1)
    await s.save()
    const loaded = await m.open({ id: s.sessionId })
    assert.equal(loaded.get('a'), 1)
    await assert.rejects(m.open({ id: s.sessionId, driver: 'flaky' }), { code: 'E_SESSION_STORE' })
    const { drivers, errors } = m.metrics()
    assert.ok(drivers.memory, 'memory driver reported')
    assert.equal(drivers.memory.operations.write?.calls, 1)
    assert.equal(drivers.memory.operations.read?.calls, 1)
    assert.ok(drivers.memory.p50Ms <= drivers.memory.p99Ms)
    assert.equal(drivers.flaky?.errors, 1)
    assert.equal(drivers.flaky?.operations.read?.errors, 1)
    assert.equal(errors.store, 1)
    await m.close()
  })

  it('rejects bad metrics options with a message naming the option', () => {
    assert.throws(
      () => new SessionManager({ metrics: { activeWindow: 'soon' } }),
      (error: unknown) => error instanceof SessionConfigError && /metrics\.activeWindow/.test(error.message),
    )
    assert.throws(() => new SessionManager({ metrics: { samples: 0 } }), /metrics\.samples must be a positive whole number/)
  })
})

describe('MetricsCollector', () => {
  async function collectorWithSession(options = {}) {
    const events = new SessionEventEmitter()
    const collector = new MetricsCollector(events, options)
    const m = new SessionManager({ keys: [KEY], lifetime: 60 })
    // Drive a real session through a second emitter: forward the manager's events.
    for (const name of ['session:started', 'session:committed'] as const) m.on(name, (session) => events.emit(name, session))
    const s = await m.open()
    s.put('a', 1)
    await s.save()
    return { collector, m, s }
  }

  it('active means seen within the window; total drops once the expiry has passed', async () => {
    const { collector, m } = await collectorWithSession({ activeWindow: '5m' })
    const now = Date.now()
    assert.equal(collector.snapshot({}, now).sessions.active, 1)
    const later = collector.snapshot({}, now + 5 * 60_000 + 1)
    assert.equal(later.sessions.active, 0)
    assert.equal(later.sessions.total, 1)
    assert.ok(later.sessions.averageLengthMs >= 5 * 60_000)
    assert.equal(collector.snapshot({}, now + 61 * 60_000).sessions.total, 0)
    collector.close()
    await m.close()
  })

  it('keeps a bounded series of samples, oldest first', async () => {
    const { collector, m } = await collectorWithSession({ samples: 3 })
    const now = Date.now()
    for (let i = 0; i < 5; i++) collector.sample(now + i * 1000)
    const { points } = collector.snapshot({}, now + 5000).series
    assert.deepEqual(
      points.map((point) => point.at),
      [now + 2000, now + 3000, now + 4000],
    )
    assert.ok(points.every((point) => point.total === 1))
    collector.close()
    await m.close()
  })

  it('forgets the least recently seen sessions beyond maxTracked and says so', async () => {
    const events = new SessionEventEmitter()
    const collector = new MetricsCollector(events, { maxTracked: 2 })
    const m = new SessionManager(new MemoryDriver())
    m.on('session:committed', (session) => events.emit('session:committed', session))
    for (let i = 0; i < 4; i++) {
      const s = await m.open()
      s.put('i', i)
      await s.save()
    }
    const { sessions } = collector.snapshot()
    assert.equal(sessions.total, 2)
    assert.equal(sessions.untracked, 2)
    collector.close()
    await m.close()
  })

  it('latency percentiles are upper bounds within 9% of the exact value (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.002, max: 5_000, noNaN: true }), { minLength: 1, maxLength: 300 }), (durations) => {
        const collector = new MetricsCollector(new SessionEventEmitter())
        for (const ms of durations) collector.call('d', 'read', ms, 'ok')
        const stats = collector.snapshot().drivers.d
        collector.close()
        assert.ok(stats)
        const sorted = [...durations].sort((a, b) => a - b)
        for (const [q, reported] of [
          [0.5, stats.p50Ms],
          [0.95, stats.p95Ms],
          [0.99, stats.p99Ms],
        ] as const) {
          const exact = sorted[Math.ceil(q * sorted.length) - 1] as number
          // Reported values are rounded to the microsecond.
          assert.ok(reported >= exact - 0.0005, `p${q * 100} ${reported} < exact ${exact}`)
          assert.ok(reported <= exact * 1.0906 + 0.0005, `p${q * 100} ${reported} too far above ${exact}`)
        }
        assert.equal(stats.calls, durations.length)
      }),
      { numRuns: 200 },
    )
  })
})

describe('metrics: false', () => {
  it('keeps no metrics: no observer on the store, no listeners, and metrics() says why it is unavailable', async () => {
    const manager = new SessionManager({ metrics: false })
    assert.equal(manager.events.listenerCount(SessionEvents.STARTED), 0)
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    assert.throws(
      () => manager.metrics(),
      (error: unknown) => error instanceof SessionConfigError && /metrics: false/.test(error.message),
    )
    await manager.close()
  })
})
