import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { SessionDriver, StoredRecord } from '../../../src/drivers/contract.js'
import { SessionConfigError } from '../../../src/lib/errors.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { rememberMe } from '../../../src/security/remember-me.js'

/** A custom driver with the required methods and a per-user index, but no `lock`. */
function lockless(): SessionDriver {
  const records = new Map<string, StoredRecord>()
  return {
    name: 'lockless',
    read: async (key) => records.get(key) ?? null,
    write: async (key, record) => void records.set(key, record),
    destroy: async (key) => void records.delete(key),
    listByUser: async () => [],
    destroyByUser: async () => 0,
  }
}

const KEYS = { keys: ['k'.repeat(40)] }

describe('a driver without lock is refused where an atomic security step needs it', () => {
  it('rateLimit.create on a lockless security store: SessionConfigError at construction, naming the capability', () => {
    assert.throws(
      () =>
        new SessionManager({
          drivers: { main: lockless() },
          default: 'main',
          rateLimit: { create: { points: 3, duration: '1h' } },
          ...KEYS,
        }),
      (error: unknown) =>
        error instanceof SessionConfigError && /rateLimit\.create needs a driver that can lock.*"lockless"/.test(error.message),
    )
  })

  it('maxSessionsPerUser on a lockless driver with a per-user index: SessionConfigError at construction', () => {
    assert.throws(
      () => new SessionManager({ drivers: { main: lockless() }, default: 'main', maxSessionsPerUser: 2, ...KEYS }),
      (error: unknown) => error instanceof SessionConfigError && /maxSessionsPerUser needs a driver that can lock/.test(error.message),
    )
  })

  it('a driver made by a factory is checked when it is first built', async () => {
    const manager = new SessionManager({ maxSessionsPerUser: 2, ...KEYS })
    manager.extend('lockless', () => lockless())
    await assert.rejects(manager.open({ driver: 'lockless' }), SessionConfigError)
    await manager.close()
  })

  it('remember-me on a lockless security store refuses to spend a token (it could not be single-use)', async () => {
    const manager = new SessionManager({ drivers: { main: lockless() }, default: 'main', ...KEYS })
    const remember = rememberMe(manager)
    const token = await remember.issue('u1')
    await assert.rejects(
      remember.consume(token.value),
      (error: unknown) => error instanceof SessionConfigError && /rememberMe/.test(error.message),
    )
    await manager.close()
  })

  it('a lockless driver without these features still works', async () => {
    const manager = new SessionManager({ drivers: { main: lockless() }, default: 'main', ...KEYS })
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    await manager.close()
  })
})
