import type { ServerResponse } from 'node:http'
import type { RequestSession } from './lifecycle.js'
import { errorHeaders, statusOf, statusText } from './lifecycle.js'

type Method = (...args: unknown[]) => unknown

/**
 * Makes a node response commit the session before anything goes out. The first `writeHead`,
 * `write` or `end` starts the (async) commit; that call and every later one are queued and
 * replayed in order once the commit is done and its Set-Cookie headers are on the response. So
 * `res.redirect`, `res.json`, streams and explicit `writeHead` all carry the cookie, and the body
 * never leaves before the store has the session.
 *
 * A commit failure (store down with `onStoreError: 'fail'`, a sealed cookie too large, a new
 * session over `rateLimit.create`) replaces the response with the error's status (and
 * `Retry-After` for 429), as long as nothing has been sent yet.
 */
export function commitBeforeHeaders(
  res: ServerResponse,
  handle: Pick<RequestSession, 'commit' | 'skipCommit'>,
  onError?: (error: unknown) => void,
): void {
  const target = res as unknown as Record<'writeHead' | 'write' | 'end', Method>
  const originals = { writeHead: target.writeHead, write: target.write, end: target.end }
  // HOLDING until the first call; then either PASSING (nothing to commit, or commit done) or
  // QUEUED while the commit runs. The wrappers stay in place: swapping the methods back would
  // change the response object's shape a second time on every request.
  let state: 'holding' | 'queued' | 'passing' = 'holding'
  let queue: (() => void)[] = []

  const flush = (replay: boolean): void => {
    const pending = queue
    queue = []
    state = 'passing'
    if (replay) for (const call of pending) call()
  }

  const start = (): void => {
    handle.commit().then(
      (cookies) => {
        if (cookies.length > 0 && !res.headersSent) appendSetCookie(res, cookies)
        flush(true)
      },
      (error: unknown) => {
        if (res.headersSent) {
          flush(true)
          return
        }
        flush(false)
        const status = statusOf(error)
        for (const name of res.getHeaderNames()) res.removeHeader(name)
        res.statusCode = status
        for (const [name, value] of Object.entries(errorHeaders(error))) res.setHeader(name, value)
        res.end(statusText(status))
        onError?.(error)
      },
    )
  }

  const wrap = (name: 'writeHead' | 'write' | 'end', result: (args: unknown[]) => unknown) =>
    function heldUntilCommitted(...args: unknown[]): unknown {
      if (state === 'holding') {
        if (handle.skipCommit()) {
          // Nothing to store and no cookie to set: send the response as it is, right away.
          state = 'passing'
        } else {
          state = 'queued'
          start()
        }
      }
      if (state === 'passing') return originals[name].apply(res, args)
      queue.push(() => originals[name].apply(res, args))
      return result(args)
    }

  target.writeHead = wrap('writeHead', () => res)
  target.write = wrap('write', () => true)
  target.end = wrap('end', () => res)
}

/** Adds Set-Cookie values to a node response without dropping ones already set. */
export function appendSetCookie(res: ServerResponse, cookies: readonly string[]): void {
  const existing = res.getHeader('set-cookie')
  if (existing === undefined) res.setHeader('set-cookie', [...cookies])
  else res.setHeader('set-cookie', [...(Array.isArray(existing) ? existing : [String(existing)]), ...cookies])
}
