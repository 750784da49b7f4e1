import { randomBytes } from 'node:crypto'
import { stringifySetCookie } from 'cookie'
import type { ResolvedConfig } from '../config/resolve.js'
import { SessionEvents, type SessionEventEmitter } from '../session/events.js'
import type { Session } from '../session/session.js'
import type { DeviceInfo } from '../drivers/contract.js'
import { safeEqual, sha256 } from '../lib/crypto.js'
import type { SecurityState } from './security-state.js'
import { numberField, readState, stateKey, withStateLock, writeState } from './state.js'

/** What remember-me needs from a manager (a `SessionManager` has it all). */
export interface RememberMeHost {
  readonly config: ResolvedConfig
  readonly events: SessionEventEmitter
  readonly security: Pick<SecurityState, 'store' | 'rememberGeneration' | 'markRevoked'>
  /** Theft ends every session of the user: the per-user API (`manager.users`) does that. */
  readonly users: { revokeAll(userId: string, options: { rememberMe: boolean }): Promise<unknown> }
  readonly cookie: { secure: boolean; sameSite: 'strict' | 'lax' | 'none'; path: string; domain: string | undefined }
}

/** A freshly issued token: put `value` in the `name` cookie for `maxAge` seconds. */
export interface IssuedRememberToken {
  name: string
  value: string
  /** Seconds, for the cookie's Max-Age. */
  maxAge: number
  expiresAt: number
}

/**
 * `valid`: the token was good and is now spent; sign the user in and set `next`.
 * `invalid`: unknown, expired, revoked, malformed or wrong; clear the cookie.
 * `theft`: an already-rotated token came back: every token and session of the user was revoked.
 */
export type RememberMeResult =
  | { status: 'valid'; userId: string; next: IssuedRememberToken }
  | { status: 'invalid' }
  | { status: 'theft'; userId: string }

const SELECTOR_BYTES = 16
const VALIDATOR_BYTES = 32
const TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/
const INVALID = Object.freeze({ status: 'invalid' as const })

/**
 * Long-lived "remember me" tokens, split selector + validator: the selector finds the
 * record, only a SHA-256 of the validator is stored, so a store dump cannot be replayed. Each
 * token works once and is replaced on use; presenting a replaced token again means two parties
 * hold it, so all of the user's tokens and sessions are revoked and
 * `SessionEvents.REMEMBER_ME_THEFT` is emitted. Connect-style apps sign people in from the cookie
 * with `rememberMeMiddleware(remember)` (`tessera/express`, `tessera/node`); others call {@link restore}.
 */
export class RememberMe {
  readonly #host: RememberMeHost

  constructor(host: RememberMeHost) {
    this.#host = host
  }

  get cookieName(): string {
    return this.#host.config.security.rememberMe.cookie
  }

  /** Issues a token for a user who just signed in with "remember me" ticked. */
  async issue(userId: string, options: { device?: DeviceInfo } = {}): Promise<IssuedRememberToken> {
    const { lifetimeMs } = this.#host.config.security.rememberMe
    const selector = randomBytes(SELECTOR_BYTES).toString('base64url')
    const validator = randomBytes(VALIDATOR_BYTES).toString('base64url')
    const now = Date.now()
    const generation = await this.#host.security.rememberGeneration(userId)
    const fields: Record<string, string> = {
      user: userId,
      gen: String(generation),
      hash: sha256(validator),
      state: 'live',
      created: String(now),
      expires: String(now + lifetimeMs),
    }
    if (options.device?.name) fields.device = options.device.name
    await writeState(await this.#host.security.store(), stateKey('remember', selector), fields, lifetimeMs)
    return { name: this.cookieName, value: `${selector}.${validator}`, maxAge: Math.floor(lifetimeMs / 1000), expiresAt: now + lifetimeMs }
  }

  /** Checks and spends a token; see {@link RememberMeResult}. Never throws for bad input. */
  async consume(token: string | undefined, options: { device?: DeviceInfo } = {}): Promise<RememberMeResult> {
    const match = typeof token === 'string' ? TOKEN.exec(token) : null
    if (!match) return INVALID
    const [, selector = '', validator = ''] = match
    const { security, users } = this.#host
    const store = await security.store()
    const key = stateKey('remember', selector)
    const outcome = await withStateLock(store, key, async (): Promise<RememberMeResult> => {
      const fields = await readState(store, key)
      if (!fields || typeof fields.user !== 'string' || typeof fields.hash !== 'string') return INVALID
      const userId = fields.user
      // A wrong validator proves nothing about theft (anyone can guess a selector): just refuse.
      if (!safeEqual(fields.hash, sha256(validator))) return INVALID
      const now = Date.now()
      if (numberField(fields, 'gen', -1) < (await security.rememberGeneration(userId))) {
        await store.destroy(key)
        return INVALID
      }
      if (fields.state !== 'live') {
        const usedAt = numberField(fields, 'usedAt', 0)
        // Parallel requests of one browser all carry the old cookie: not theft, just refused.
        if (now - usedAt < this.#host.config.security.rememberMe.reuseGraceMs) return INVALID
        return { status: 'theft', userId }
      }
      const remaining = numberField(fields, 'expires', 0) - now
      if (remaining <= 0) return INVALID
      // Kept as a spent marker until the token would have expired, so its reuse is recognised.
      await writeState(store, key, { ...fields, state: 'used', usedAt: String(now) }, remaining)
      return { status: 'valid', userId, next: await this.issue(userId, options) }
    })
    if (outcome.status === 'theft') {
      await users.revokeAll(outcome.userId, { rememberMe: true })
      this.#host.events.emit(SessionEvents.REMEMBER_ME_THEFT, outcome.userId)
    }
    return outcome
  }

  /**
   * Signs a session in from a remember-me token: on success the session gets a new id (against
   * fixation) and is bound to the user. Returns the result so the caller can set or clear the cookie.
   */
  async restore(session: Session, token: string | undefined, options: { device?: DeviceInfo } = {}): Promise<RememberMeResult> {
    const result = await this.consume(token, options)
    if (result.status === 'valid') {
      await session.regenerate()
      session.auth.setUser(result.userId, options.device)
    }
    return result
  }

  /** Ends one token (logout on this device). */
  async revoke(token: string | undefined): Promise<void> {
    const match = typeof token === 'string' ? TOKEN.exec(token) : null
    if (!match) return
    await (await this.#host.security.store()).destroy(stateKey('remember', match[1] as string))
  }

  /** Ends every remember-me token of the user issued until now. */
  async revokeAll(userId: string): Promise<void> {
    await this.#host.security.markRevoked(userId, { sessions: false, rememberMe: true })
  }

  /** A Set-Cookie value for an issued token. */
  setCookie(token: IssuedRememberToken): string {
    const { secure, sameSite, path, domain } = this.#host.cookie
    return stringifySetCookie(token.name, token.value, { maxAge: token.maxAge, httpOnly: true, secure, sameSite, path, domain })
  }

  /** A Set-Cookie value that removes the remember-me cookie. */
  clearCookie(): string {
    const { secure, sameSite, path, domain } = this.#host.cookie
    return stringifySetCookie(this.cookieName, '', { maxAge: 0, expires: new Date(0), httpOnly: true, secure, sameSite, path, domain })
  }
}

/** Remember-me tokens for a manager, configured by its `rememberMe` option. */
export function rememberMe(manager: RememberMeHost): RememberMe {
  return new RememberMe(manager)
}
