// @fastify/session scenario for bench/server.ts (see there for the routes).
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastify from 'fastify'

export async function start(user, secret) {
  const app = fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret, cookie: { secure: false }, saveUninitialized: false })
  app.get('/login', async (request) => {
    request.session.set('user', user)
    request.session.set('views', 0)
    return 'ok'
  })
  app.get('/read', async (request) => request.session.get('user')?.name ?? 'anonymous')
  app.get('/write', async (request) => {
    const views = (request.session.get('views') ?? 0) + 1
    request.session.set('views', views)
    return String(views)
  })
  await app.ready()
  return app.server
}
