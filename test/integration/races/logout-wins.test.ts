/**
 * Logout and revokeAll win over requests in flight (issue 11, items 1 and 3), on every server
 * store, with the writer and the revoker on two managers over two connections to the same data
 * (memory: one driver). A gate holds the writers' store writes while the logouts / revocations
 * run to completion, so every round is the race; the parallel variants add jitter instead.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SessionManager } from '../../../src/manager/manager.js'
import type { Session } from '../../../src/session/session.js'
import { Gate, jitter, raceStores, slowWrites, type RaceStore } from './stores.js'

const N = 50
const KEYS = ['k'.repeat(32)]
const stores = await raceStores({ cluster: true })
after(async () => {
  for (const store of stores) await store.cleanup()
})

/** Writer (its writes held at the gate) and revoker, on two connections to the same store. */
function managers(store: RaceStore, gate: Gate): { writer: SessionManager; revoker: SessionManager } {
  const manager = (driver: ReturnType<RaceStore['connect']>) => new SessionManager({ drivers: { main: driver }, keys: KEYS })
  return { writer: manager(slowWrites(store.connect(), gate.hold)), revoker: manager(store.connect()) }
}

/** How many distinct sessions of `users` are still live: listed for a user, or signed in under one of `ids`. */
async function survivors(manager: SessionManager, users: string[], ids: string[]): Promise<number> {
  const alive = new Set<string>()
  for (const user of users) for (const { key } of await manager.users.list(user)) alive.add(key)
  for (const id of ids) {
    const found = await manager.users.get(id)
    if (found?.userId) alive.add(found.key)
  }
  return alive.size
}

const tag = () => Math.random().toString(36).slice(2, 8)

for (const store of stores) {
  describe(`logout wins on ${store.name}`, { skip: store.skip ?? false }, () => {
    const gate = new Gate()
    let writer: SessionManager
    let revoker: SessionManager
    before(async () => {
      ;({ writer, revoker } = managers(store, gate))
      // Connect first: a cold Redis client refuses commands while it connects (issue 11, M10).
      for (const manager of [writer, revoker]) await manager.users.list('warm-up')
    })

    /** N signed-in sessions (created by the revoker), each opened by the writer. */
    const signedIn = async (): Promise<{ users: string[]; sessions: Session[] }> => {
      const t = tag()
      const users = Array.from({ length: N }, (_, i) => `user-${t}-${i}`)
      const created = await Promise.all(users.map((user) => revoker.users.create(user, { role: 'user' })))
      const sessions = await Promise.all(created.map(({ id }) => writer.open({ id })))
      return { users, sessions }
    }

    it(`RACE: a regenerate in flight does not bring a session back after logout (${N} parallel)`, async () => {
      const { users, sessions } = await signedIn()
      const oldIds = sessions.map((session) => session.sessionId)
      gate.close()
      const inFlight = sessions.map(async (session) => {
        await session.regenerate()
        session.put('role', 'elevated')
        await session.save()
      })
      await gate.held(N)
      await Promise.all(oldIds.map(async (id) => (await revoker.open({ id })).invalidate()))
      gate.open()
      await Promise.all(inFlight)
      const ids = sessions.map((session) => session.sessionId)
      assert.equal(await survivors(revoker, users, [...oldIds, ...ids]), 0, 'a logged-out session is signed in again')
    })

    it(`RACE: a regenerate in flight does not bring a session back after revokeAll (${N} parallel)`, async () => {
      const { users, sessions } = await signedIn()
      gate.close()
      const inFlight = sessions.map((session) => session.regenerate())
      await gate.held(N)
      await Promise.all(users.map((user) => revoker.users.revokeAll(user)))
      gate.open()
      await Promise.all(inFlight)
      assert.equal(
        await survivors(
          revoker,
          users,
          sessions.map((s) => s.sessionId),
        ),
        0,
      )
    })

    it(`RACE: a login in flight (new session, anonymous session, users.create) does not outlive revokeAll (${N} parallel)`, async () => {
      const t = tag()
      const users = Array.from({ length: N }, (_, i) => `login-${t}-${i}`)
      const anonymous = await Promise.all(
        users.map(async () => {
          const seed = await writer.open()
          seed.put('cart', 1)
          await seed.save()
          return writer.open({ id: seed.sessionId })
        }),
      )
      const fresh = await Promise.all(users.map(() => writer.open()))
      gate.close()
      const inFlight = users.flatMap((user, i) => {
        const [a, f] = [anonymous[i] as Session, fresh[i] as Session]
        a.auth.setUser(user)
        f.auth.setUser(user)
        return [a.save(), f.save(), writer.users.create(user, { via: 'api' })]
      })
      await gate.held(3 * N)
      await Promise.all(users.map((user) => revoker.users.revokeAll(user)))
      gate.open()
      await Promise.allSettled(inFlight)
      const ids = [...anonymous, ...fresh].map((s) => s.sessionId)
      assert.equal(await survivors(revoker, users, ids), 0, 'a login that started before revokeAll survived it')
    })

    it(`RACE: regenerate and login racing revokeAll with no gate leave nothing of the user (${N} parallel)`, async () => {
      const { users, sessions } = await signedIn()
      const logins = await Promise.all(users.map(() => writer.open()))
      const results = await Promise.all(
        users.map((user, i) =>
          Promise.allSettled([
            jitter().then(() => (sessions[i] as Session).regenerate()),
            jitter().then(() => {
              const login = logins[i] as Session
              login.auth.setUser(user)
              return login.save()
            }),
            jitter().then(() => revoker.users.revokeAll(user)),
          ]),
        ),
      )
      assert.deepEqual(
        results.flat().filter((r) => r.status === 'rejected'),
        [],
      )
      const ids = [...sessions, ...logins].map((s) => s.sessionId)
      assert.equal(await survivors(revoker, users, ids), 0)
    })

    it(`RACE: a commit in flight does not bring a logged-out session back (${N} parallel)`, async () => {
      const { users, sessions } = await signedIn()
      gate.close()
      const inFlight = sessions.map(async (session) => {
        session.put('late', 'x'.repeat(2048))
        await session.save()
        session.put('again', true) // a second save in the same request must not write it back either
        await session.save()
      })
      await gate.held(N)
      await Promise.all(sessions.map(async (session) => (await revoker.open({ id: session.sessionId })).invalidate()))
      gate.open()
      await Promise.all(inFlight)
      assert.equal(await survivors(revoker, users, []), 0)
    })
  })
}
