import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { SqliteDriver } from '../../src/drivers/sqlite.js'
import { runDriverConformance } from '../../src/testing/conformance.js'

const folder = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'))
after(() => rmSync(folder, { recursive: true, force: true }))
runDriverConformance({
  name: 'sqlite',
  create: () => new SqliteDriver({ path: join(folder, 'sessions.db') }),
  createPeer: () => new SqliteDriver({ path: join(folder, 'sessions.db') }),
  concurrency: 200,
  describe,
  it,
  after,
})
