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
  let queue: (() => void)[] | null = null

  const restore = (): void => {
    target.writeHead = originals.writeHead
    target.write = originals.write
    target.end = originals.end
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

  const flush = (replay: boolean): void => {
    const pending = queue ?? []
    queue = []
    restore()
    if (replay) for (const call of pending) call()
  }

  const defer = (name: 'writeHead' | 'write' | 'end', result: (args: unknown[]) => unknown) =>
    function deferred(this: unknown, ...args: unknown[]): unknown {
      if (queue === null) {
        if (handle.skipCommit()) {
          // Nothing to store and no cookie to set: send the response as it is, right away.
          restore()
          return originals[name].apply(res, args)
        }
        queue = []
        start()
      }
      queue.push(() => originals[name].apply(res, args))
      return result(args)
    }

  target.writeHead = defer('writeHead', () => res)
  target.write = defer('write', () => true)
  target.end = defer('end', () => res)
}

/** Adds Set-Cookie values to a node response without dropping ones already set. */
export function appendSetCookie(res: ServerResponse, cookies: readonly string[]): void {
  const existing = res.getHeader('set-cookie')
  if (existing === undefined) res.setHeader('set-cookie', [...cookies])
  else res.setHeader('set-cookie', [...(Array.isArray(existing) ? existing : [String(existing)]), ...cookies])
}
