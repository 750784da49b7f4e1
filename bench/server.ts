/**
 * One benchmark server per process: `SCENARIO=<name> node --import tsx bench/server.ts`.
 * Prints `listening <port>` when ready. Every scenario serves the same three routes:
 *   GET /login  creates a session holding a user and a counter (sets the cookie)
 *   GET /read   reads the user from the session (changes nothing)
 *   GET /write  increments the counter
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'
const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6379)
const USER = { id: 42, name: 'Ada Lovelace', roles: ['admin', 'editor'] }

type Starter = () => Promise<Server>

async function express() {
  return (await import('express')).default
}

const scenarios: Record<string, Starter> = {
  async 'express-bare'() {
    const app = (await express())()
    app.get('/login', (_req, res) => void res.send('ok'))
    app.get('/read', (_req, res) => void res.send(USER.name))
    app.get('/write', (_req, res) => void res.send('1'))
    return createServer(app)
  },

  /** Calibration: what one empty (async-deferred) middleware costs in Express. */
  async 'express-empty-middleware'() {
    const app = (await express())()
    app.use((_req, _res, next) => void Promise.resolve().then(() => next()))
    app.get('/login', (_req, res) => void res.send('ok'))
    app.get('/read', (_req, res) => void res.send(USER.name))
    app.get('/write', (_req, res) => void res.send('1'))
    return createServer(app)
  },

  async 'express-tessera-memory'() {
    return tesseraExpress({ driver: 'memory' })
  },

  async 'express-tessera-cookie'() {
    return tesseraExpress({ driver: 'cookie' })
  },

  async 'express-tessera-redis'() {
    return tesseraExpress({ driver: 'redis', connection: { host: '127.0.0.1', port: REDIS_PORT }, prefix: `bench:${process.pid}:` })
  },

  async 'express-session-memory'() {
    const { default: session } = await import('express-session')
    return expressSession(session({ secret: SECRET, resave: false, saveUninitialized: false }))
  },

  async 'express-session-redis'() {
    const { default: session } = await import('express-session')
    const { RedisStore } = await import('connect-redis')
    const { createClient } = await import('redis')
    const client = createClient({ url: `redis://127.0.0.1:${REDIS_PORT}` })
    await client.connect()
    const store = new RedisStore({ client, prefix: `bench:cr:${process.pid}:` })
    return expressSession(session({ secret: SECRET, resave: false, saveUninitialized: false, store }))
  },

  async 'express-iron-session'() {
    const { getIronSession } = await import('iron-session')
    const app = (await express())()
    type Data = { user?: typeof USER; views?: number }
    const options = { password: SECRET, cookieName: 'iron', cookieOptions: { secure: false } }
    app.get('/login', async (req, res) => {
      const session = await getIronSession<Data>(req, res, options)
      session.user = USER
      session.views = 0
      await session.save()
      res.send('ok')
    })
    app.get('/read', async (req, res) => {
      const session = await getIronSession<Data>(req, res, options)
      res.send(session.user?.name ?? 'anonymous')
    })
    app.get('/write', async (req, res) => {
      const session = await getIronSession<Data>(req, res, options)
      session.views = (session.views ?? 0) + 1
      await session.save()
      res.send(String(session.views))
    })
    return createServer(app)
  },

  async 'fastify-bare'() {
    const app = (await import('fastify')).default()
    app.get('/login', async () => 'ok')
    app.get('/read', async () => USER.name)
    app.get('/write', async () => '1')
    await app.ready()
    return app.server
  },

  async 'fastify-tessera-memory'() {
    const { SessionManager } = await import('tessera')
    const { session, sessionOf: requestSession } = await import('tessera/fastify')
    const app = (await import('fastify')).default()
    await app.register(session(new SessionManager({ driver: 'memory', keys: [SECRET] })))
    const sessionOf = (request: object) => requestSession(request) as import('tessera').Session
    app.get('/login', async (request) => {
      sessionOf(request).put({ user: USER, views: 0 })
      return 'ok'
    })
    app.get('/read', async (request) => (sessionOf(request).get('user') as typeof USER | undefined)?.name ?? 'anonymous')
    app.get('/write', async (request) => String(sessionOf(request).increment('views')))
    await app.ready()
    return app.server
  },

  async 'fastify-session'() {
    // Plain JS module: @fastify/session's type augmentation of FastifyRequest.session would
    // clash with Tessera's in one TypeScript program.
    const specifier = './fastify-session.mjs'
    const { start } = (await import(specifier)) as { start: (user: typeof USER, secret: string) => Promise<Server> }
    return start(USER, SECRET)
  },
}

async function tesseraExpress(config: Record<string, unknown>): Promise<Server> {
  const { SessionManager } = await import('tessera')
  const { session } = await import('tessera/express')
  const app = (await express())()
  app.use(session(new SessionManager({ ...config, keys: [SECRET] })))
  const sessionOf = (req: object) => (req as import('tessera/express').SessionRequest).session
  app.get('/login', (req, res) => {
    sessionOf(req).put({ user: USER, views: 0 })
    res.send('ok')
  })
  app.get('/read', (req, res) => void res.send((sessionOf(req).get('user') as typeof USER | undefined)?.name ?? 'anonymous'))
  app.get('/write', (req, res) => void res.send(String(sessionOf(req).increment('views'))))
  return createServer(app)
}

async function expressSession(middleware: import('express').RequestHandler): Promise<Server> {
  const app = (await express())()
  app.use(middleware)
  type Data = { user?: typeof USER; views?: number }
  app.get('/login', (req, res) => {
    const data = req.session as unknown as Data
    data.user = USER
    data.views = 0
    res.send('ok')
  })
  app.get('/read', (req, res) => void res.send((req.session as unknown as Data).user?.name ?? 'anonymous'))
  app.get('/write', (req, res) => {
    const data = req.session as unknown as Data
    data.views = (data.views ?? 0) + 1
    res.send(String(data.views))
  })
  return createServer(app)
}

const name = process.env.SCENARIO ?? ''
const start = scenarios[name]
if (!start) {
  console.error(`Unknown SCENARIO "${name}". Known: ${Object.keys(scenarios).join(', ')}`)
  process.exit(2)
}
const server = await start()
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`))
process.on('SIGTERM', () => process.exit(0)) // lets --cpu-prof write its profile when profiling a scenario
