import type { Session, SessionData } from '../core/session.js'
import { SessionLifecycle, type AnyManager, type SessionMiddlewareOptions } from './lifecycle.js'

export { loadReadonlySession } from './lifecycle.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'

/** The parts of Koa's Context the middleware uses (structural: no runtime dependency on koa). */
export interface KoaContextLike<Data extends SessionData = SessionData> {
  get(field: string): string
  append(field: string, value: string | string[]): void
  session?: Session<Data>
}

/**
 * Koa middleware: `app.use(session(manager))`, then `ctx.session`. The session is committed after
 * the downstream middleware, before Koa sends the response. A store fault with
 * `onStoreError: 'fail'` is thrown as a `SessionStoreError` (status 503) for Koa's error handling.
 * When downstream throws, nothing is committed.
 */
export function session<Data extends SessionData = SessionData>(manager: AnyManager<Data>, options: SessionMiddlewareOptions = {}) {
  const lifecycle = new SessionLifecycle(manager, options)
  return async function tesseraSession(ctx: KoaContextLike<Data>, next: () => Promise<unknown>): Promise<void> {
    if (!lifecycle.enabled) {
      await next()
      return
    }
    const handle = await lifecycle.begin(ctx.get('cookie') || undefined)
    ctx.session = handle.session
    await next()
    const cookies = await handle.commit()
    if (cookies.length > 0) ctx.append('set-cookie', [...cookies])
  }
}
