import { createServer } from 'node:http'
import { csrf, withSession } from '../../../src/http/node.js'
import type { SessionManager } from '../../../src/index.js'
import { listen, routes, runAdapterSuite, type ServeFeatures } from './support.js'

function start(manager: SessionManager, features: ServeFeatures = {}) {
  const checkCsrf = features.csrf ? csrf(features.csrfOptions) : null
  const server = createServer(
    withSession(manager, async (req, res) => {
      if (checkCsrf) {
        const refused = await new Promise<unknown>((resolve) => checkCsrf(req, res, resolve))
        if (refused) {
          res.writeHead(403).end()
          return
        }
      }
      const route = routes[`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`]
      if (!route) {
        res.writeHead(404).end()
        return
      }
      const result = await route(req.session, {})
      if (result.redirect) res.writeHead(303, { location: result.redirect }).end()
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result.json))
    }),
  )
  return listen(server)
}

runAdapterSuite('node:http (tessera/node)', start)
