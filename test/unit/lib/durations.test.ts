import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { parseDuration } from '../../../src/lib/durations.js'

describe('parseDuration', () => {
  it('reads each unit', () => {
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('30m'), 1_800_000)
    assert.equal(parseDuration('2h'), 7_200_000)
    assert.equal(parseDuration('7d'), 604_800_000)
    assert.equal(parseDuration('1w'), 604_800_000)
    assert.equal(parseDuration('1h30m'), 5_400_000)
    assert.equal(parseDuration('1.5h'), 5_400_000)
    assert.equal(parseDuration(' 2H '), 7_200_000)
  })

  it('takes numbers and numeric strings as milliseconds', () => {
    assert.equal(parseDuration(1500), 1500)
    assert.equal(parseDuration('1500'), 1500)
    assert.equal(parseDuration(0), 0)
  })

  it('rejects what is not a duration', () => {
    for (const bad of ['', 'h', '2 hours', '-5m', '5x', 'NaN', '1h-', {}, null, undefined, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(parseDuration(bad), null, `${String(bad)} must be rejected`)
    }
  })

  it('sums the parts of any well-formed compound duration (property)', () => {
    const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
    const part = fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])))
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (parts) => {
        const text = parts.map(([n, unit]) => `${n}${unit}`).join('')
        const expected = parts.reduce((sum, [n, unit]) => sum + n * units[unit], 0)
        assert.equal(parseDuration(text), expected)
      }),
    )
  })

  it('never throws and never returns a negative number (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.integer()), (input) => {
        const result = parseDuration(input)
        assert.ok(result === null || (Number.isFinite(result) && result >= 0))
      }),
    )
  })
})
