// The size limits of docs/architecture.md: a module under 400 lines, a class with about 25
// public members at most (a class past that is two classes). Checked on every module of src/.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import ts from 'typescript'

const SRC = join(import.meta.dirname, '..', '..', 'src')
const MAX_LINES = 400
/** Session's data API alone is 12 methods and its flash API 8; 27 is its whole surface today. */
const MAX_PUBLIC_MEMBERS = 27

function modules(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return modules(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Each class of a module with the names of its public members (constructor, private and # members excluded). */
function publicMembers(path: string): Map<string, string[]> {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true)
  const classes = new Map<string, string[]>()
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node.name) {
      const names = new Set<string>()
      for (const member of node.members) {
        if (ts.isConstructorDeclaration(member) || !member.name || ts.isPrivateIdentifier(member.name)) continue
        if (ts.getCombinedModifierFlags(member as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue
        names.add(member.name.getText(source))
      }
      classes.set(node.name.text, [...names])
    }
    node.forEachChild(visit)
  }
  visit(source)
  return classes
}

describe('size of src/ modules and classes', () => {
  const files = modules(SRC)

  it(`every module is under ${MAX_LINES} lines`, () => {
    const long = files
      .map((path) => ({ path: relative(SRC, path), lines: readFileSync(path, 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES)
    assert.deepEqual(long, [], 'split these modules by job')
  })

  it(`no class has more than ${MAX_PUBLIC_MEMBERS} public members`, () => {
    const large = files.flatMap((path) =>
      [...publicMembers(path)]
        .filter(([, names]) => names.length > MAX_PUBLIC_MEMBERS)
        .map(([name, names]) => `${relative(SRC, path)} ${name}: ${names.length}`),
    )
    assert.deepEqual(large, [], 'a class past this is two classes')
  })

  it('the member count sees public methods, getters and fields, and skips private ones', () => {
    const path = join(import.meta.dirname, 'fixture-class.ts')
    const members = publicMembers(path).get('Fixture')
    assert.deepEqual(members?.sort(), ['field', 'method', 'value'])
  })
})
