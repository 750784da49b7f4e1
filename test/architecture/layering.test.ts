// The import rule of docs/architecture.md, checked on every module under src/: a folder imports only
// from the folders before it in LAYERS (and from itself), and no modules import each other in a
// cycle. Every import counts: runtime, `import type`, `export … from`, and `import('…')` in types
// or code (a computed `import(name)` cannot be read and is not checked).
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { before, describe, it } from 'node:test'
import ts from 'typescript'

/** The layers, lowest first: the folder (or top-level module) of src/ that each one is. */
const LAYERS: readonly (readonly string[])[] = [
  ['lib'],
  ['drivers'],
  ['config'],
  ['session'],
  ['security'],
  ['users'],
  ['metrics'],
  ['manager'],
  ['http'],
  ['admin'],
  ['aliases.ts', 'index.ts', 'driver.ts'],
]
/** May import any layer; no module of src/ may import it. */
const TESTING = 'testing'

const SRC = join(import.meta.dirname, '..', '..', 'src')

/** Module path relative to src/ → the modules of src/ it imports (same form). */
type ImportMap = ReadonlyMap<string, readonly string[]>

/** The layer index of a module, TESTING, or undefined when it is in no layer. */
function layerOf(module: string): number | typeof TESTING | undefined {
  const top = module.split('/')[0] ?? module
  if (top === TESTING) return TESTING
  const index = LAYERS.findIndex((folders) => folders.includes(top))
  return index === -1 ? undefined : index
}

function layerName(index: number): string {
  return (LAYERS[index] ?? []).join(' / ')
}

/** Every broken rule of the layering: modules outside the layers, upward imports, imports of testing. */
function layeringViolations(imports: ImportMap): string[] {
  const problems: string[] = []
  for (const [from, targets] of imports) {
    const fromLayer = layerOf(from)
    if (fromLayer === undefined) {
      problems.push(`src/${from} is in no layer (move it into one of the folders of docs/architecture.md)`)
      continue
    }
    for (const to of targets) {
      const toLayer = layerOf(to)
      if (toLayer === TESTING && fromLayer !== TESTING) {
        problems.push(`src/${from} imports src/${to}: nothing may import src/${TESTING}/`)
      } else if (fromLayer !== TESTING && typeof toLayer === 'number' && toLayer > fromLayer) {
        problems.push(`src/${from} (${layerName(fromLayer)}) imports src/${to} (${layerName(toLayer)}): upward`)
      }
    }
  }
  return problems
}

/** One cycle per group of modules that import each other (a strongly connected component), as a path. */
function importCycles(imports: ImportMap): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const targets = (module: string) => (imports.get(module) ?? []).filter((to) => imports.has(to))
  const visit = (module: string): void => {
    index.set(module, index.size)
    low.set(module, index.get(module) as number)
    stack.push(module)
    onStack.add(module)
    for (const to of targets(module)) {
      if (!index.has(to)) {
        visit(to)
        low.set(module, Math.min(low.get(module) as number, low.get(to) as number))
      } else if (onStack.has(to)) {
        low.set(module, Math.min(low.get(module) as number, index.get(to) as number))
      }
    }
    if (low.get(module) === index.get(module)) {
      const component: string[] = []
      let member: string | undefined
      do {
        member = stack.pop() as string
        onStack.delete(member)
        component.push(member)
      } while (member !== module)
      if (component.length > 1 || targets(module).includes(module)) components.push(component)
    }
  }
  for (const module of [...imports.keys()].sort()) if (!index.has(module)) visit(module)
  return components.map((component) => cycleWithin(new Set(component), targets))
}

/** A path that starts and ends at the same module, through the members of one component only. */
function cycleWithin(members: Set<string>, targets: (module: string) => string[]): string[] {
  const start = [...members].sort()[0] as string
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const module = queue.shift() as string
    for (const to of targets(module)) {
      if (!members.has(to)) continue
      if (to === start) {
        const path = [module]
        while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string)
        return [...path, start]
      }
      if (!previous.has(to)) {
        previous.set(to, module)
        queue.push(to)
      }
    }
  }
  return [start, start]
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Every module specifier a module names: import/export declarations, import() calls and types. */
function specifiers(text: string): string[] {
  const source = ts.createSourceFile('module.ts', text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text)
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression
      if (ts.isStringLiteral(expression)) found.push(expression.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments
      if (argument && ts.isStringLiteralLike(argument)) found.push(argument.text)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** The imports of every module of src/, resolved to modules of src/ (packages and node: left out). */
function srcImports(): Map<string, string[]> {
  const imports = new Map<string, string[]>()
  for (const file of sourceFiles(SRC).sort()) {
    const targets: string[] = []
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (specifier === 'tessera' || specifier.startsWith('tessera/')) {
        targets.push(`<the package itself: '${specifier}'; import by relative path inside src/>`)
        continue
      }
      if (!specifier.startsWith('.')) continue
      const base = join(dirname(file), specifier).replace(/\.js$/, '')
      const resolved = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate))
      assert.ok(resolved, `${relative(SRC, file)} imports ${specifier}, which is no module of src/`)
      targets.push(relative(SRC, resolved))
    }
    imports.set(relative(SRC, file), [...new Set(targets)])
  }
  return imports
}

