import assert from 'node:assert/strict'
import type { PatchOptions, SessionDriver, StoredRecord } from '../drivers/contract.js'
import { supports } from '../drivers/contract.js'

/** What the per-user index race cases need from the conformance suite (passed in: no import cycle). */
export interface UserIndexCaseKit {
  it: (name: string, fn: (context?: unknown) => void | Promise<void>) => unknown
  /** The driver when it has a per-user index, else null (the case is skipped). */
  indexed: () => Promise<(SessionDriver & Required<Pick<SessionDriver, 'listByUser' | 'destroyByUser'>>) | null>
  skip: (t: unknown, reason: string) => void
  makeRecord: (values?: Record<string, unknown>, options?: { userId?: string }) => StoredRecord
  randomKey: () => string
  concurrency: number
  ttl: number
  patchOptions: PatchOptions
}

/**
 * Concurrent cases of the per-user index: listings and revocations that run while sessions are
 * being bound to the user (by write, and by a patch when the driver has one) must not lose a live
 * session from the index.
 */
export function userIndexRaceCases(kit: UserIndexCaseKit): void {
  const { it, makeRecord, randomKey, ttl } = kit
  const logins = kit.concurrency * 2

  /** `logins` parallel logins for `user` while `noise` runs in a loop; returns the keys written. */
  const loginsDuring = async (store: SessionDriver, user: string, noise: () => Promise<unknown>): Promise<string[]> => {
    let done = false
    const loops = Array.from({ length: 6 }, async () => {
      while (!done) await noise()
    })
    const keys = Array.from({ length: logins }, () => kit.randomKey())
    const viaPatch = supports(store, 'patch')
    await Promise.all(
      keys.map(async (key, i) => {
        if (viaPatch && i % 2 === 1) {
          await store.write(key, makeRecord({ n: i }), ttl)
          await store.patch?.(key, [{ op: 'user', userId: user }], kit.patchOptions)
        } else {
          await store.write(key, makeRecord({ n: i }, { userId: user }), ttl)
        }
      }),
    )
    done = true
    await Promise.all(loops)
    return keys
  }

  const assertListed = async (store: NonNullable<Awaited<ReturnType<UserIndexCaseKit['indexed']>>>, user: string, keys: string[]) => {
    const listed = new Set((await store.listByUser(user)).map((s) => s.key))
    const unlisted: string[] = []
    for (const key of keys) if ((await store.read(key)) && !listed.has(key)) unlisted.push(key)
    assert.equal(unlisted.length, 0, `${unlisted.length} live sessions are missing from listByUser`)
    await store.destroyByUser(user)
    let survivors = 0
    for (const key of keys) if (await store.read(key)) survivors++
    assert.equal(survivors, 0, `${survivors} sessions survived destroyByUser`)
  }

  it('RACE: listByUser while sessions are being bound to the user drops no index entry', async (t?: unknown) => {
    const store = await kit.indexed()
    if (!store) return kit.skip(t, 'driver has no per-user index')
    const user = `user-${randomKey()}`
    const keys = await loginsDuring(store, user, () => store.listByUser(user))
    assert.equal((await store.listByUser(user)).length, logins, 'every session written is listed')
    await assertListed(store, user, keys)
  })

  it('RACE: destroyByUser while sessions are being bound leaves no live session unlisted', async (t?: unknown) => {
    const store = await kit.indexed()
    if (!store) return kit.skip(t, 'driver has no per-user index')
    const user = `user-${randomKey()}`
    let round = 0
    const keys = await loginsDuring(store, user, () => (round++ % 3 === 0 ? store.destroyByUser(user) : store.listByUser(user)))
    await assertListed(store, user, keys)
  })
}
