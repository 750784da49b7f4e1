// Sealed cookie sessions at API level (manager.open with the request's jar): with a security
// store, logout is a revocation, and a login after revokeAll stays signed in.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SessionManager } from '../../../src/manager/manager.js'
import { MemoryJar } from '../../helpers/memory-jar.js'

const KEY = 'k'.repeat(40)

function manager(withStore = true): SessionManager {
  return new SessionManager(
    withStore
      ? { drivers: { sealed: { driver: 'cookie' }, state: { driver: 'memory' } }, default: 'sealed', securityStore: 'state', keys: [KEY] }
      : { driver: 'cookie', keys: [KEY] },
  )
}

/** A copy of a browser's cookies, as an attacker would take it. */
function copy(jar: MemoryJar): MemoryJar {
  const copied = new MemoryJar()
  for (const [name, value] of jar.values) copied.values.set(name, value)
  return copied
}

async function signIn(sessions: SessionManager, jar: MemoryJar, userId: string): Promise<string> {
  const session = await sessions.open({ jar })
  await session.regenerate()
  session.auth.setUser(userId)
  await session.save()
  return session.sessionId
}

describe('sealed cookie logout with a security store', () => {
  it('RACE logout vs replay: 100 parallel loads of a copy taken before logout are all signed out', async () => {
    const sessions = manager()
    const jar = new MemoryJar()
    const id = await signIn(sessions, jar, 'ann')
    const captured = copy(jar)
    const current = await sessions.open({ id, jar })
    assert.equal(current.auth.userId, 'ann')
    await current.invalidate()
    const loads = await Promise.all(Array.from({ length: 100 }, () => sessions.open({ id, jar: copy(captured) })))
    assert.equal(loads.filter((session) => session.auth.userId !== undefined).length, 0)
    assert.ok(loads.every((session) => session.sessionId !== id))
  })

  it('without a security store a copy stays signed in after logout (documented)', async () => {
    const sessions = manager(false)
    const jar = new MemoryJar()
    const id = await signIn(sessions, jar, 'bo')
    const captured = copy(jar)
    await (await sessions.open({ id, jar })).invalidate()
    assert.equal((await sessions.open({ id, jar: captured })).auth.userId, 'bo')
  })

  it('RACE login after revokeAll: 50 anonymous sessions created before it, signed in after it, stay signed in', async () => {
    const sessions = manager()
    const jars = Array.from({ length: 50 }, () => new MemoryJar())
    const anonymous = await Promise.all(
      jars.map(async (jar) => {
        const session = await sessions.open({ jar })
        session.put('cart', 1)
        await session.save()
        return session.sessionId
      }),
    )
    const before = new MemoryJar()
    const revokedId = await signIn(sessions, before, 'cy')
    await sessions.users.revokeAll('cy')
    assert.equal((await sessions.open({ id: revokedId, jar: before })).auth.userId, undefined, 'bound before: revoked')
    const ids = await Promise.all(
      jars.map(async (jar, i) => {
        const session = await sessions.open({ id: anonymous[i], jar })
        await session.regenerate()
        session.auth.setUser('cy')
        await session.save()
        return session.sessionId
      }),
    )
    const reloaded = await Promise.all(jars.map((jar, i) => sessions.open({ id: ids[i], jar })))
    assert.deepEqual(
      reloaded.map((session) => session.auth.userId),
      Array(50).fill('cy'),
    )
  })
})
