// Type tests of defineConfig: `default` must name one of the configured drivers. Checked by
// `npm run typecheck` (each `// @ts-expect-error` line must fail to compile); the calls that must
// compile also run, since defineConfig validates at run time too.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { expectTypeOf } from 'expect-type'
import type { SessionConfig } from 'tessera'
import { defineConfig } from '../../src/index.js'

describe('defineConfig types', () => {
  it('narrows `default` to the configured driver names', () => {
    const config = defineConfig({
      drivers: { main: { driver: 'memory' }, backup: { driver: 'memory' } },
      default: 'backup',
    })
    expectTypeOf(config).toEqualTypeOf<SessionConfig<'main' | 'backup'>>()
    expectTypeOf(config.default).toEqualTypeOf<'main' | 'backup' | undefined>()
    assert.equal(config.default, 'backup')

    const mustNotCompile = () => {
      defineConfig({
        drivers: { main: { driver: 'memory' }, backup: { driver: 'memory' } },
        // @ts-expect-error: 'mian' is not a configured driver
        default: 'mian',
      })
      defineConfig({
        drivers: { main: { driver: 'memory' } },
        // @ts-expect-error: a default needs drivers of that name
        default: 'redis',
      })
    }
    void mustNotCompile
  })

  it('takes a config without drivers or default', () => {
    const config = defineConfig({ driver: 'memory', lifetime: 30 })
    expectTypeOf(config.default).toEqualTypeOf<string | undefined>()
    assert.equal(config.lifetime, 30)
  })
})
