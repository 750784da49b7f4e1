import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { session as expressSession } from '../../../src/http/express.js'
import { session as fastifySession } from '../../../src/http/fastify.js'
import { withSession as fetchWithSession } from '../../../src/http/fetch.js'
import { session as honoSession } from '../../../src/http/hono.js'
import { session as koaSession } from '../../../src/http/koa.js'
import { withSession as nodeWithSession } from '../../../src/http/node.js'
import { SessionConfigError } from '../../../src/lib/errors.js'
import { SessionManager } from '../../../src/manager/manager.js'

const manager = new SessionManager()
const adapters: Record<string, (options: object) => unknown> = {
  express: (options) => expressSession(manager, options),
  fastify: (options) => fastifySession(manager, options),
  hono: (options) => honoSession(manager, options),
  koa: (options) => koaSession(manager, options),
  node: (options) => nodeWithSession(manager, () => undefined, options),
  fetch: (options) => fetchWithSession(manager, () => new Response(), options),
}

describe('middleware options are checked when the middleware is built', () => {
  for (const [name, build] of Object.entries(adapters)) {
    it(`${name}: a misspelled option names the one meant`, () => {
      assert.throws(
        () => build({ lazzy: true }),
        (error: unknown) => error instanceof SessionConfigError && /unknown option "lazzy"\. Did you mean "lazy"\?/.test(error.message),
      )
      assert.throws(() => build({ lock: 'soon' }), /lock must be a positive duration such as '30s'/)
    })
  }

  it('clientFacts is an option of the Fetch and Hono adapters only', () => {
    const clientFacts = () => ({})
    assert.doesNotThrow(() => adapters.fetch?.({ clientFacts }))
    assert.doesNotThrow(() => adapters.hono?.({ clientFacts }))
    assert.throws(() => adapters.express?.({ clientFacts }), /unknown option "clientFacts"/)
  })
})
