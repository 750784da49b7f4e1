import type { ResolvedConfig } from '../config/resolve.js'
import { SessionEvents, type SessionEventEmitter } from '../session/events.js'
import type { SessionContext } from '../session/session.js'
import type { GuardedStore } from '../session/store.js'
import { RateLimitError, SessionConfigError } from '../lib/errors.js'
import { TokenBucket } from './limiter.js'
import { isEnded, markEnded } from './ended-sessions.js'
import { isRevoked, markerLifetime, markRevoked, rememberGeneration, type RevocationScope } from './revocation.js'
import { fencedSince, raiseFence } from './revocation-fence.js'

/** What {@link SecurityState} needs from its manager. */
export interface SecurityStateHost {
  readonly config: ResolvedConfig
  readonly events: SessionEventEmitter
  context(name?: string): Promise<SessionContext>
}

/** Who a `rateLimit.create` bucket belongs to. */
export type CreationScope = 'ip' | 'user'

/**
 * The server-side state the security features keep beside sessions: the store it lives in
 * (`securityStore`, else the default driver), the `rateLimit.create` buckets and the revocation
 * markers. A manager owns one (`manager.security`); remember-me, the request hooks and the
 * per-user API share it, so every process on the same store shares limits and revocations.
 */
export class SecurityState {
  readonly #host: SecurityStateHost
  readonly #buckets: Readonly<Record<CreationScope, TokenBucket>> | null

  constructor(host: SecurityStateHost) {
    this.#host = host
    const rule = host.config.security.createLimit
    this.#buckets = rule ? { user: new TokenBucket(rule, 'create:user'), ip: new TokenBucket(rule, 'create:ip') } : null
  }

  /** The store that keeps security state (buckets, remember-me tokens, revocation markers). */
  async store(): Promise<GuardedStore> {
    const { store } = await this.#host.context(this.#host.config.security.securityStore)
    if (store.name === 'cookie') {
      throw new SessionConfigError(
        'The cookie driver cannot keep server-side security state (remember-me tokens, rate limits, revocations). Configure a server-side driver and name it in "securityStore".',
      )
    }
    return store
  }

  /**
   * Takes one session-creation token for a user or a client IP; throws {@link RateLimitError}
   * when the `rateLimit.create` budget is spent. Does nothing when no rate limit is configured.
   */
  async limitCreation(scope: CreationScope, subject: string): Promise<void> {
    const bucket = this.#buckets?.[scope]
    if (!bucket) return
    const retryAfter = await bucket.take(await this.store(), subject)
    if (retryAfter > 0) {
      this.#host.events.emit(SessionEvents.RATE_LIMITED, scope)
      throw new RateLimitError(scope, retryAfter)
    }
  }

  /** Records that the user's sessions and/or remember-me tokens issued until now are revoked. */
  async markRevoked(userId: string, what: RevocationScope): Promise<void> {
    if (!what.sessions && !what.rememberMe) return
    await markRevoked(await this.store(), userId, what, markerLifetime(this.#host.config))
  }

  /** The user's current remember-me generation: tokens issued in an older one are revoked. */
  async rememberGeneration(userId: string): Promise<number> {
    return rememberGeneration(await this.store(), userId)
  }

  /**
   * Before a revokeAll deletes the user's sessions: writes in flight for the user (login,
   * regenerate) that started until now will undo themselves (see revocation-fence.ts). Without a
   * server-side security store (a cookie default and no `securityStore`) there is nowhere to
   * keep the fence, and nothing is recorded.
   */
  async fenceWrites(userId: string, keep: readonly string[]): Promise<void> {
    const store = await this.#fenceStore()
    if (store) await raiseFence(store, userId, keep, markerLifetime(this.#host.config))
  }

  /** True when a revokeAll of the user began at or after `since` and did not keep `key`. */
  async revokedSince(userId: string, since: number, key: string): Promise<boolean> {
    const store = await this.#fenceStore()
    return store ? fencedSince(store, userId, since, key) : false
  }

  async #fenceStore(): Promise<GuardedStore | null> {
    try {
      return await this.store()
    } catch (error) {
      if (error instanceof SessionConfigError) return null
      throw error
    }
  }

  /** Records the logout of the request-scoped (sealed) session stored under `key`, for `lifetimeMs`. */
  async markEnded(key: string, lifetimeMs: number): Promise<void> {
    await markEnded(await this.store(), key, lifetimeMs)
  }

  /** True when the request-scoped (sealed) session stored under `key` was logged out. */
  async isEnded(key: string): Promise<boolean> {
    return isEnded(await this.store(), key)
  }

  /** True when a session of the user created at `createdAt` was revoked afterwards (and `key` was not kept). */
  async isRevoked(userId: string, createdAt: number, key?: string): Promise<boolean> {
    return isRevoked(await this.store(), userId, createdAt, key)
  }
}
