import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { csrf, session, type SessionVariables } from '../../../src/http/hono.js'
import type { SessionManager } from '../../../src/index.js'
import { listen, routes, runAdapterSuite, type ServeFeatures } from './support.js'

function start(manager: SessionManager, features: ServeFeatures = {}) {
  const app = new Hono<{ Variables: SessionVariables }>()
  app.use(session(manager))
  if (features.csrf) app.use(csrf(features.csrfOptions))
  for (const [route, handler] of Object.entries(routes)) {
    const [method, path] = route.split(' ') as [string, string]
    app.on(method, path, async (c) => {
      const result = await handler(c.get('session'), {})
      if (result.redirect) return c.redirect(result.redirect, 303)
      return c.json(result.json)
    })
  }
  return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
}

runAdapterSuite('hono (tessera/hono)', start)
