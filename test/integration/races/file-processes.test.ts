/**
 * Logout wins across processes on the file driver (issue 11, item 1): another process patches
 * the sessions while this one destroys them. `destroy` takes the same lock file as `patch`, so a
 * patch that read a record before the destroy cannot write it back after.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { after, it } from 'node:test'
import { FileDriver } from '../../../src/drivers/file.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'

const run = promisify(execFile)
const folder = mkdtempSync(join(tmpdir(), 'tessera-file-processes-'))
after(() => rmSync(folder, { recursive: true, force: true }))

it('RACE: a patch in another process never brings back a session destroyed here (file, 50 sessions, 2 processes)', async () => {
  const driver = new FileDriver({ path: folder })
  const keys = Array.from({ length: 50 }, () => randomKey())
  await Promise.all(keys.map((key) => driver.write(key, makeRecord({ a: 1 }), 60_000)))
  const startAt = Date.now() + 2_000
  const worker = run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'file-worker.ts'), folder, String(startAt), ...keys], {
    cwd: process.cwd(),
  })
  await sleep(Math.max(0, startAt - Date.now()))
  await Promise.all(
    keys.map(async (key) => {
      await sleep(Math.floor(Math.random() * 3))
      await driver.destroy(key)
    }),
  )
  const { stdout } = await worker
  assert.equal(Number(stdout), 100, 'the worker ran every patch')
  const back = (await Promise.all(keys.map((key) => driver.read(key)))).filter(Boolean).length
  assert.equal(back, 0, `${back} of ${keys.length} destroyed sessions were written back by the other process`)
})
