import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { typedJsonSerializer as serializer } from '../../../src/lib/serializer.js'
import { SessionSerializationError } from '../../../src/lib/errors.js'

const roundTrip = (value: unknown): unknown => serializer.deserialize(serializer.serialize(value))

describe('typed JSON serializer', () => {
  it('keeps Date, BigInt, Map, Set, Buffer, Uint8Array and special numbers', () => {
    const value = {
      date: new Date('2024-05-06T07:08:09.010Z'),
      big: 12345678901234567890n,
      negativeBig: -5n,
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set([new Date(0)])],
      ]),
      set: new Set(['x', 'y']),
      buffer: Buffer.from([1, 2, 3]),
      bytes: new Uint8Array([250, 0, 7]),
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      negInf: Number.NEGATIVE_INFINITY,
      negZero: -0,
      undef: undefined,
      nested: [{ deep: [new Map([['k', 1n]])] }],
    }
    const back = roundTrip(value) as typeof value
    assert.deepEqual(back, value)
    assert.ok(back.date instanceof Date)
    const invalid = roundTrip(new Date(Number.NaN))
    assert.ok(invalid instanceof Date && Number.isNaN(invalid.getTime()))
    assert.equal(typeof back.big, 'bigint')
    assert.ok(back.map instanceof Map && back.set instanceof Set)
    assert.ok(Buffer.isBuffer(back.buffer))
    assert.ok(back.bytes instanceof Uint8Array && !Buffer.isBuffer(back.bytes))
    assert.ok(Object.is(back.negZero, -0))
    assert.ok(Object.hasOwn(back, 'undef'))
  })

  it('round-trips any JSON value exactly (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => assert.deepEqual(roundTrip(value), value)),
      { numRuns: 500 },
    )
  })

  it('round-trips objects whose keys look like its own tags (property)', () => {
    const keys = fc.constantFrom('$t', '$$t', '$', 'v', '$v', '__proto__', 'constructor', 'a')
    const tricky = fc.dictionary(keys, fc.jsonValue(), { maxKeys: 5, noNullPrototype: true })
    fc.assert(fc.property(tricky, (value) => assert.deepEqual(roundTrip(value), value)))
    assert.deepEqual(roundTrip({ $t: 'date', v: '2020-01-01' }), { $t: 'date', v: '2020-01-01' })
  })

  it('refuses functions, symbols, cycles and class instances, naming where they are', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    class User {
      name = 'x'
    }
    const cases: [unknown, RegExp][] = [
      [() => 1, /a function/],
      [{ user: { callback() {} } }, /a function at "user\.callback"/],
      [Symbol('s'), /a symbol/],
      [cyclic, /cyclic reference at "self"/],
      [[1, [2, new User()]], /instance of User at "\[1\]\[1\]"/],
    ]
    for (const [value, message] of cases) {
      assert.throws(
        () => serializer.serialize(value),
        (error: unknown) => {
          assert.ok(error instanceof SessionSerializationError)
          assert.match(error.message, message)
          return true
        },
      )
    }
  })

  it('allows shared (non-cyclic) references and uses toJSON when a class has it', () => {
    const shared = { n: 1 }
    assert.deepEqual(roundTrip({ a: shared, b: shared }), { a: { n: 1 }, b: { n: 1 } })
    class Money {
      toJSON() {
        return { cents: 5 }
      }
    }
    assert.deepEqual(roundTrip({ price: new Money() }), { price: { cents: 5 } })
  })

  it('never lets __proto__ from stored data reach a prototype', () => {
    const back = serializer.deserialize('{"__proto__":{"polluted":true},"a":{"__proto__":{"x":1}},"$$t":1}') as Record<string, unknown>
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(Object.getPrototypeOf(back), Object.prototype)
    assert.ok(Object.hasOwn(back, '__proto__'))
    assert.equal((back.a as Record<string, unknown>).x, undefined)
    assert.deepEqual(back.$t, 1)
  })

  it('rejects unknown tags from a store instead of guessing', () => {
    assert.throws(() => serializer.deserialize('{"$t":"evil","v":1}'), SessionSerializationError)
    assert.throws(() => serializer.deserialize('{"$t":"big","v":"1.5"}'), SessionSerializationError)
  })
})
