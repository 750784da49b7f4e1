import type { SessionContext } from '../session/session.js'
import type { GuardedStore } from '../session/store.js'
import type { SessionSummary } from '../drivers/contract.js'

/** One entry of `users.list(userId)`: no id (the list is meant to be shown), only the key. */
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

/** The timeouts a listing applies: a session past either one is no longer live. */
export type Timing = Pick<SessionContext, 'idleTimeoutMs' | 'absoluteTimeoutMs'>

/** The user's sessions that have not passed a timeout (the driver's per-user index may lag). */
export async function liveSessions(store: GuardedStore, timing: Timing, userId: string): Promise<SessionSummary[]> {
  const now = Date.now()
  return (await store.listByUser(userId)).filter((summary) => !timedOut(timing, summary, now))
}

/** The user's live sessions as shown to people, most recently active first. */
export async function listSessions(context: SessionContext, userId: string): Promise<ListedSession[]> {
  return (await liveSessions(context.store, context, userId)).sort((a, b) => b.lastSeenAt - a.lastSeenAt).map(toListed)
}

function timedOut(timing: Timing, summary: SessionSummary, now: number): boolean {
  const { idleTimeoutMs, absoluteTimeoutMs } = timing
  if (absoluteTimeoutMs !== null && now - summary.createdAt >= absoluteTimeoutMs) return true
  return idleTimeoutMs !== null && now - summary.lastSeenAt >= idleTimeoutMs
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
