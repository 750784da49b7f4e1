import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { FileDriver } from '../../../src/drivers/file.js'
import { makeRecord, randomKey } from '../../../src/testing/conformance.js'

const folder = () => mkdtempSync(join(tmpdir(), 'tessera-file-unit-'))

describe('file driver', () => {
  it('stores one private file per session, named by the storage key only', async () => {
    const dir = folder()
    const driver = new FileDriver({ path: dir })
    const key = randomKey()
    await driver.write(key, makeRecord({ a: 1 }), 60_000)
    const file = join(dir, `${key}.json`)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.ok(JSON.parse(readFileSync(file, 'utf8')).data.a)
    assert.ok(statSync(file).mtimeMs > Date.now() + 50_000, "the file's mtime is its expiry")
  })

  it('never touches a path outside its folder', async () => {
    const dir = folder()
    const driver = new FileDriver({ path: join(dir, 'sessions') })
    writeFileSync(join(dir, 'victim.json'), JSON.stringify(makeRecord({ secret: 1 })))
    assert.equal(await driver.read('../victim'), null)
    await assert.rejects(driver.write('../victim', makeRecord({ evil: 1 }), 60_000), /refusing a storage key/)
    await driver.destroy('../victim')
    assert.ok(JSON.parse(readFileSync(join(dir, 'victim.json'), 'utf8')).data.secret, 'the file outside stays untouched')
  })

  it('writes atomically: a crash between temp write and rename leaves the old version readable', async () => {
    const dir = folder()
    const driver = new FileDriver({ path: dir })
    const key = randomKey()
    await driver.write(key, makeRecord({ v: 1 }), 60_000)
    // A crashed writer leaves only a temp file behind; the session file is intact.
    writeFileSync(join(dir, `${key}.deadbeef0000.tmp`), '{"data": {"v": "torn')
    const record = await driver.read(key)
    assert.equal(record?.data.v, '1')
    // Stale temp files are removed by gc.
    const old = (Date.now() - 120_000) / 1000
    utimesSync(join(dir, `${key}.deadbeef0000.tmp`), old, old)
    await driver.gc()
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.endsWith('.tmp')),
      [],
    )
  })

  it('treats a corrupt file as no session', async () => {
    const dir = folder()
    const driver = new FileDriver({ path: dir })
    const key = randomKey()
    writeFileSync(join(dir, `${key}.json`), '{not json')
    assert.equal(await driver.read(key), null)
  })

  it('gc removes expired files by their mtime and keeps live ones', async () => {
    const dir = folder()
    const driver = new FileDriver({ path: dir })
    const expired = randomKey()
    const live = randomKey()
    await driver.write(expired, makeRecord({}), 20)
    await driver.write(live, makeRecord({}), 60_000)
    await sleep(40)
    assert.equal(await driver.gc(), 1)
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.endsWith('.json')),
      [`${live}.json`],
    )
  })

  it('two driver instances on one folder (two processes) do not lose concurrent patches', async () => {
    const dir = folder()
    const [a, b] = [new FileDriver({ path: dir }), new FileDriver({ path: dir })]
    const key = randomKey()
    await a.write(key, makeRecord({ n: 0 }), 60_000)
    const { SessionCodec } = await import('../../../src/session/codec.js')
    const { typedJsonSerializer } = await import('../../../src/lib/serializer.js')
    const codec = new SessionCodec(typedJsonSerializer)
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).patch(key, [{ op: 'increment', key: 'n', by: 1 }], { ttl: 60_000, codec })),
    )
    assert.equal((await a.read(key))?.data.n, '20')
  })
})
