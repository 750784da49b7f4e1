import { ServerResponse } from 'node:http'
import type { RequestSession } from './lifecycle.js'
import { errorHeaders, statusOf, statusText } from './lifecycle.js'

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
  installHoldBack()
  ;(res as HeldResponse)[HOLD] = { handle, onError, state: HOLDING, queue: [] }
}

const HOLD = Symbol('tessera.holdBack')
const HOLDING = 0
const QUEUED = 1
const PASSING = 2
type Method = (this: ServerResponse, ...args: unknown[]) => unknown
type MethodName = 'writeHead' | 'write' | 'end'

interface HoldState {
  handle: Pick<RequestSession, 'commit' | 'skipCommit'>
  onError: ((error: unknown) => void) | undefined
  state: typeof HOLDING | typeof QUEUED | typeof PASSING
  queue: (() => void)[]
}
type HeldResponse = ServerResponse & { [HOLD]?: HoldState }

let installed = false

/**
 * Installs, once per process, a guard in front of `writeHead`, `write` and `end` of
 * `http.ServerResponse.prototype`. A response without a Tessera session (no hold state) goes
 * straight through; one with a session waits for its commit. Doing this on the prototype instead
 * of each response saves three method swaps per request, which change the response object's
 * shape and cost more than the rest of a read-only request's session handling together.
 */
function installHoldBack(): void {
  if (installed) return
  installed = true
  const proto = ServerResponse.prototype as unknown as Record<MethodName, Method>
  const returns: Record<MethodName, (res: ServerResponse) => unknown> = { writeHead: (res) => res, write: () => true, end: (res) => res }
  for (const name of ['writeHead', 'write', 'end'] as const) {
    const original = proto[name]
    const result = returns[name]
    proto[name] = function heldUntilCommitted(this: HeldResponse): unknown {
      const hold = this[HOLD]
      // eslint-disable-next-line prefer-rest-params
      const args = arguments as unknown as unknown[]
      if (hold === undefined || hold.state === PASSING) return original.apply(this, args)
      if (hold.state === HOLDING) {
        if (hold.handle.skipCommit()) {
          // Nothing to store and no cookie to set: send the response as it is, right away.
          hold.state = PASSING
          return original.apply(this, args)
        }
        hold.state = QUEUED
        startCommit(this, hold)
      }
      const copy = Array.prototype.slice.call(args)
      hold.queue.push(() => original.apply(this, copy))
      return result(this)
    }
  }
}

function startCommit(res: ServerResponse, hold: HoldState): void {
  const flush = (replay: boolean): void => {
    const pending = hold.queue
    hold.queue = []
    hold.state = PASSING
    if (replay) for (const call of pending) call()
  }
  hold.handle.commit().then(
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
      hold.onError?.(error)
    },
  )
}

/** The response methods that setting cookies needs (a node `ServerResponse` has them). */
export interface CookieResponse {
  getHeader(name: string): number | string | string[] | undefined
  setHeader(name: string, value: readonly string[]): unknown
}

/** Adds Set-Cookie values to a node response without dropping ones already set. */
export function appendSetCookie(res: CookieResponse, cookies: readonly string[]): void {
  const existing = res.getHeader('set-cookie')
  if (existing === undefined) res.setHeader('set-cookie', [...cookies])
  else res.setHeader('set-cookie', [...(Array.isArray(existing) ? existing : [String(existing)]), ...cookies])
}
