import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkOptions } from '../../../src/drivers/options.js'

interface Options {
  connection?: string
  prefix?: string
}
const NAMES = { connection: true, prefix: true } as const

describe('driver option checks', () => {
  it('passes known options through and treats no options as none', () => {
    assert.deepEqual(checkOptions<Options>('x', { prefix: 'p' }, NAMES), { prefix: 'p' })
    assert.deepEqual(checkOptions<Options>('x', undefined, NAMES), {})
  })

  it('refuses a non-object and an unknown key, naming the closest known one', () => {
    assert.throws(() => checkOptions<Options>('x', 'redis://' as never, NAMES), /x driver: options must be an object, got string/)
    assert.throws(
      () => checkOptions<Options>('x', { prefx: 'p' } as never, NAMES),
      /x driver: unknown option "prefx"\. Did you mean "prefix"\?/,
    )
  })
})
