import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Keyring, safeEqual } from '../../../src/lib/crypto.js'
import { SessionConfigError } from '../../../src/lib/errors.js'
import { generateSessionId, isWellFormedSessionId, storageKeyFor } from '../../../src/lib/ids.js'

const key = (): Buffer => randomBytes(32)

describe('Keyring', () => {
  it('refuses keys shorter than 32 bytes, naming the key and the fix', () => {
    assert.throws(
      () => new Keyring(['0123456789']),
      (error: unknown) => {
        assert.ok(error instanceof SessionConfigError)
        assert.equal(error.code, 'E_SESSION_CONFIG')
        assert.match(error.message, /keys\[0\] is 10 bytes long/)
        assert.match(error.message, /randomBytes\(32\)/)
        return true
      },
    )
    assert.throws(() => new Keyring([]), SessionConfigError)
  })

  it('refuses the same key listed twice', () => {
    const k = key()
    assert.throws(() => new Keyring([k, Buffer.from(k)]), /listed twice/)
  })

  it('seals with the newest key and opens with any key of the ring (rotation)', () => {
    const outsider = new Keyring([key()])
    const sealed = outsider.seal(Buffer.from('secret'))
    const ringKeys = [key(), key()]
    const before = new Keyring([ringKeys[1] as Buffer])
    const after = new Keyring(ringKeys)
    const sealedBefore = before.seal(Buffer.from('hello'))
    assert.equal(after.open(sealedBefore)?.toString(), 'hello')
    // New seals use the newest key, which the old ring cannot open.
    assert.equal(before.open(after.seal(Buffer.from('x'))), null)
    assert.equal(after.open(sealed), null, 'a key outside the ring never opens')
  })

  it('names the key id in every payload, so opening needs no trial decryption', () => {
    const k = key()
    const ring = new Keyring([k])
    const a = ring.seal(Buffer.from('a'))
    const b = ring.seal(Buffer.from('b'))
    assert.deepEqual(a.subarray(1, 5), b.subarray(1, 5))
    assert.notDeepEqual(a.subarray(5, 17), b.subarray(5, 17), 'every seal uses a fresh IV')
  })

  it('binds a payload to its context', () => {
    const ring = new Keyring([key()])
    const sealed = ring.seal(Buffer.from('v'), 'cart')
    assert.equal(ring.open(sealed, 'cart')?.toString(), 'v')
    assert.equal(ring.open(sealed, 'role'), null)
    assert.equal(ring.open(sealed), null)
  })

  it('rejects any single flipped bit or truncation (property)', () => {
    const ring = new Keyring([key()])
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (plain, at, bit) => {
        const sealed = ring.seal(plain)
        const tampered = Buffer.from(sealed)
        const index = at % tampered.length
        tampered[index] = (tampered[index] as number) ^ (1 << bit)
        assert.equal(ring.open(tampered), null)
        assert.equal(ring.open(sealed.subarray(0, sealed.length - 1)), null)
        assert.deepEqual(ring.open(sealed), Buffer.from(plain))
      }),
    )
  })

  it('signs with the newest key and reports rotated signatures', () => {
    const [newer, older] = [key(), key()]
    const oldRing = new Keyring([older])
    const ring = new Keyring([newer, older])
    assert.equal(ring.verify('value', ring.sign('value')), 'current')
    assert.equal(ring.verify('value', oldRing.sign('value')), 'rotated')
    assert.equal(ring.verify('other', ring.sign('value')), null)
    assert.equal(ring.verify('value', 'not-a-signature'), null)
    assert.equal(new Keyring([key()]).verify('value', ring.sign('value')), null)
  })
})

describe('safeEqual', () => {
  it('compares strings and bytes of equal and unequal length', () => {
    assert.equal(safeEqual('abc', 'abc'), true)
    assert.equal(safeEqual('abc', 'abd'), false)
    assert.equal(safeEqual('abc', 'abcd'), false)
    assert.equal(safeEqual(Buffer.from('x'), 'x'), true)
  })
})

describe('session ids', () => {
  it('are 256-bit, URL-safe and unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, generateSessionId))
    assert.equal(ids.size, 1000)
    for (const id of ids) {
      assert.ok(isWellFormedSessionId(id))
      assert.equal(Buffer.from(id, 'base64url').length, 32)
    }
  })

  it('are stored under their SHA-256, never raw', () => {
    const id = generateSessionId()
    const stored = storageKeyFor(id)
    assert.notEqual(stored, id)
    assert.equal(stored, storageKeyFor(id))
    assert.match(stored, /^[A-Za-z0-9_-]{43}$/)
  })

  it('reject anything but the exact shape', () => {
    for (const bad of ['', 'short', `${generateSessionId()}x`, '../../../../etc/passwd/aaaaaaaaaaaaaaaaaaaaaaa', 42, null]) {
      assert.equal(isWellFormedSessionId(bad), false)
    }
  })
})
