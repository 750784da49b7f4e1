import { setTimeout as sleep } from 'node:timers/promises'
import type { DeviceInfo, RecordMeta, SessionSummary } from '../drivers/contract.js'
import { RateLimitError, SessionConfigError, SessionError, SessionLimitError } from '../lib/errors.js'
import { isWellFormedSessionId, storageKeyFor } from '../lib/ids.js'
import type { ResolvedConfig } from './config.js'
import { SessionEvents, type SessionEventEmitter } from '../session/events.js'
import { TokenBucket } from './limiter.js'
import type { Session, SessionContext, SessionData, SessionGuards } from '../session/session.js'
import { numberField, readState, stateKey, writeState } from './state.js'
import type { GuardedStore } from '../session/store.js'

/** A session as the per-user API returns it (seed 004's shape). */
export interface UserSession<Data extends SessionData = SessionData> {
  /** The session id: what the cookie carries. Treat it as a secret. */
  id: string
  /** The storage key (SHA-256 of the id): safe to show, pass it to `revokeSession`. */
  key: string
  userId: string
  data: Partial<Data>
  createdAt: number
  lastActiveAt: number
  expiresAt: number
  device?: DeviceInfo
}

/** One entry of `listSessions(userId)`: no id (the list is meant to be shown), only the key. */
export interface ListedSession {
  key: string
  userId: string
  createdAt: number
  lastActiveAt: number
  expiresAt: number
  /** Device label, e.g. "Firefox on Linux", when given at login. */
  deviceName?: string
  ip?: string
  userAgent?: string
}

export interface CreateSessionOptions {
  /** Where the user signed in from; shown in session lists and used for the per-IP rate limit. */
  device?: DeviceInfo
  /** Driver name; default: the default driver. */
  driver?: string
}

export interface RevokeAllOptions {
  /** Session ids or storage keys to keep (typically the current session). */
  except?: string | readonly string[]
  /** Also revoke the user's remember-me tokens. Default true. */
  rememberMe?: boolean
  driver?: string
}

/** What {@link UserSessions} needs from its manager. */
export interface UserSessionHost<Data extends SessionData> {
  readonly config: ResolvedConfig
  readonly events: SessionEventEmitter
  session(options: { id?: string | null; driver?: string }): Session<Data>
  context(name?: string): Promise<SessionContext>
}

/**
 * Per-user session management: create/get/update/refresh/delete by id, list a user's devices,
 * revoke one or all, the `maxSessionsPerUser` policy, and revocation of stateless sessions.
 */
export class UserSessions<Data extends SessionData = SessionData> {
  readonly #host: UserSessionHost<Data>
  readonly #userBucket: TokenBucket | null
  readonly #ipBucket: TokenBucket | null

  constructor(host: UserSessionHost<Data>) {
    this.#host = host
    const rule = host.config.security.createLimit
    this.#userBucket = rule ? new TokenBucket(rule, 'create:user') : null
    this.#ipBucket = rule ? new TokenBucket(rule, 'create:ip') : null
  }

  /** The store that keeps security state (buckets, remember-me tokens, revocation markers). */
  async stateStore(): Promise<GuardedStore> {
    const name = this.#host.config.security.securityStore
    const { store } = await this.#host.context(name)
    if (store.name === 'cookie') {
      throw new SessionConfigError(
        'The cookie driver cannot keep server-side security state (remember-me tokens, rate limits, revocations). Configure a server-side driver and name it in "securityStore".',
      )
    }
    return store
  }

  /**
   * Takes one session-creation token for a client IP; throws {@link RateLimitError} when the
   * `rateLimit.create` budget is spent. Does nothing when no rate limit is configured.
   */
  async limitCreation(scope: 'ip' | 'user', subject: string): Promise<void> {
    const bucket = scope === 'ip' ? this.#ipBucket : this.#userBucket
    if (!bucket) return
    const retryAfter = await bucket.take(await this.stateStore(), subject)
    if (retryAfter > 0) {
      this.#host.events.emit(SessionEvents.RATE_LIMITED, scope)
      throw new RateLimitError(scope, retryAfter)
    }
  }

  async create(userId: string, data: Partial<Data> = {}, options: CreateSessionOptions = {}): Promise<UserSession<Data>> {
    assertUserId(userId)
    await this.limitCreation('user', userId)
    if (options.device?.ip) await this.limitCreation('ip', options.device.ip)
    const session = this.#host.session({ driver: options.driver })
    await session.start()
    session.put(data)
    session.auth.setUser(userId, options.device)
    await session.save()
    return toUserSession(session) as UserSession<Data>
  }

  async get(id: string, driver?: string): Promise<UserSession<Data> | null> {
    const session = await this.#load(id, driver)
    return session ? toUserSession(session) : null
  }

  /** Merges `data` into the session's data; false when the session is gone. */
  async update(id: string, data: Partial<Data>, driver?: string): Promise<boolean> {
    const session = await this.#load(id, driver)
    if (!session) return false
    session.put(data)
    await session.save()
    return session.status.persisted
  }

