#!/usr/bin/env node
// Runs every test file under test/ (or the folders/files given as arguments) with node's test
// runner and tsx. Exit code: non-zero when any test fails.
//
//   node scripts/run-tests.mjs [--one-process] [folder or file ...]
//
// By default each file runs in its own process (two at a time), as `node --test` does. With
// --one-process all files are imported into one process: no per-file start-up, so the unit tests
// take seconds instead of half a minute. Use it only for tests that start no servers and leave no
// global state behind (npm run test:unit).
//
// 'tessera' and 'tessera/…' load the built package (dist/) at run time, the way an app imports
// it: tsx reads tsconfig.dist.json, which leaves out the source "paths" the typecheck uses.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

function collect(path, found) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), found)
  } else if (/\.test\.(ts|mts|js|mjs)$/.test(path)) {
    found.push(path)
  }
  return found
}

const args = process.argv.slice(2)
const oneProcess = args.includes('--one-process')
const roots = args.filter((arg) => arg !== '--one-process')
const files = (roots.length > 0 ? roots : ['test']).flatMap((root) => collect(root, []))
if (files.length === 0) {
  console.error('No test files found.')
  process.exit(1)
}

const env = { ...process.env, TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH ?? 'tsconfig.dist.json' }
const command = oneProcess ? ['--input-type=module', '--eval', importAll(files)] : ['--test', '--test-concurrency=2', ...files]
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test-timeout=120000', ...command], { stdio: 'inherit', env })
process.exit(result.status ?? 1)

// The script of the one process. Tests start running as soon as a file registers them, so the
// modules every file imports are loaded first: loading later files while the first ones run would
// stall their timers (a 100 ms timing test fails while tsx compiles the next file). Then each file
// is imported in turn; a file that fails to load becomes a failing test named after it.
function importAll(paths) {
  const urls = paths.map((path) => pathToFileURL(resolve(path)).href)
  const preload = paths.flatMap((path, index) => staticImports(path).map((specifier) => [specifier, urls[index]]))
  return `import { test } from 'node:test'
for (const [specifier, parent] of ${JSON.stringify(preload)}) {
  const url = specifier.startsWith('.') ? new URL(specifier, parent).href : specifier
  await import(url).catch(() => undefined)
}
for (const url of ${JSON.stringify(urls)}) {
  try {
    await import(url)
  } catch (error) {
    test(\`load \${url}\`, () => { throw error })
  }
}`
}

/** The modules a test file imports for their values (`import type` lines load nothing). */
function staticImports(path) {
  const text = readFileSync(path, 'utf8')
  const found = []
  for (const match of text.matchAll(/^import\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) found.push(match[1])
  return found
}
