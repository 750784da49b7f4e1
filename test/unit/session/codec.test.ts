import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { decode, encode } from '@msgpack/msgpack'
import fc from 'fast-check'
import { SessionCodec } from '../../../src/session/codec.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { SessionSerializationError } from '../../../src/lib/errors.js'

const sealing = new Keyring([randomBytes(32)])

describe('SessionCodec', () => {
  it('any JSON value survives serialize → encrypt → decrypt → deserialize (property)', () => {
    const codec = new SessionCodec(typedJsonSerializer, sealing)
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (key, value) => {
        const encoded = codec.encode(value, key)
        assert.equal(typeof encoded, 'string')
        assert.deepEqual(codec.decode(encoded, key), value)
      }),
      { numRuns: 300 },
    )
  })

  it('rejects any single flipped byte of a sealed value (property)', () => {
    const codec = new SessionCodec(typedJsonSerializer, sealing)
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.integer({ min: 1, max: 255 }), (value, at, flip) => {
        const raw = Buffer.from(codec.encode(value, 'k'), 'base64url')
        const index = at % raw.length
        raw[index] = (raw[index] as number) ^ flip
        assert.throws(() => codec.decode(raw.toString('base64url'), 'k'), SessionSerializationError)
      }),
      { numRuns: 300 },
    )
  })

  it('refuses a sealed value moved to another key', () => {
    const codec = new SessionCodec(typedJsonSerializer, sealing)
    const sealed = codec.encode('admin', 'role')
    assert.equal(codec.decode(sealed, 'role'), 'admin')
    assert.throws(() => codec.decode(sealed, 'nickname'), /could not be decrypted/)
  })

  it('opens values sealed with an older key after rotation', () => {
    const oldKey = randomBytes(32)
    const before = new SessionCodec(typedJsonSerializer, new Keyring([oldKey]))
    const after = new SessionCodec(typedJsonSerializer, new Keyring([randomBytes(32), oldKey]))
    assert.deepEqual(after.decode(before.encode({ a: 1 }, 'k'), 'k'), { a: 1 })
  })

  it('stores plain serializer output when encryption is off', () => {
    const codec = new SessionCodec(typedJsonSerializer)
    assert.equal(codec.encode(5, 'n'), '5')
    assert.equal(codec.encode(['a'], 'l'), '["a"]')
  })

  it('works with a binary serializer such as MessagePack, with and without encryption', () => {
    const msgpack = { serialize: (value: unknown) => encode(value), deserialize: (raw: string | Uint8Array) => decode(raw as Uint8Array) }
    for (const codec of [new SessionCodec(msgpack), new SessionCodec(msgpack, sealing)]) {
      const value = { user: 'ada', roles: ['a', 'b'], n: 3 }
      assert.deepEqual(codec.decode(codec.encode(value, 'k'), 'k'), value)
    }
  })

  it('reports a serializer that returns nothing', () => {
    const codec = new SessionCodec({
      serialize: (v: unknown) => JSON.stringify(v),
      deserialize: (raw: string | Uint8Array) => JSON.parse(String(raw)),
    })
    assert.throws(() => codec.encode(undefined, 'x'), /returned undefined for "x"/)
  })

  it('matches() detects whether a value still equals its stored encoding', () => {
    for (const codec of [new SessionCodec(typedJsonSerializer), new SessionCodec(typedJsonSerializer, sealing)]) {
      const stored = codec.encode({ items: [1] }, 'cart')
      assert.equal(codec.matches({ items: [1] }, stored, 'cart'), true)
      assert.equal(codec.matches({ items: [1, 2] }, stored, 'cart'), false)
    }
  })
})
