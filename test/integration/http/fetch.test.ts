import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { describe, it } from 'node:test'
import { createAdaptorServer } from '@hono/node-server'
import { csrf, withSession } from '../../../src/http/fetch.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import type { SessionManager } from '../../../src/index.js'
import { COOKIE, listen, makeManager, routes, runAdapterSuite, type ServeFeatures } from './support.js'

function start(manager: SessionManager, features: ServeFeatures = {}) {
  const checkCsrf = features.csrf ? csrf(features.csrfOptions) : null
  const handler = withSession(manager, async (request, session) => {
    const refused = checkCsrf?.(request, session)
    if (refused) return refused
    const url = new URL(request.url)
    const route = routes[`${request.method} ${url.pathname}`]
    if (!route) return new Response('not found', { status: 404 })
    const result = await route(session, {})
    // Response.redirect has immutable headers: the adapter must still add its cookie.
    if (result.redirect) return Response.redirect(new URL(result.redirect, url), 303)
    return Response.json(result.json)
  })
  return listen(createAdaptorServer({ fetch: handler }) as Server)
}

runAdapterSuite('fetch (tessera/fetch)', start)

describe('fetch: called directly, without a server', () => {
  it('round-trips a session through Request and Response objects', async () => {
    const manager = makeManager(new MemoryDriver())
    const handler = withSession(manager, async (_request, session) => Response.json({ n: session.increment('n') }))
    const first = await handler(new Request('http://app.test/'))
    const cookie = first.headers.getSetCookie()[0]?.split(';')[0] ?? ''
    assert.ok(cookie.startsWith(`${COOKIE}=`))
    const second = await handler(new Request('http://app.test/', { headers: { cookie } }))
    assert.deepEqual(await second.json(), { n: 2 })
  })
})