  /** Extends the session's expiry by a full lifetime from now; false when it is gone. */
  async refresh(id: string, driver?: string): Promise<boolean> {
    const session = await this.#load(id, driver)
    if (!session) return false
    const { store, lifetimeMs } = await this.#host.context(driver)
    await store.touch(session.status.storageKey, lifetimeMs)
    return true
  }

  async delete(id: string, driver?: string): Promise<void> {
    if (!isWellFormedSessionId(id)) return
    const { store } = await this.#host.context(driver)
    await store.destroy(storageKeyFor(id))
    this.#host.events.emit(SessionEvents.DESTROYED, id)
  }

  /** The user's live sessions, most recently active first. */
  async list(userId: string, driver?: string): Promise<ListedSession[]> {
    const context = await this.#host.context(driver)
    const now = Date.now()
    const summaries = await context.store.listByUser(userId)
    return summaries
      .filter((summary) => !timedOut(context, summary, now))
      .sort((a, b) => b.lastSeenAt - a.lastSeenAt)
      .map(toListed)
  }

  /**
   * Ends one session, named by its storage key (from `listSessions`) or its id. With `userId`,
   * only a session of that user is ended: pass the signed-in user to let people revoke their own
   * devices without being able to revoke anyone else's. True when a session was ended.
   */
  async revoke(keyOrId: string, options: { userId?: string; driver?: string } = {}): Promise<boolean> {
    if (typeof keyOrId !== 'string' || !isWellFormedSessionId(keyOrId)) return false
    const { store } = await this.#host.context(options.driver)
    for (const key of [keyOrId, storageKeyFor(keyOrId)]) {
      const record = await store.read(key)
      if (!record) continue
      if (options.userId !== undefined && record.meta.userId !== options.userId) return false
      await store.destroy(key)
      if (record.meta.userId !== undefined) this.#host.events.emit(SessionEvents.REVOKED, record.meta.userId, 1)
      return true
    }
    return false
  }

  /**
   * Ends every session of the user except the listed ones, and (by default) their remember-me
   * tokens. Stateless (cookie) sessions are ended through a revocation record that every later
   * request checks. Returns how many stored sessions were removed.
   */
  async revokeAll(userId: string, options: RevokeAllOptions = {}): Promise<number> {
    assertUserId(userId)
    const except = typeof options.except === 'string' ? [options.except] : (options.except ?? [])
    const keep = except.flatMap((entry) => (isWellFormedSessionId(entry) ? [entry, storageKeyFor(entry)] : []))
    const { store } = await this.#host.context(options.driver)
    const removed = store.supportsUserIndex ? await store.destroyByUser(userId, keep) : 0
    await this.markRevoked(userId, { sessions: !store.supportsUserIndex, rememberMe: options.rememberMe ?? true, keep })
    this.#host.events.emit(SessionEvents.REVOKED, userId, removed)
    return removed
  }