describe('layering of src/ (docs/architecture.md)', () => {
  let imports: ImportMap = new Map()
  before(() => {
    imports = srcImports()
  })

  it('reads the imports of every module', () => {
    assert.ok(imports.size > 10, `found only ${imports.size} modules under src/`)
    assert.ok(
      [...imports.values()].some((targets) => targets.length > 0),
      'found no imports at all',
    )
  })

  it('no module imports upward, or from src/testing', () => {
    const problems = layeringViolations(imports)
    if (problems.length > 0) assert.fail(`${problems.length} layering violations:\n  ${problems.join('\n  ')}`)
  })

  it('no import cycle, runtime or type-only', () => {
    const cycles = importCycles(imports)
    if (cycles.length > 0) assert.fail(`${cycles.length} import cycles:\n  ${cycles.map((cycle) => cycle.join(' → ')).join('\n  ')}`)
  })
})

describe('the layering checker', () => {
  const map = (entries: Record<string, string[]>): ImportMap => new Map(Object.entries(entries))

  it('passes imports that go down or stay in their layer', () => {
    const imports = map({
      'lib/errors.ts': [],
      'lib/crypto.ts': ['lib/errors.ts'],
      'drivers/memory.ts': ['lib/errors.ts', 'drivers/contract.ts'],
      'drivers/contract.ts': [],
      'http/express.ts': ['manager/manager.ts', 'lib/errors.ts', 'drivers/contract.ts'],
      'manager/manager.ts': ['session/session.ts'],
      'session/session.ts': [],
      'admin/index.ts': ['http/express.ts'],
      'index.ts': ['aliases.ts', 'admin/index.ts'],
      'aliases.ts': ['manager/manager.ts'],
      'testing/conformance.ts': ['index.ts', 'drivers/contract.ts'],
    })
    assert.deepEqual(layeringViolations(imports), [])
    assert.deepEqual(importCycles(imports), [])
  })

  it('reports every upward import, every import of testing, and modules outside the layers', () => {
    const imports = map({
      'lib/errors.ts': ['drivers/contract.ts'],
      'drivers/contract.ts': ['session/session.ts', 'testing/conformance.ts'],
      'session/session.ts': ['http/cookies.ts'],
      'http/cookies.ts': [],
      'core/session.ts': ['lib/errors.ts'],
      'session-manager.ts': [],
      'testing/conformance.ts': [],
    })
    assert.deepEqual(layeringViolations(imports), [
      'src/lib/errors.ts (lib) imports src/drivers/contract.ts (drivers): upward',
      'src/drivers/contract.ts (drivers) imports src/session/session.ts (session): upward',
      'src/drivers/contract.ts imports src/testing/conformance.ts: nothing may import src/testing/',
      'src/session/session.ts (session) imports src/http/cookies.ts (http): upward',
      'src/core/session.ts is in no layer (move it into one of the folders of docs/architecture.md)',
      'src/session-manager.ts is in no layer (move it into one of the folders of docs/architecture.md)',
    ])
  })

  it('reports each cycle as a path, including type-only and same-layer ones', () => {
    const imports = map({
      'session/events.ts': ['session/session.ts'],
      'session/session.ts': ['session/bag.ts'],
      'session/bag.ts': ['session/events.ts'],
      'lib/a.ts': ['lib/a.ts'],
      'lib/b.ts': ['lib/c.ts'],
      'lib/c.ts': ['lib/b.ts', 'lib/errors.ts'],
      'lib/errors.ts': [],
    })
    assert.deepEqual(importCycles(imports), [
      ['lib/a.ts', 'lib/a.ts'],
      ['lib/b.ts', 'lib/c.ts', 'lib/b.ts'],
      ['session/bag.ts', 'session/events.ts', 'session/session.ts', 'session/bag.ts'],
    ])
  })

  it('reads runtime, type-only, re-export and import() specifiers', () => {
    const text = `
      import main from './default.js'
      import { named, type Mixed } from './named.js'
      import type { Only } from './type-only.js'
      import './side-effect.js'
      export { again } from './reexport.js'
      export * from './export-star.js'
      export type { Shape } from './export-type.js'
      type Client = typeof import('./type-query.js')
      const lazy = () => import('./dynamic.js')
      const computed = (name: string) => import(name)
      // import { commented } from './comment.js'
      const text = "import { inString } from './string.js'"
    `
    assert.deepEqual(specifiers(text).sort(), [
      './default.js',
      './dynamic.js',
      './export-star.js',
      './export-type.js',
      './named.js',
      './reexport.js',
      './side-effect.js',
      './type-only.js',
      './type-query.js',
    ])
  })
})
