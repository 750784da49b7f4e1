import type { IncomingHttpHeaders } from 'node:http'
import type { Session, SessionData } from '../session/session.js'
import { resolveCsrfOptions, verifyCsrf, type CsrfOptions } from '../security/csrf.js'
import { clientFactsOf } from './security-hooks.js'
import { csrfRequest, singleHeader } from './csrf.js'
import { SessionLifecycle, type AnyManager, type RequestSession, type SessionMiddlewareOptions } from './lifecycle.js'

export { readonlySession } from './lifecycle.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'
export { verifyCsrf } from '../security/csrf.js'
export type { CsrfOptions } from '../security/csrf.js'

const HANDLE = Symbol('tessera.session')

/** A Fastify request with its session: `(request as FastifyRequest & SessionRequest).session`. */
export interface SessionRequest<Data extends SessionData = SessionData> {
  session: Session<Data>
}

interface RequestLike {
  headers: IncomingHttpHeaders
  socket?: { remoteAddress?: string | undefined } | undefined
  session?: Session | null
  [HANDLE]?: RequestSession
}
interface ReplyLike {
  header(name: string, value: string): unknown
}
/** The parts of a Fastify instance the plugin uses (structural: no runtime dependency on fastify). */
export interface FastifyLike {
  decorateRequest(property: string, value: null): unknown
  addHook(name: string, hook: (...args: never[]) => unknown): unknown
}

/** The request's session (undefined when sessions are disabled). */
export function sessionOf<Data extends SessionData = SessionData>(request: object): Session<Data> | undefined {
  return ((request as RequestLike).session ?? undefined) as Session<Data> | undefined
}

/**
 * Fastify plugin: `await app.register(session(manager))`, then `request.session`. It loads the
 * session in `onRequest` and commits it in `onSend`, before the reply's headers are written. It
 * applies to the whole instance (no encapsulation), like fastify-plugin. A store fault with
 * `onStoreError: 'fail'` becomes a `SessionStoreError` reply with status 503, and a new session
 * over `rateLimit.create` a `RateLimitError` reply with status 429 and `Retry-After` (Fastify's
 * error handling reads `status` and `headers`; `setErrorHandler` can take them).
 */
export function session<Data extends SessionData = SessionData>(manager: AnyManager<Data>, options: SessionMiddlewareOptions = {}) {
  const lifecycle = new SessionLifecycle(manager, options)
  // Callback-style hooks: Fastify then skips a promise per hook per request.
  const onRequest = (request: RequestLike, _reply: unknown, done: (error?: unknown) => void): void => {
    if (!lifecycle.enabled) return done()
    lifecycle.begin(request.headers.cookie, { client: lifecycle.wantsClient ? clientFactsOf(request) : undefined }).then((begun) => {
      const handle = begun as unknown as RequestSession
      request[HANDLE] = handle
      request.session = handle.session
      done()
    }, done)
  }
  const onSend = (request: RequestLike, reply: ReplyLike, payload: unknown, done: (error: unknown, payload?: unknown) => void): void => {
    const handle = request[HANDLE]
    if (!handle || handle.skipCommit()) return done(null, payload)
    handle.commit().then((cookies) => {
      for (const cookie of cookies) reply.header('set-cookie', cookie)
      done(null, payload)
    }, done)
  }
  const plugin = async function tesseraSession(fastify: FastifyLike): Promise<void> {
    fastify.decorateRequest('session', null)
    fastify.addHook('onRequest', onRequest)
    fastify.addHook('onSend', onSend)
  }
  // Same markers as fastify-plugin: hooks reach routes outside this plugin's scope.
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'tessera-session' })
}

/** The parts of a Fastify request the CSRF hook uses. */
export interface FastifyCsrfRequestLike {
  method: string
  headers: IncomingHttpHeaders
  body?: unknown
  session?: unknown
}

/**
 * CSRF protection as a Fastify hook: `app.addHook('preHandler', csrf())` after registering the
 * session plugin (the body is parsed by then, so the form field works). A failed check throws
 * the `CsrfError`, which Fastify answers with status 403 unless `setErrorHandler` takes it.
 */
export function csrf(options: CsrfOptions = {}) {
  const resolved = resolveCsrfOptions(options)
  return async function tesseraCsrf(request: FastifyCsrfRequestLike): Promise<void> {
    const header = (name: string): string | undefined => singleHeader(request.headers[name])
    const error = verifyCsrf(csrfRequest(request.method, header, request.session, request.body), resolved)
    if (error) throw error
  }
}
