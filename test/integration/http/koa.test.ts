import { createServer } from 'node:http'
import Koa from 'koa'
import { csrf, session } from '../../../src/http/koa.js'
import type { Session } from '../../../src/session/session.js'
import type { SessionManager } from '../../../src/index.js'
import { listen, routes, runAdapterSuite, type ServeFeatures } from './support.js'

function start(manager: SessionManager, features: ServeFeatures = {}) {
  const app = new Koa()
  app.silent = true
  app.use(session(manager))
  if (features.csrf) app.use(csrf(features.csrfOptions))
  app.use(async (ctx) => {
    const handler = routes[`${ctx.method} ${ctx.path}`]
    if (!handler) return
    const result = await handler(ctx.session as Session, {})
    if (result.redirect) {
      ctx.status = 303
      ctx.redirect(result.redirect)
    } else {
      ctx.body = result.json
    }
  })
  return listen(createServer(app.callback()))
}

runAdapterSuite('koa (tessera/koa)', start)