  /** Records that the user's sessions and/or remember-me tokens issued until now are revoked. */
  async markRevoked(userId: string, what: { sessions: boolean; rememberMe: boolean; keep?: readonly string[] }): Promise<void> {
    if (!what.sessions && !what.rememberMe) return
    const store = await this.stateStore()
    const key = stateKey('revoked', userId)
    const fields = { ...(await readState(store, key)) }
    const revokedAt = Date.now()
    if (what.sessions) {
      // Sessions created up to and including this millisecond are revoked: one minted in the
      // same millisecond raced the revocation (a stolen token's session), and revocation wins.
      fields.sessions = String(revokedAt + 1)
      fields.keep = JSON.stringify(what.keep ?? [])
    }
    // Tokens carry the generation they were issued in: a counter, so a token issued in the same
    // millisecond right after a revocation (password change, then "remember me") still works.
    if (what.rememberMe) fields.rememberMe = String(numberField(fields, 'rememberMe', 0) + 1)
    await writeState(store, key, fields, this.#markerLifetime())
    // Return only once the clock has moved on, so a session created after this call (a fresh
    // login) is never mistaken for one created with the revoked ones.
    if (what.sessions) while (Date.now() <= revokedAt) await sleep(1)
  }

  /** The user's current remember-me generation: tokens issued in an older one are revoked. */
  async rememberGeneration(userId: string): Promise<number> {
    return numberField(await readState(await this.stateStore(), stateKey('revoked', userId)), 'rememberMe', 0)
  }

  /**
   * True when a session created at `createdAt` was revoked afterwards (a session created in the
   * same millisecond as the revocation counts as revoked).
   */
  async isRevoked(userId: string, createdAt: number, key?: string): Promise<boolean> {
    const fields = await readState(await this.stateStore(), stateKey('revoked', userId))
    if (!fields || createdAt >= numberField(fields, 'sessions', Number.NEGATIVE_INFINITY)) return false
    return key === undefined || !parseKeep(fields.keep).includes(key)
  }

  /** The hooks a Session calls at load and when it is bound to a user. */
  guards(store: GuardedStore, timing: Timing): SessionGuards {
    const limit = this.#host.config.security.sessionLimit
    const guards: SessionGuards = {}
    const stateless = !store.supportsUserIndex
    if (stateless && (store.name !== 'cookie' || this.#host.config.security.securityStore !== undefined)) {
      // Stateless sessions cannot be deleted server-side; a revocation record refuses them instead.
      // (Without a securityStore the cookie driver has nowhere to keep one: revokeAll says so.)
      guards.isRevoked = (key: string, meta: RecordMeta) =>
        meta.userId === undefined ? Promise.resolve(false) : this.isRevoked(meta.userId, meta.createdAt, key)
    }
    if (!limit) return guards
    guards.beforeBind = async (userId, key) => {
      if (!store.supportsUserIndex) {
        if (limit.max === 1 && limit.onLimit === 'evict-oldest') return
        throw new SessionError(
          `maxSessionsPerUser ${limit.max} with onLimit '${limit.onLimit}' needs a driver with a per-user index (memory, file, redis, sqlite, postgres); the "${store.name}" driver only supports exclusive login (max 1, 'evict-oldest').`,
          { code: 'E_SESSION_UNSUPPORTED' },
        )
      }
      if (limit.onLimit !== 'refuse') return
      const others = (await this.#liveOf(store, timing, userId)).filter((summary) => summary.key !== key)
      if (others.length >= limit.max) throw new SessionLimitError(limit.max)
    }
    guards.afterBind = async (userId, key) => {
      if (limit.onLimit !== 'evict-oldest') return
      if (!store.supportsUserIndex) {
        await this.markRevoked(userId, { sessions: true, rememberMe: false, keep: [key] })
        this.#host.events.emit(SessionEvents.REVOKED, userId, 0)
        return
      }
      // Checked after the write, so two logins racing each other still end at `max` sessions.
      const others = (await this.#liveOf(store, timing, userId))
        .filter((summary) => summary.key !== key)
        .sort((a, b) => b.createdAt - a.createdAt)
      const excess = others.slice(limit.max - 1)
      for (const summary of excess) await store.destroy(summary.key)
      if (excess.length > 0) this.#host.events.emit(SessionEvents.REVOKED, userId, excess.length)
    }
    return guards
  }

  async #liveOf(store: GuardedStore, timing: Timing, userId: string): Promise<SessionSummary[]> {
    const now = Date.now()
    return (await store.listByUser(userId)).filter((summary) => !timedOut(timing, summary, now))
  }

  async #load(id: string, driver?: string): Promise<Session<Data> | null> {
    if (!isWellFormedSessionId(id)) return null
    const session = this.#host.session({ id, driver })
    await session.start()
    return session.status.fresh ? null : session
  }

  #markerLifetime(): number {
    const { config } = this.#host
    let longest = Math.max(config.lifetimeMs, config.security.rememberMe.lifetimeMs)
    for (const { lifetimeMs } of config.drivers.values()) longest = Math.max(longest, lifetimeMs)
    return longest
  }
}

function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId === '') {
    throw new SessionError('userId must be a non-empty string; convert numeric ids with String(id).', { code: 'E_SESSION_USER_ID', status: 500 })
  }
}

type Timing = Pick<SessionContext, 'idleTimeoutMs' | 'absoluteTimeoutMs'>

function timedOut(context: Timing, summary: SessionSummary, now: number): boolean {
  const { idleTimeoutMs, absoluteTimeoutMs } = context
  if (absoluteTimeoutMs !== null && now - summary.createdAt >= absoluteTimeoutMs) return true
  return idleTimeoutMs !== null && now - summary.lastSeenAt >= idleTimeoutMs
}

function parseKeep(text: string | undefined): string[] {
  try {
    const parsed: unknown = JSON.parse(text ?? '[]')
    return Array.isArray(parsed) ? parsed.filter((entry): entry is string => typeof entry === 'string') : []
  } catch {
    return []
  }
}

function toListed(summary: SessionSummary): ListedSession {
  const listed: ListedSession = {
    key: summary.key,
    userId: summary.userId,
    createdAt: summary.createdAt,
    lastActiveAt: summary.lastSeenAt,
    expiresAt: summary.expiresAt,
  }
  if (summary.device?.name !== undefined) listed.deviceName = summary.device.name
  if (summary.device?.ip !== undefined) listed.ip = summary.device.ip
  if (summary.device?.userAgent !== undefined) listed.userAgent = summary.device.userAgent
  return listed
}

function toUserSession<Data extends SessionData>(session: Session<Data>): UserSession<Data> {
  const meta = session.status.meta
  const now = Date.now()
  const result: UserSession<Data> = {
    id: session.sessionId,
    key: session.status.storageKey,
    userId: session.auth.userId ?? '',
    data: session.all(),
    createdAt: meta?.createdAt ?? now,
    lastActiveAt: meta?.lastSeenAt ?? now,
    expiresAt: meta?.expiresAt ?? now,
  }
  if (meta?.device) result.device = { ...meta.device }
  return result
}
