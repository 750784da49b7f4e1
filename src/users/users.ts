import { SessionEvents, type SessionEventEmitter } from '../session/events.js'
import type { Session, SessionContext, SessionData } from '../session/session.js'
import type { DeviceInfo } from '../drivers/contract.js'
import { SessionError } from '../lib/errors.js'
import { isWellFormedSessionId, storageKeyFor } from '../lib/ids.js'
import type { SecurityState } from '../security/security-state.js'
import { listSessions, type ListedSession } from './listing.js'

/** A session as the per-user API returns it. */
export interface UserSession<Data extends SessionData = SessionData> {
  /** The session id: what the cookie carries. Treat it as a secret. */
  id: string
  /** The storage key (SHA-256 of the id): safe to show, pass it to `users.revoke`. */
  key: string
  userId: string
  data: Partial<Data>
  createdAt: number
  lastActiveAt: number
  expiresAt: number
  device?: DeviceInfo
}

/** Which driver a per-user call works on; default: the default driver. */
export interface UserSessionOptions {
  driver?: string
}

export interface CreateSessionOptions extends UserSessionOptions {
  /** Where the user signed in from; shown in session lists and used for the per-IP rate limit. */
  device?: DeviceInfo
}

export interface RevokeOptions extends UserSessionOptions {
  /** End the session only if it belongs to this user (a "revoke this device" endpoint). */
  userId?: string
}

export interface RevokeAllOptions extends UserSessionOptions {
  /** Session ids or storage keys to keep (typically the current session). */
  except?: string | readonly string[]
  /** Also revoke the user's remember-me tokens. Default true. */
  rememberMe?: boolean
}

/** What {@link UserSessions} needs from its manager. */
export interface UserSessionHost<Data extends SessionData> {
  readonly events: SessionEventEmitter
  readonly security: Pick<SecurityState, 'limitCreation' | 'markRevoked' | 'fenceWrites'>
  prepare(options: { id?: string | null; driver?: string }): Session<Data>
  context(name?: string): Promise<SessionContext>
}

/**
 * Server-side sessions per user (multi-device), as `manager.users`: create, read, update and
 * refresh a session by id, list a user's devices, revoke one or all of them. The
 * `maxSessionsPerUser` policy applies whenever a session is bound to a user (./guards.ts).
 */
export class UserSessions<Data extends SessionData = SessionData> {
  readonly #host: UserSessionHost<Data>

  constructor(host: UserSessionHost<Data>) {
    this.#host = host
  }

  /**
   * Creates a stored session bound to `userId` and returns it with its id (put the id in the
   * cookie). Applies `maxSessionsPerUser` and the `rateLimit.create` budget per user (and per IP
   * when `options.device.ip` is given).
   */
  async create(userId: string, data: Partial<Data> = {}, options: CreateSessionOptions = {}): Promise<UserSession<Data>> {
    assertUserId(userId)
    await this.#host.security.limitCreation('user', userId)
    if (options.device?.ip) await this.#host.security.limitCreation('ip', options.device.ip)
    const session = this.#host.prepare({ driver: options.driver })
    await session.start()
    session.put(data)
    session.auth.setUser(userId, options.device)
    await session.save()
    return toUserSession(session) as UserSession<Data>
  }

  /** The live session with this id, or null when it is unknown, expired or revoked. */
  async get(id: string, options: UserSessionOptions = {}): Promise<UserSession<Data> | null> {
    const session = await this.#load(id, options.driver)
    return session ? toUserSession(session) : null
  }

  /** Merges `data` into the session's data; false when the session is gone. */
  async update(id: string, data: Partial<Data>, options: UserSessionOptions = {}): Promise<boolean> {
    const session = await this.#load(id, options.driver)
    if (!session) return false
    session.put(data)
    await session.save()
    return session.status.persisted
  }

  /** Extends the session's expiry by a full lifetime from now; false when it is gone. */
  async refresh(id: string, options: UserSessionOptions = {}): Promise<boolean> {
    const session = await this.#load(id, options.driver)
    if (!session) return false
    const { store, lifetimeMs } = await this.#host.context(options.driver)
    await store.touch(session.status.storageKey, lifetimeMs)
    return true
  }

  /**
   * Ends one session (logout, "revoke this device"), named by its id or by its storage key (from
   * {@link list}). With `userId`, only a session of that user is ended: pass the signed-in user to
   * let people revoke their own devices without being able to revoke anyone else's. A user's
   * session emits `REVOKED (userId, 1)`; one without a user, named by id, `DESTROYED (id)`.
   * True when a session was ended.
   */
  async revoke(keyOrId: string, options: RevokeOptions = {}): Promise<boolean> {
    if (!isWellFormedSessionId(keyOrId)) return false
    const { store } = await this.#host.context(options.driver)
    const candidates: [key: string, id: string | undefined][] = [
      [keyOrId, undefined],
      [storageKeyFor(keyOrId), keyOrId],
    ]
    for (const [key, id] of candidates) {
      const record = await store.read(key)
      if (!record) continue
      const { userId } = record.meta
      if (options.userId !== undefined && userId !== options.userId) return false
      await store.destroy(key)
      if (userId !== undefined) this.#host.events.emit(SessionEvents.REVOKED, userId, 1)
      else if (id !== undefined) this.#host.events.emit(SessionEvents.DESTROYED, id)
      return true
    }
    return false
  }

  /** The user's live sessions, most recently active first (device facts and keys, never ids). */
  async list(userId: string, options: UserSessionOptions = {}): Promise<ListedSession[]> {
    return listSessions(await this.#host.context(options.driver), userId)
  }

  /**
   * Ends every session of the user except the listed ones ("sign out everywhere else"), and (by
   * default) their remember-me tokens. Stateless (cookie) sessions are ended through a revocation
   * record that every later request checks. A login or regenerate of the user that started
   * before this call and writes after it is undone, so nothing started before it survives.
   * Returns how many stored sessions were removed.
   */
  async revokeAll(userId: string, options: RevokeAllOptions = {}): Promise<number> {
    assertUserId(userId)
    const except = typeof options.except === 'string' ? [options.except] : (options.except ?? [])
    const keep = except.flatMap((entry) => (isWellFormedSessionId(entry) ? [entry, storageKeyFor(entry)] : []))
    const { store } = await this.#host.context(options.driver)
    // Fence first: a login or regenerate of this user still in flight undoes itself afterwards.
    await this.#host.security.fenceWrites(userId, keep)
    const removed = store.supportsUserIndex ? await store.destroyByUser(userId, keep) : 0
    await this.#host.security.markRevoked(userId, { sessions: !store.supportsUserIndex, rememberMe: options.rememberMe ?? true, keep })
    this.#host.events.emit(SessionEvents.REVOKED, userId, removed)
    return removed
  }

  async #load(id: string, driver?: string): Promise<Session<Data> | null> {
    if (!isWellFormedSessionId(id)) return null
    const session = this.#host.prepare({ id, driver })
    await session.start()
    return session.status.fresh ? null : session
  }
}

function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId === '') {
    throw new SessionError('userId must be a non-empty string; convert numeric ids with String(id).', {
      code: 'E_SESSION_USER_ID',
      status: 500,
    })
  }
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
