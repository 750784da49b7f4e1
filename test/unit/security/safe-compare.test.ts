import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { safeEqual } from '../../../src/lib/crypto.js'

const SRC = join(import.meta.dirname, '../../../src')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : []
  })
}

/** Names that hold secrets or values derived from them. */
const SECRET = /(token|signature|\bsig\b|\bmac\b|hash|validator|secret|digest|expected|presented)/i
/** Comparisons that are not secret comparisons even when a secret-ish name is nearby. */
const HARMLESS =
  /(typeof |=== undefined|!== undefined|=== null|!== null|=== ''|!== ''|\.length|=== 'string'|\.status ===|status !==|charCodeAt|(===|!==) '[^']*')/

describe('every secret comparison is constant-time', () => {
  it('safeEqual is equality (property), including different lengths and empty inputs', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        assert.equal(safeEqual(a, b), a === b)
        assert.equal(safeEqual(a, a), true)
        assert.equal(safeEqual(Buffer.from(a), Buffer.from(b)), Buffer.from(a).equals(Buffer.from(b)))
      }),
      { numRuns: 1_000 },
    )
    assert.equal(safeEqual('', ''), true)
    assert.equal(safeEqual('a', ''), false)
  })

  it('no source line compares a token, signature, MAC, hash or validator with ===, !==, equals() or compare()', () => {
    const offenders: string[] = []
    for (const file of sources(SRC)) {
      const lines = readFileSync(file, 'utf8').split('\n')
      lines.forEach((line, index) => {
        const code = line.replace(/\/\/.*$/, '')
        if (code.trim().startsWith('*')) return
        const compares = /(===|!==|\.equals\(|Buffer\.compare\(|localeCompare\()/.test(code)
        if (!compares || !SECRET.test(code)) return
        // Strip harmless sub-expressions, then look again.
        const stripped = code
          .split(/&&|\|\|/)
          .filter(
            (part) => /(===|!==|\.equals\(|Buffer\.compare\(|localeCompare\()/.test(part) && SECRET.test(part) && !HARMLESS.test(part),
          )
        if (stripped.length > 0) offenders.push(`${file.slice(SRC.length + 1)}:${index + 1}: ${line.trim()}`)
      })
    }
    assert.deepEqual(offenders, [], `compare secrets with safeEqual():\n${offenders.join('\n')}`)
  })

  it('the places that check secrets call safeEqual', () => {
    const expectations: Record<string, RegExp> = {
      'lib/crypto.ts': /if \(!safeEqual\(expected, raw\.subarray/, // HMAC signatures (cookies, double-submit CSRF)
      'security/csrf.ts': /!safeEqual\(expected, presented\)/, // CSRF tokens
      'security/remember-me.ts': /!safeEqual\(fields\.hash, sha256\(validator\)\)/, // remember-me validators
      'security/binding.ts': /safeEqual\(bound\.ua/, // User-Agent fingerprints
    }
    for (const [file, pattern] of Object.entries(expectations)) {
      assert.match(readFileSync(join(SRC, file), 'utf8'), pattern, file)
    }
  })
})
