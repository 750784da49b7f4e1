import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionCodec } from '../session/codec.js'
import { typedJsonSerializer } from '../lib/serializer.js'
import { supports, type Change, type SessionDriver, type StoredRecord } from '../drivers/contract.js'
import { collectExpired, touchRecord } from '../drivers/fallbacks.js'
import { emptyData } from '../drivers/record.js'
import { generateSessionId, storageKeyFor } from '../lib/ids.js'
import { logoutRaceCases } from './logout-races.js'
import { userIndexRaceCases } from './user-index-cases.js'
import { lockCases } from './conformance/lock.js'

type TestFn = (context?: unknown) => void | Promise<void>
/** The test functions of your runner: node:test's, vitest's or mocha's all fit. */
export interface TestApi {
  describe: (name: string, fn: () => void) => unknown
  it: (name: string, fn: TestFn) => unknown
  before?: (fn: TestFn) => unknown
  after?: (fn: TestFn) => unknown
}

export interface ConformanceOptions extends TestApi {
  /** Suite title, e.g. the driver name. */
  name: string
  /** Builds the driver under test (called once per suite). */
  create: () => SessionDriver | Promise<SessionDriver>
  /** Smallest expiry the store honours reliably, in ms; expiry tests wait a few of these. Default 50. */
  expiryResolution?: number
  /** Concurrent writers in the race tests. Default 50. */
  concurrency?: number
  /**
   * Builds a second driver on the same store (another connection or process): the race cases
   * then split their callers between the two. Omit it for a store that is not shared (memory).
   */
  createPeer?: () => SessionDriver | Promise<SessionDriver>
}

/** A fresh random storage key, as the core would produce. */
export function randomKey(): string {
  return storageKeyFor(generateSessionId())
}

/** A record as the core writes it, with encoded values. */
export function makeRecord(
  values: Record<string, unknown> = {},
  options: { userId?: string; flash?: Record<string, unknown> } = {},
): StoredRecord {
  const data = emptyData()
  for (const [key, value] of Object.entries(values)) data[key] = conformanceCodec.encode(value, key)
  const now = Date.now()
  return {
    data,
    flash: options.flash ? conformanceCodec.encode(options.flash, '__flash__') : null,
    meta: { createdAt: now, lastSeenAt: now, expiresAt: now + 60_000, version: 1, ...(options.userId ? { userId: options.userId } : {}) },
  }
}

const conformanceCodec = new SessionCodec(typedJsonSerializer)

function decoded(record: StoredRecord | null): Record<string, unknown> {
  assert.ok(record, 'expected a stored record')
  return Object.fromEntries(Object.entries(record.data).map(([key, value]) => [key, conformanceCodec.decode(value, key)]))
}

/**
 * The driver conformance suite: every built-in driver runs it, and so can yours:
 *
 * ```ts
 * import { describe, it, after } from 'node:test'
 * import { runDriverConformance } from 'tessera/testing'
 * runDriverConformance({ name: 'my driver', create: () => new MyDriver(), describe, it, after })
 * ```
 * Optional capabilities (patch, per-user index, lock) are tested when the driver has them; a
 * driver without `touch` or `gc` is tested through the fallbacks the core uses in their place.
 */
