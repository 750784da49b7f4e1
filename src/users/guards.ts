import type { ResolvedConfig } from '../config/resolve.js'
import { SessionEvents, type SessionEventEmitter } from '../session/events.js'
import type { SessionGuards } from '../session/session.js'
import type { GuardedStore } from '../session/store.js'
import { supports, type RecordMeta, type Unlock } from '../drivers/contract.js'
import { SessionError, SessionLimitError } from '../lib/errors.js'
import type { SecurityState } from '../security/security-state.js'
import { lockMissing } from '../security/requirements.js'
import { stateKey } from '../security/state.js'
import { liveSessions, type Timing } from './listing.js'

/** What the guards need from a manager. */
export interface GuardHost {
  readonly config: ResolvedConfig
  readonly events: SessionEventEmitter
  readonly security: Pick<SecurityState, 'isRevoked' | 'markRevoked' | 'revokedSince' | 'isEnded' | 'markEnded'>
}

/**
 * The hooks a Session calls at load and when it is bound to a user, for one driver's store:
 * the revocation check of stateless sessions and the `maxSessionsPerUser` policy.
 */
export function sessionGuards(host: GuardHost, store: GuardedStore, timing: Timing): SessionGuards {
  // A login or regenerate that raced a revokeAll of its user undoes itself (revocation-fence.ts).
  const guards: SessionGuards = { revokedSince: (userId, key, since) => host.security.revokedSince(userId, since, key) }
  if (!store.supportsUserIndex && (store.name !== 'cookie' || host.config.security.securityStore !== undefined)) {
    // Stateless sessions cannot be deleted server-side; a revocation record refuses them instead.
    // (Without a securityStore the cookie driver has nowhere to keep one: revokeAll says so.)
    // Revoked: bound to the user before the revocation (a login since then is not revoked).
    const revoked = (key: string, userId: string, meta: RecordMeta) => host.security.isRevoked(userId, meta.boundAt ?? meta.createdAt, key)
    guards.isRevoked = (key, meta) => (meta.userId === undefined ? Promise.resolve(false) : revoked(key, meta.userId, meta))
    if (supports(store.driver, 'forRequest')) {
      // Request-scoped (sealed) sessions: logout cannot delete a copy of the cookie, so it is
      // recorded, and checked here too (one more read of the security store).
      guards.isRevoked = async (key, meta) =>
        meta.userId !== undefined && ((await host.security.isEnded(key)) || (await revoked(key, meta.userId, meta)))
      guards.beforeEnd = async (key, meta, lifetimeMs) => {
        if (meta.userId !== undefined) await host.security.markEnded(key, lifetimeMs)
      }
    }
  }
  const limit = host.config.security.sessionLimit
  return limit ? { ...guards, ...limitGuards(host, limit, store, timing) } : guards
}

type SessionLimit = NonNullable<ResolvedConfig['security']['sessionLimit']>

/** How long one login may hold its user's lock at most, in ms (a crashed holder's lease ends by itself). */
const USER_LOCK_TTL_MS = 10_000

/**
 * `maxSessionsPerUser`: refuse a login over the limit, or evict the user's oldest sessions after it.
 * On a driver with a per-user index, the check, the write of the bound session and the eviction
 * run under the user's lock (taken in `beforeBind`, released after `afterBind`), so parallel logins
 * of one user take turns in every process sharing the store: after N of them the user has exactly
 * min(N, max) sessions, and each refused login was told so.
 */
function limitGuards(host: GuardHost, limit: SessionLimit, store: GuardedStore, timing: Timing): SessionGuards {
  const others = async (userId: string, key: string) => (await liveSessions(store, timing, userId)).filter((summary) => summary.key !== key)
  // Session key → the user locks its binds hold, in order (binds of one user take turns). A bind
  // whose write failed never reaches afterBind: its lease ends by itself, and its entry is dropped
  // once expired, so it cannot stand in for a later bind's lock.
  const held = new Map<string, { unlock: Unlock; until: number }[]>()
  const release = async (key: string): Promise<void> => {
    const queue = held.get(key) ?? []
    while (queue.length > 1 && (queue[0]?.until ?? 0) <= Date.now()) await queue.shift()?.unlock()
    const entry = queue.shift()
    if (queue.length === 0) held.delete(key)
    await entry?.unlock()
  }
  return {
    async beforeBind(userId, key) {
      if (!store.supportsUserIndex) {
        if (limit.max === 1 && limit.onLimit === 'evict-oldest') return
        throw new SessionError(
          `maxSessionsPerUser ${limit.max} with onLimit '${limit.onLimit}' needs a driver with a per-user index (memory, file, redis, sqlite, postgres); the "${store.name}" driver only supports exclusive login (max 1, 'evict-oldest').`,
          { code: 'E_SESSION_UNSUPPORTED' },
        )
      }
      if (!supports(store.driver, 'lock')) throw lockMissing(store.name, 'maxSessionsPerUser')
      const unlock = await store.lock(stateKey('user-bind', userId), USER_LOCK_TTL_MS)
      held.set(key, [...(held.get(key) ?? []), { unlock, until: Date.now() + USER_LOCK_TTL_MS }])
      if (limit.onLimit !== 'refuse') return
      try {
        if ((await others(userId, key)).length >= limit.max) throw new SessionLimitError(limit.max)
      } catch (error) {
        await release(key)
        throw error
      }
    },
    async afterBind(userId, key) {
      if (!store.supportsUserIndex) {
        if (limit.onLimit !== 'evict-oldest') return
        await host.security.markRevoked(userId, { sessions: true, rememberMe: false, keep: [key] })
        host.events.emit(SessionEvents.REVOKED, userId, 0)
        return
      }
      try {
        if (limit.onLimit !== 'evict-oldest') return
        const excess = (await others(userId, key)).sort((a, b) => b.createdAt - a.createdAt).slice(limit.max - 1)
        for (const summary of excess) await store.destroy(summary.key)
        if (excess.length > 0) host.events.emit(SessionEvents.REVOKED, userId, excess.length)
      } finally {
        await release(key)
      }
    },
    async abandonBind(_userId, key) {
      await release(key)
    },
  }
}
