import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import { CookieDriver, cookieDriver } from '../../../src/drivers/cookie.js'
import type { StoredRecord } from '../../../src/drivers/contract.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { SessionConfigError, SessionCookieTooLargeError } from '../../../src/lib/errors.js'
import { generateSessionId, storageKeyFor } from '../../../src/lib/ids.js'
import { MemoryJar } from '../../helpers/memory-jar.js'

const KEY_A = 'a'.repeat(40)
const KEY_B = 'b'.repeat(40)
const TTL = 60_000

function record(data: Record<string, string>, flash: string | null = null): StoredRecord {
  const now = Date.now()
  return {
    data: Object.assign(Object.create(null) as Record<string, string>, data),
    flash,
    meta: { createdAt: now, lastSeenAt: now, expiresAt: now + TTL, version: 1 },
  }
}

function driver(options: Partial<ConstructorParameters<typeof CookieDriver>[0]> = {}, cookieName = 'sid'): CookieDriver {
  return new CookieDriver({ keyring: new Keyring([KEY_A]), ...options }, { cookieName })
}

/** Writes through one request, then reads back through a fresh request on the same jar. */
async function roundTrip(template: CookieDriver, jar: MemoryJar, key: string, value: StoredRecord): Promise<StoredRecord | null> {
  await template.forRequest(jar).write(key, value, TTL)
  return template.forRequest(jar).read(key)
}

describe('sealed cookie driver', () => {
  it('round-trips data, flash and metadata through the cookie alone', async () => {
    const jar = new MemoryJar()
    const key = storageKeyFor(generateSessionId())
    const back = await roundTrip(driver(), jar, key, record({ user: '"ada"', __proto__x: '1' }, '{"m":"hi"}'))
    assert.ok(back)
    assert.deepEqual({ ...back.data }, { user: '"ada"', __proto__x: '1' })
    assert.equal(back.flash, '{"m":"hi"}')
    assert.deepEqual([...jar.values.keys()], ['sid.data'])
    assert.equal(jar.sets[0]?.maxAge, 60, 'the cookie lives as long as the session')
    const raw = jar.get('sid.data') as string
    assert.doesNotMatch(raw, /ada/, 'the payload is encrypted')
  })

  it('reads nothing for another session key (e.g. the old id after regenerate)', async () => {
    const jar = new MemoryJar()
    const key = storageKeyFor(generateSessionId())
    await roundTrip(driver(), jar, key, record({ a: '1' }))
    assert.equal(await driver().forRequest(jar).read(storageKeyFor(generateSessionId())), null)
    await driver().forRequest(jar).destroy(storageKeyFor(generateSessionId()))
    assert.ok(await driver().forRequest(jar).read(key), 'destroying another key keeps this session')
  })

  it('compresses payloads when that makes them smaller', async () => {
    const jar = new MemoryJar()
    const data = { list: JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ item: 'repeated text', i }))) }
    const json = JSON.stringify(data).length
    await roundTrip(driver(), jar, 'k', record(data))
    assert.ok((jar.get('sid.data') as string).length < json / 3, 'deflated well below the JSON size')
    assert.equal((await driver().forRequest(jar).read('k'))?.data.list, data.list)
  })

  it('splits large sessions into numbered chunks and drops stale chunks when it shrinks', async () => {
    const jar = new MemoryJar()
    const big = { blob: randomBytes(5000).toString('base64') } // incompressible
    const back = await roundTrip(driver({ chunkSize: 3000 }), jar, 'k', record(big))
    assert.equal(back?.data.blob, big.blob)
    assert.deepEqual([...jar.values.keys()].sort(), ['sid.data', 'sid.data.1', 'sid.data.2'])
    for (const value of jar.values.values()) assert.ok(value.length <= 3002)
    await driver({ chunkSize: 3000 })
      .forRequest(jar)
      .write('k', record({ small: '1' }), TTL)
    assert.deepEqual([...jar.values.keys()], ['sid.data'])
    assert.equal((await driver({ chunkSize: 3000 }).forRequest(jar).read('k'))?.data.small, '1')
  })

  it('fails with a typed error naming the size, never writing a truncated cookie', async () => {
    const jar = new MemoryJar()
    const bound = driver({ maxChunks: 2, chunkSize: 1000 }).forRequest(jar)
    await assert.rejects(bound.write('k', record({ blob: randomBytes(3000).toString('base64') }), TTL), (error: unknown) => {
      assert.ok(error instanceof SessionCookieTooLargeError)
      assert.equal(error.code, 'E_SESSION_COOKIE_TOO_LARGE')
      assert.equal(error.limit, 2000)
      assert.ok(error.size > 2000)
      assert.match(error.message, new RegExp(`${error.size} bytes`))
      return true
    })
    assert.equal(jar.values.size, 0)
  })

  it('rejects a tampered, missing, reordered or extended chunk', async () => {
    const template = driver({ chunkSize: 1000 })
    const jar = new MemoryJar()
    await roundTrip(template, jar, 'k', record({ blob: randomBytes(2000).toString('base64') }))
    const original = new Map(jar.values)
    const variants: ((values: Map<string, string>) => void)[] = [
      (v) => v.set('sid.data.1', flip(v.get('sid.data.1') as string, 10)),
      (v) => v.set('sid.data', flip(v.get('sid.data') as string, 30)),
      (v) => v.delete('sid.data.2'),
      (v) => {
        const one = v.get('sid.data.1') as string
        v.set('sid.data.1', v.get('sid.data.2') as string)
        v.set('sid.data.2', one)
      },
      (v) => v.set('sid.data.2', `${v.get('sid.data.2')}A`),
      (v) => v.set('sid.data', `9${v.get('sid.data')}`),
    ]
    for (const [index, change] of variants.entries()) {
      const copy = new MemoryJar()
      for (const [name, value] of original) copy.values.set(name, value)
      change(copy.values)
      assert.equal(await template.forRequest(copy).read('k'), null, `variant ${index} was adopted`)
    }
  })

  it('rejects a payload copied into another cookie name or sealed with an unknown key', async () => {
    const jar = new MemoryJar()
    await roundTrip(driver(), jar, 'k', record({ a: '1' }))
    const moved = new MemoryJar()
    moved.values.set('other.data', jar.get('sid.data') as string)
    assert.equal(await driver({}, 'other').forRequest(moved).read('k'), null)
    assert.equal(
      await driver({ keyring: new Keyring([KEY_B]) })
        .forRequest(jar)
        .read('k'),
      null,
    )
    assert.ok(
      await driver({ keyring: new Keyring([KEY_B, KEY_A]) })
        .forRequest(jar)
        .read('k'),
      'a rotated key still opens it',
    )
  })

  it('rejects a cookie replayed after the expiry sealed inside it', async () => {
    const jar = new MemoryJar()
    await driver()
      .forRequest(jar)
      .write('k', record({ a: '1' }), 30)
    const copy = jar.get('sid.data') as string
    assert.ok(await driver().forRequest(jar).read('k'))
    await sleep(50)
    const replay = new MemoryJar()
    replay.values.set('sid.data', copy)
    assert.equal(await driver().forRequest(replay).read('k'), null)
  })

  it('touch re-seals with a later expiry; destroy deletes every chunk', async () => {
    const template = driver({ chunkSize: 1000 })
    const jar = new MemoryJar()
    await template.forRequest(jar).write('k', record({ blob: randomBytes(1500).toString('base64') }), 1_000)
    const before = (await template.forRequest(jar).read('k'))?.meta.expiresAt as number
    await template.forRequest(jar).touch('k', TTL)
    const after = (await template.forRequest(jar).read('k'))?.meta.expiresAt as number
    assert.ok(after > before + 30_000)
    const bound = template.forRequest(jar)
    await bound.destroy('k')
    assert.equal(jar.values.size, 0)
  })

  it('never throws on arbitrary cookie values, and never opens them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), async (head, chunk) => {
        const jar = new MemoryJar()
        jar.values.set('sid.data', head)
        jar.values.set('sid.data.1', chunk)
        assert.equal(await driver().forRequest(jar).read('k'), null)
      }),
      { numRuns: 300 },
    )
  })

  it('needs keys and a request; validates its options', async () => {
    assert.throws(() => cookieDriver(), SessionConfigError)
    assert.throws(() => cookieDriver({ keyring: new Keyring([KEY_A]), cookieName: 'sid' } as never), /unknown option "cookieName"/)
    assert.throws(() => driver({ maxChunk: 2 } as never), /Did you mean "maxChunks"/)
    assert.throws(() => driver({ maxChunks: 0 }), /maxChunks/)
    assert.throws(() => driver({ chunkSize: 5000 }), /chunkSize/)
    assert.throws(() => driver({ name: 'bad name' }), /cookie token/)
    await assert.rejects(async () => driver().read(), SessionConfigError)
  })
})