export function runDriverConformance(options: ConformanceOptions): void {
  const { describe, it, name } = options
  const resolution = options.expiryResolution ?? 50
  const concurrency = options.concurrency ?? 50
  let driver: SessionDriver | undefined
  const get = async (): Promise<SessionDriver> => (driver ??= await options.create())
  let peer: Promise<SessionDriver> | undefined
  options.after?.(async () => {
    await driver?.close?.()
    await (await peer)?.close?.()
  })
  const ttl = 60_000
  const patchOptions = { ttl, codec: conformanceCodec }

  describe(`${name}: driver conformance`, () => {
    describe('read / write / destroy', () => {
      it('returns null for a key that was never written', async () => {
        assert.equal(await (await get()).read(randomKey()), null)
      })

      it('round-trips a record: data, flash and metadata', async () => {
        const store = await get()
        const key = randomKey()
        const record = makeRecord(
          { name: 'Ada', n: 1, nested: { a: [1, 2] }, when: new Date(0) },
          { flash: { notice: 'hi' }, userId: 'u-1' },
        )
        await store.write(key, record, ttl)
        const back = await store.read(key)
        assert.deepEqual(decoded(back), { name: 'Ada', n: 1, nested: { a: [1, 2] }, when: new Date(0) })
        assert.deepEqual(conformanceCodec.decode(back?.flash as string, '__flash__'), { notice: 'hi' })
        assert.equal(back?.meta.userId, 'u-1')
        assert.equal(back?.meta.createdAt, record.meta.createdAt)
        assert.equal(back?.meta.version, 1)
      })

      it('keeps keys such as __proto__ and constructor as plain data', async () => {
        const store = await get()
        const key = randomKey()
        const record = makeRecord({})
        Object.defineProperty(record.data, '__proto__', {
          value: conformanceCodec.encode({ polluted: true }, '__proto__'),
          enumerable: true,
        })
        const constructorKey = 'constructor'
        record.data[constructorKey] = conformanceCodec.encode('c', constructorKey)
        await store.write(key, record, ttl)
        const back = await store.read(key)
        assert.ok(back && Object.hasOwn(back.data, '__proto__'), '__proto__ must come back as an own key')
        assert.equal(({} as Record<string, unknown>).polluted, undefined)
        assert.equal(conformanceCodec.decode(back.data[constructorKey] as string, constructorKey), 'c')
      })

      it('replaces a record on a second write', async () => {
        const store = await get()
        const key = randomKey()
        await store.write(key, makeRecord({ a: 1, b: 2 }), ttl)
        await store.write(key, makeRecord({ a: 3 }), ttl)
        assert.deepEqual(decoded(await store.read(key)), { a: 3 })
      })

      it('destroys a record, and destroying a missing record is not an error', async () => {
        const store = await get()
        const key = randomKey()
        await store.write(key, makeRecord({ a: 1 }), ttl)
        await store.destroy(key)
        assert.equal(await store.read(key), null)
        await store.destroy(key)
        await store.destroy(randomKey())
      })

      it('returns copies: changing a read record does not change the store', async () => {
        const store = await get()
        const key = randomKey()
        await store.write(key, makeRecord({ a: 1 }), ttl)
        const first = await store.read(key)
        assert.ok(first)
        first.data.a = conformanceCodec.encode(99, 'a')
        first.meta.version = 42
        const second = await store.read(key)
        assert.deepEqual(decoded(second), { a: 1 })
        assert.equal(second?.meta.version, 1)
      })

      it('treats malformed or hostile keys as unknown sessions', async () => {
        const store = await get()
        for (const key of ['../../etc/passwd', '..', '', 'a/b', 'a\\b', 'x\0y', '%2e%2e%2f']) {
          assert.equal(await store.read(key).catch(() => null), null, `read(${JSON.stringify(key)}) must find nothing`)
        }
      })
    })

    describe('expiry', () => {
      it('does not return a record after its ttl has passed', async () => {
        const store = await get()
        const key = randomKey()
        await store.write(key, makeRecord({ a: 1 }), resolution * 2)
        assert.ok(await store.read(key))
        await sleep(resolution * 5)
        assert.equal(await store.read(key), null)
      })

      it('touch extends the life of a record and refreshes lastSeenAt', async () => {
        const store = await get()
        const key = randomKey()
        await store.write(key, makeRecord({ a: 1 }), resolution * 4)
        const before = (await store.read(key))?.meta.lastSeenAt as number
        await sleep(resolution * 2)
        await touchRecord(store, key, resolution * 20)
        await sleep(resolution * 4)
        const record = await store.read(key)
        assert.deepEqual(decoded(record), { a: 1 }, 'a touched record must outlive its first ttl')
        assert.ok((record?.meta.lastSeenAt as number) > before, 'touch must move lastSeenAt forward')
      })

      it('touch on a missing record does not create it', async () => {
        const store = await get()
        const key = randomKey()
        await touchRecord(store, key, ttl)
        assert.equal(await store.read(key), null)
      })

      it('gc removes expired records and keeps live ones', async () => {
        const store = await get()
        const expired = [randomKey(), randomKey(), randomKey()]
        const live = randomKey()
        for (const key of expired) await store.write(key, makeRecord({ a: 1 }), resolution)
        await store.write(live, makeRecord({ b: 2 }), ttl)
        await sleep(resolution * 4)
        await collectExpired(store)
        for (const key of expired) assert.equal(await store.read(key), null)
        assert.deepEqual(decoded(await store.read(live)), { b: 2 })
      })
    })

    describe('patch', () => {
      const maybe = async (): Promise<(SessionDriver & Required<Pick<SessionDriver, 'patch'>>) | null> => {
        const store = await get()
        return supports(store, 'patch') ? store : null
      }

      it('applies set, delete, increment, push, flash and user changes in order', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no patch')
        const key = randomKey()
        await store.write(key, makeRecord({ keep: 'k', gone: 1, n: 5, list: ['a'] }), ttl)
        const changes: Change[] = [
          { op: 'set', key: 'added', value: conformanceCodec.encode({ deep: true }, 'added') },
          { op: 'delete', key: 'gone' },
          { op: 'increment', key: 'n', by: 2 },
          { op: 'increment', key: 'fresh', by: 3 },
          { op: 'push', key: 'list', value: conformanceCodec.encode('b', 'list') },
          { op: 'push', key: 'newList', value: conformanceCodec.encode(1, 'newList') },
          { op: 'flash', value: conformanceCodec.encode({ notice: 'saved' }, '__flash__') },
          { op: 'user', userId: 'user-7', device: { ip: '127.0.0.1', userAgent: 'test' } },
        ]
        assert.equal(await store.patch(key, changes, patchOptions), 'applied')
        const record = await store.read(key)
        assert.deepEqual(decoded(record), { keep: 'k', added: { deep: true }, n: 7, fresh: 3, list: ['a', 'b'], newList: [1] })
        assert.deepEqual(conformanceCodec.decode(record?.flash as string, '__flash__'), { notice: 'saved' })
        assert.equal(record?.meta.userId, 'user-7')
        assert.equal(record?.meta.device?.ip, '127.0.0.1')
        assert.ok((record?.meta.version as number) > 1, 'patch must bump the version')
      })

      it('clear empties the data; later changes in the same log apply', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no patch')
        const key = randomKey()
        await store.write(key, makeRecord({ a: 1, b: 2 }), ttl)
        await store.patch(key, [{ op: 'clear' }, { op: 'set', key: 'c', value: conformanceCodec.encode(3, 'c') }], patchOptions)
        assert.deepEqual(decoded(await store.read(key)), { c: 3 })
      })

      it('drops a patch for a destroyed session instead of recreating it', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no patch')
        const key = randomKey()
        await store.write(key, makeRecord({ a: 1 }), ttl)
        await store.destroy(key)
        const result = await store.patch(key, [{ op: 'set', key: 'a', value: conformanceCodec.encode(2, 'a') }], patchOptions)
        assert.equal(result, 'missing')
        assert.equal(await store.read(key), null)
      })

      it('drops a patch for an expired session', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no patch')
        const key = randomKey()
        await store.write(key, makeRecord({ a: 1 }), resolution)
        await sleep(resolution * 4)
        assert.equal(await store.patch(key, [{ op: 'increment', key: 'n', by: 1 }], patchOptions), 'missing')
        assert.equal(await store.read(key), null)
      })

      it('RACE: concurrent patches that set different keys all persist', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no patch')
        const key = randomKey()
        await store.write(key, makeRecord({}), ttl)
        await Promise.all(
          Array.from({ length: concurrency }, (_, i) =>
            store.patch(key, [{ op: 'set', key: `k${i}`, value: conformanceCodec.encode(i, `k${i}`) }], patchOptions),
          ),
        )
        const data = decoded(await store.read(key))
        assert.equal(Object.keys(data).length, concurrency)
        for (let i = 0; i < concurrency; i++) assert.equal(data[`k${i}`], i)
      })

      it('RACE: concurrent increments of one key all count', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no patch')
        const key = randomKey()
        await store.write(key, makeRecord({ n: 0 }), ttl)
        await Promise.all(Array.from({ length: concurrency }, () => store.patch(key, [{ op: 'increment', key: 'n', by: 1 }], patchOptions)))
        assert.equal(decoded(await store.read(key)).n, concurrency)
      })
    })

    describe('per-user index', () => {
      const maybe = async () => {
        const store = await get()
        return supports(store, 'listByUser') && supports(store, 'destroyByUser') ? store : null
      }

      it('lists the live sessions of a user', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no per-user index')
        const user = `user-${randomKey()}`
        const [a, b, other] = [randomKey(), randomKey(), randomKey()]
        await store.write(a, makeRecord({ x: 1 }, { userId: user }), ttl)
        await store.write(b, makeRecord({ x: 2 }, { userId: user }), ttl)
        await store.write(other, makeRecord({ x: 3 }, { userId: `${user}-other` }), ttl)
        const listed = await store.listByUser(user)
        assert.deepEqual(listed.map((s) => s.key).sort(), [a, b].sort())
        assert.ok(listed.every((s) => s.userId === user && s.expiresAt > Date.now()))
      })

      it('does not list destroyed or expired sessions (no ghosts)', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no per-user index')
        const user = `user-${randomKey()}`
        const [kept, destroyed, expiring] = [randomKey(), randomKey(), randomKey()]
        await store.write(kept, makeRecord({}, { userId: user }), ttl)
        await store.write(destroyed, makeRecord({}, { userId: user }), ttl)
        await store.write(expiring, makeRecord({}, { userId: user }), resolution)
        await store.destroy(destroyed)
        await sleep(resolution * 4)
        assert.deepEqual(
          (await store.listByUser(user)).map((s) => s.key),
          [kept],
        )
      })

      it('follows a patch that binds a session to a user', async (t?: unknown) => {
        const store = await maybe()
        if (!store || !supports(store, 'patch')) return skip(t, 'driver has no per-user index or patch')
        const user = `user-${randomKey()}`
        const key = randomKey()
        await store.write(key, makeRecord({}), ttl)
        await store.patch(key, [{ op: 'user', userId: user }], patchOptions)
        assert.deepEqual(
          (await store.listByUser(user)).map((s) => s.key),
          [key],
        )
      })

      it('destroys all sessions of a user except the ones named', async (t?: unknown) => {
        const store = await maybe()
        if (!store) return skip(t, 'driver has no per-user index')
        const user = `user-${randomKey()}`
        const keys = [randomKey(), randomKey(), randomKey()]
        for (const key of keys) await store.write(key, makeRecord({}, { userId: user }), ttl)
        const removed = await store.destroyByUser(user, { exceptKeys: [keys[0] as string] })
        assert.equal(removed, 2)
        assert.ok(await store.read(keys[0] as string))
        assert.equal(await store.read(keys[1] as string), null)
        assert.equal(await store.read(keys[2] as string), null)
        assert.deepEqual(
          (await store.listByUser(user)).map((s) => s.key),
          [keys[0]],
        )
      })
      userIndexRaceCases({ it, indexed: maybe, skip, makeRecord, randomKey, concurrency, ttl, patchOptions })
    })

    logoutRaceCases({ describe, it, get, record: makeRecord, patchOptions, concurrency })

    lockCases({
      describe,
      it,
      get,
      peer: options.createPeer
        ? () => (peer ??= Promise.resolve(options.createPeer?.() as SessionDriver | Promise<SessionDriver>))
        : undefined,
      resolution,
      concurrency,
    })
  })
}

function skip(t: unknown, reason: string): void {
  const context = t as { skip?: (message: string) => void } | undefined
  context?.skip?.(reason)
}
