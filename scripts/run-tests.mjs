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
import { readdirSync, statSync } from 'node:fs'
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

// The script of the one process: imports each file in turn; a file that fails to load becomes a
// failing test named after it, and the others still run.
function importAll(paths) {
  const urls = paths.map((path) => pathToFileURL(resolve(path)).href)
  return `import { test } from 'node:test'
for (const url of ${JSON.stringify(urls)}) {
  try {
    await import(url)
  } catch (error) {
    test(\`load \${url}\`, () => { throw error })
  }
}`
}