function flip(text: string, at: number): string {
  const c = text[at] === 'A' ? 'B' : 'A'
  return text.slice(0, at) + c + text.slice(at + 1)
}

describe('sealed cookie driver: times the guards rely on', () => {
  it('seals when the session was bound to its user: the start of the request that bound it, kept while the user stays', async () => {
    const template = driver()
    const jar = new MemoryJar()
    const [anonymous, bound, renewed] = [generateSessionId(), generateSessionId(), generateSessionId()].map(storageKeyFor) as [
      string,
      string,
      string,
    ]
    await template.forRequest(jar).write(anonymous, record({}), TTL)
    assert.equal((await template.forRequest(jar).read(anonymous))?.meta.boundAt, undefined, 'anonymous: no binding time')
    const login = template.forRequest(jar)
    const loginStarted = Date.now()
    await sleep(5)
    const signedIn = record({})
    signedIn.meta.userId = 'ada'
    signedIn.meta.createdAt -= 60_000 // the anonymous session is older than the login
    await login.write(bound, signedIn, TTL)
    const boundAt = (await template.forRequest(jar).read(bound))?.meta.boundAt as number
    assert.ok(boundAt >= loginStarted && boundAt < Date.now() - 4, 'the login request’s start, not the creation time')
    await sleep(5)
    await template.forRequest(jar).write(renewed, { ...signedIn, meta: { ...signedIn.meta } }, TTL) // regenerate, same user
    assert.equal((await template.forRequest(jar).read(renewed))?.meta.boundAt, boundAt, 'kept across writes and keys')
    await sleep(5)
    await template.forRequest(jar).write(renewed, { ...signedIn, meta: { ...signedIn.meta, userId: 'bob' } }, TTL)
    assert.ok(((await template.forRequest(jar).read(renewed))?.meta.boundAt as number) > boundAt, 'another user: bound anew')
  })

  it('a seal expires a lifetime after the request that wrote it began', async () => {
    const template = driver()
    const jar = new MemoryJar()
    const key = storageKeyFor(generateSessionId())
    const request = template.forRequest(jar)
    const started = Date.now()
    await sleep(20)
    await request.write(key, record({}), TTL)
    const expiresAt = (await template.forRequest(jar).read(key))?.meta.expiresAt as number
    assert.ok(expiresAt <= started + TTL + 2 && expiresAt < Date.now() + TTL - 10)
  })
})
