import { randomBytes } from 'node:crypto'
import type { DeviceInfo } from '../drivers/contract.js'
import type { SessionState } from './state.js'

/** Data key under which `session.auth.csrfToken()` keeps the session's synchronizer token. */
export const CSRF_SESSION_KEY = '_csrf'

export const newCsrfToken = (): string => randomBytes(32).toString('base64url')

/**
 * Who a session belongs to and its anti-forgery token: `session.auth.setUser(id)` at login,
 * `session.auth.userId` to read it back, `session.auth.csrfToken()` for forms.
 */
export class SessionAuth {
  readonly #state: SessionState

  constructor(state: SessionState) {
    this.#state = state
  }

  /** The user this session belongs to (for per-user session lists), if bound. */
  get userId(): string | undefined {
    return this.#state.userId
  }

  /** Binds the session to a user (and device), so it shows up in that user's session list; `null` unbinds. */
  setUser(userId: string | null, device?: DeviceInfo): void {
    this.#state.assert('setUser', 'write')
    this.#state.pendingUser = device ? { userId, device } : { userId }
  }

  /**
   * The session's CSRF synchronizer token, created on first use and kept in the session. Render
   * it into forms (`_csrf`) or send it as `x-csrf-token`; it changes on `regenerate()`.
   */
  csrfToken(): string {
    const existing = this.#state.valuesFor('csrfToken', 'read').read(CSRF_SESSION_KEY)
    if (typeof existing === 'string' && existing !== '') return existing
    const token = newCsrfToken()
    this.#state.valuesFor('csrfToken', 'write').set(CSRF_SESSION_KEY, token)
    return token
  }
}
