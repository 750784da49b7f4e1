import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import { SessionManager, type SessionManagerOptions } from '../../../src/index.js'
import { withSession } from '../../../src/http/fetch.js'
import { readonlySession, SessionLifecycle } from '../../../src/http/lifecycle.js'
import { SessionConfigError } from '../../../src/lib/errors.js'
import { BINDING_SESSION_KEY, type ClientFacts } from '../../../src/security/binding.js'

const KEY = 'h'.repeat(40)
const ALICE: ClientFacts = { remoteAddress: '192.0.2.10', userAgent: 'Firefox/130' }
const MALLORY: ClientFacts = { remoteAddress: '198.51.100.7', userAgent: 'curl/8.5' }

function manager(options: SessionManagerOptions = {}): SessionManager {
  return new SessionManager({ keys: [KEY], ...options })
}

async function loggedIn(m: SessionManager, client: ClientFacts): Promise<string> {
  const handle = await new SessionLifecycle(m).begin(undefined, { client })
  handle.session.put('user', 'ada')
  const [cookie] = await handle.commit()
  return (cookie as string).split(';')[0] as string
}

describe('lifecycle security hooks', () => {
  it('binds a new session to the client that created it, and rejects another client', async () => {
    const m = manager({ binding: { ip: true, userAgent: true } })
    const cookie = await loggedIn(m, ALICE)
    const lifecycle = new SessionLifecycle(m)
    const same = await lifecycle.begin(cookie, { client: ALICE })
    assert.equal(same.session.get('user'), 'ada')
    const other = await lifecycle.begin(cookie, { client: MALLORY })
    assert.equal(other.session.get('user'), undefined)
    assert.notEqual(other.session.sessionId, same.session.sessionId, 'a fresh id')
    const cleared = await other.commit()
    assert.equal(cleared.length, 1)
    assert.match(cleared[0] as string, /^tessera_session=;.*Max-Age=0/, 'the presented cookie is cleared')
    assert.equal((await lifecycle.begin(cookie, { client: ALICE })).session.get('user'), undefined, 'the rejected session was destroyed')
  })

  it('a read-only request from another client gets an empty session and destroys nothing', async () => {
    const m = manager({ binding: { userAgent: true } })
    const cookie = await loggedIn(m, ALICE)
    const stranger = await readonlySession(m, cookie, { client: MALLORY })
    assert.equal(stranger.status.readonly, true)
    assert.equal(stranger.get('user'), undefined)
    assert.equal(
      (await readonlySession(m, cookie, { client: ALICE })).get('user'),
      'ada',
      'read-only cannot invalidate: the owner keeps the session',
    )
  })

  it('readonlySession(manager, req) checks binding with the request’s own client facts', async () => {
    const m = manager({ binding: { ip: true, userAgent: true } })
    const cookie = await loggedIn(m, ALICE)
    const request = (facts: ClientFacts) =>
      ({ headers: { cookie, 'user-agent': facts.userAgent }, socket: { remoteAddress: facts.remoteAddress } }) as unknown as IncomingMessage
    assert.equal((await readonlySession(m, request(ALICE))).get('user'), 'ada')
    assert.equal((await readonlySession(m, request(MALLORY))).get('user'), undefined)
  })

  it('without binding or rateLimit, client facts change nothing (no fingerprint stored)', async () => {
    const m = manager()
    const cookie = await loggedIn(m, ALICE)
    const handle = await new SessionLifecycle(m).begin(cookie, { client: MALLORY })
    assert.equal(handle.session.get('user'), 'ada')
    assert.equal(handle.session.get(BINDING_SESSION_KEY), undefined)
  })
})

describe('fetch adapter: client facts', () => {
  const handler = (m: SessionManager, clientFacts?: (request: Request) => ClientFacts, onError?: (error: unknown) => void) =>
    withSession(m, async (_request, session) => Response.json({ n: session.increment('n') }), { clientFacts, onError })

  it('refuses to guess the client IP: without clientFacts or trustProxy, rateLimit is a configuration error', async () => {
    const errors: unknown[] = []
    const fetchHandler = handler(manager({ rateLimit: { create: { points: 1, duration: '1h' } } }), undefined, (error) =>
      errors.push(error),
    )
    const response = await fetchHandler(new Request('http://app.test/', { method: 'POST' }))
    assert.equal(response.status, 500)
    assert.ok(errors[0] instanceof SessionConfigError)
    assert.match((errors[0] as Error).message, /clientFacts/)
  })

  it('limits new sessions per address given by clientFacts', async () => {
    const fetchHandler = handler(manager({ rateLimit: { create: { points: 1, duration: '1h' } } }), (request) => ({
      remoteAddress: request.headers.get('x-test-ip') ?? undefined,
    }))
    const from = (ip: string) => fetchHandler(new Request('http://app.test/', { method: 'POST', headers: { 'x-test-ip': ip } }))
    assert.equal((await from('192.0.2.1')).status, 200)
    const refused = await from('192.0.2.1')
    assert.equal(refused.status, 429)
    assert.ok(Number(refused.headers.get('retry-after')) >= 3599)
    assert.equal((await from('192.0.2.2')).status, 200, 'another address has its own bucket')
  })

  it('with binding.trustProxy, X-Forwarded-For is the client IP and no clientFacts are needed', async () => {
    const fetchHandler = handler(manager({ rateLimit: { create: { points: 1, duration: '1h' } }, binding: { ip: true, trustProxy: true } }))
    const from = (ip: string) => fetchHandler(new Request('http://app.test/', { method: 'POST', headers: { 'x-forwarded-for': ip } }))
    assert.equal((await from('203.0.113.5')).status, 200)
    assert.equal((await from('203.0.113.5')).status, 429)
    assert.equal((await from('203.0.113.6')).status, 200)
  })
})
