import assert from 'node:assert/strict'
import { describe, it, after } from 'node:test'
import Fastify, { type FastifyRequest } from 'fastify'
import { csrf, session, sessionOf, type SessionRequest } from '../../../src/http/fastify.js'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import type { SessionManager } from '../../../src/index.js'
import { Browser, COOKIE, makeManager, routes, runAdapterSuite, type RunningServer, type ServeFeatures } from './support.js'

async function start(manager: SessionManager, features: ServeFeatures = {}): Promise<RunningServer> {
  const app = Fastify()
  await app.register(session(manager))
  if (features.csrf) app.addHook('preHandler', csrf(features.csrfOptions))
  for (const [route, handler] of Object.entries(routes)) {
    const [method, url] = route.split(' ') as ['GET' | 'POST', string]
    app.route({
      method,
      url,
      handler: async (request, reply) => {
        const result = await handler((request as FastifyRequest & SessionRequest).session, (request.body ?? {}) as Record<string, unknown>)
        if (result.redirect) return reply.redirect(result.redirect, 303)
        return result.json
      },
    })
  }
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url: address, close: () => app.close() }
}

runAdapterSuite('fastify (tessera/fastify)', start)

describe('fastify: plugin scope', () => {
  const servers: RunningServer[] = []
  after(() => Promise.all(servers.map((server) => server.close())))

  it('reaches routes registered in sibling plugins, and streams carry the cookie', async () => {
    const manager = makeManager(new MemoryDriver())
    const app = Fastify()
    await app.register(session(manager))
    await app.register(async (child) => {
      child.post('/child', async (request) => {
        ;(request as FastifyRequest & SessionRequest).session.put('child', true)
        return { ok: true }
      })
      child.get('/child', async (request) => ({ child: sessionOf(request)?.get('child') ?? null }))
    })
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    servers.push({ url, close: () => app.close() })
    const browser = new Browser(url)
    await browser.json('/child', { method: 'POST' })
    assert.ok(browser.cookies.has(COOKIE))
    assert.deepEqual(await browser.json('/child'), { child: true })
  })
})
