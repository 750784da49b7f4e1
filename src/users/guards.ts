import type { ResolvedConfig } from '../config/resolve.js'
import { SessionEvents, type SessionEventEmitter } from '../session/events.js'
import type { SessionGuards } from '../session/session.js'
import type { GuardedStore } from '../session/store.js'
import { supports, type RecordMeta } from '../drivers/contract.js'
import { SessionError, SessionLimitError } from '../lib/errors.js'
import type { SecurityState } from '../security/security-state.js'
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

/** `maxSessionsPerUser`: refuse a login over the limit, or evict the user's oldest sessions after it. */
function limitGuards(host: GuardHost, limit: SessionLimit, store: GuardedStore, timing: Timing): SessionGuards {
  const others = async (userId: string, key: string) => (await liveSessions(store, timing, userId)).filter((summary) => summary.key !== key)
  return {
    async beforeBind(userId, key) {
      if (!store.supportsUserIndex) {
        if (limit.max === 1 && limit.onLimit === 'evict-oldest') return
        throw new SessionError(
          `maxSessionsPerUser ${limit.max} with onLimit '${limit.onLimit}' needs a driver with a per-user index (memory, file, redis, sqlite, postgres); the "${store.name}" driver only supports exclusive login (max 1, 'evict-oldest').`,
          { code: 'E_SESSION_UNSUPPORTED' },
        )
      }
      if (limit.onLimit !== 'refuse') return
      if ((await others(userId, key)).length >= limit.max) throw new SessionLimitError(limit.max)
    },
    async afterBind(userId, key) {
      if (limit.onLimit !== 'evict-oldest') return
      if (!store.supportsUserIndex) {
        await host.security.markRevoked(userId, { sessions: true, rememberMe: false, keep: [key] })
        host.events.emit(SessionEvents.REVOKED, userId, 0)
        return
      }
      // Checked after the write, so two logins racing each other still end at `max` sessions.
      const excess = (await others(userId, key)).sort((a, b) => b.createdAt - a.createdAt).slice(limit.max - 1)
      for (const summary of excess) await store.destroy(summary.key)
      if (excess.length > 0) host.events.emit(SessionEvents.REVOKED, userId, excess.length)
    },
  }
}
