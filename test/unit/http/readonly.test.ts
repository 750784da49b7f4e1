import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SessionManager } from '../../../src/index.js'
import { readonlySession, SessionLifecycle } from '../../../src/http/lifecycle.js'
import { SessionReadonlyError } from '../../../src/lib/errors.js'
import { CountingDriver } from '../../helpers/counting-driver.js'

const KEY = 'r'.repeat(40)

async function loggedIn(manager: SessionManager): Promise<string> {
  const lifecycle = new SessionLifecycle(manager)
  const handle = await lifecycle.begin(undefined)
  handle.session.put('user', 'ada')
  const [cookie] = await handle.commit()
  return (cookie as string).split(';')[0] as string
}

describe('read-only sessions (WebSocket upgrades)', () => {
  it('loads with one read, refuses changes and never writes or sets cookies', async () => {
    const driver = new CountingDriver()
    const manager = new SessionManager({ drivers: { main: driver }, keys: [KEY], touchAfter: 0 })
    const cookie = await loggedIn(manager)
    const before = { ...driver.calls }
    const session = await readonlySession(manager, cookie)
    assert.equal(session.status.readonly, true)
    assert.equal(session.get('user'), 'ada')
    assert.throws(() => session.put('user', 'eve'), SessionReadonlyError)
    await session.save()
    assert.equal(driver.calls.read, before.read + 1)
    assert.equal(driver.writes, before.write + before.patch + before.touch + before.destroy, 'no write, not even a due touch')
  })

  it('accepts a node request and gives an empty session without a valid cookie', async () => {
    const manager = new SessionManager({ keys: [KEY] })
    const cookie = await loggedIn(manager)
    const request = { headers: { cookie } } as unknown as import('node:http').IncomingMessage
    assert.equal((await readonlySession(manager, request)).get('user'), 'ada')
    assert.equal((await readonlySession(manager, 'tessera_session=forged')).get('user'), undefined)
  })

  it('a read-only lifecycle commits nothing', async () => {
    const driver = new CountingDriver()
    const manager = new SessionManager({ drivers: { main: driver }, keys: [KEY] })
    const handle = await new SessionLifecycle(manager, { readonly: true }).begin(undefined)
    assert.deepEqual(await handle.commit(), [])
    assert.equal(driver.writes, 0)
  })
})
