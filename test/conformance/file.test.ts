import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FileDriver } from '../../src/drivers/file.js'
import { runDriverConformance } from '../../src/testing/conformance.js'

const folder = mkdtempSync(join(tmpdir(), 'tessera-file-'))
after(() => rmSync(folder, { recursive: true, force: true }))
runDriverConformance({
  name: 'file',
  create: () => new FileDriver({ path: folder }),
  // A second driver on the same folder: its own in-process mutex, so only the lock files exclude.
  createPeer: () => new FileDriver({ path: folder }),
  describe,
  it,
  after,
})
