// The typecheck reads the sources, never a stale dist/: tsconfig.json maps the package's own name and
// every subpath of package.json "exports" to the source file that dist/ is built from.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import ts from 'typescript'

const root = join(import.meta.dirname, '..', '..')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string
  exports: Record<string, string | { types: string; default: string }>
}

function compilerOptions(file: string): { paths?: Record<string, string[]> } {
  const { config, error } = ts.readConfigFile(join(root, file), ts.sys.readFile)
  assert.equal(error, undefined, `${file} does not parse`)
  return (config as { compilerOptions: { paths?: Record<string, string[]> } }).compilerOptions
}

describe('tsconfig paths', () => {
  it('map every export of package.json to the source it is built from', () => {
    const expected: Record<string, string[]> = {}
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue
      const name = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`
      expected[name] = [target.types.replace(/^\.\/dist\//, './src/').replace(/\.d\.ts$/, '.ts')]
    }
    assert.deepEqual(compilerOptions('tsconfig.json').paths, expected)
    for (const [name, [source]] of Object.entries(expected)) {
      assert.ok(source && existsSync(join(root, source)), `${name} → ${source}, which does not exist`)
    }
  })

  it('are dropped for the test runs, which load the built package', () => {
    assert.deepEqual(compilerOptions('tsconfig.dist.json').paths, {})
    assert.match(readFileSync(join(root, 'scripts', 'run-tests.mjs'), 'utf8'), /TSX_TSCONFIG_PATH.*tsconfig\.dist\.json/)
  })
})
