import { SessionConfigError } from '../lib/errors.js'
import { durationMs } from '../config/checks.js'
import type { Duration } from '../lib/durations.js'
import type { RecordMeta } from '../drivers/contract.js'
import { storageKeyFor } from '../lib/ids.js'
import { SessionEvents, type SessionEventEmitter } from '../session/events.js'
import type { Session } from '../session/session.js'
import type { StoreObserver, StoreOperation } from '../session/store.js'
import { StoreLatency, type DriverMetrics } from './latency.js'

export type { DriverMetrics, LatencyStats } from './latency.js'

/** How a manager collects metrics: `new SessionManager({ metrics: { activeWindow: '5m' } })`. */
export interface MetricsOptions {
  /** A session counts as active when it was seen this recently. Default `'5m'`. */
  activeWindow?: Duration
  /** How often the sessions-over-time series takes a sample. Default `'1m'`. */
  sampleInterval?: Duration
  /** How many samples the series keeps (older ones are dropped). Default 60. */
  samples?: number
  /** At most this many sessions are tracked; beyond it the least recently seen are forgotten. Default 100,000. */
  maxTracked?: number
}

/** One point of the sessions-over-time series. */
export interface MetricsSample {
  at: number
  total: number
  active: number
}

/**
 * A snapshot from `manager.metrics()`. Every number comes from counters this process keeps
 * while it works (manager events and store calls); taking a snapshot never reads the store.
 * So the figures describe **what this process has seen since it started**: in a cluster, each
 * process reports its own share, and sessions created before a restart are counted once they
 * are used again.
 */
export interface SessionMetrics {
  /** When the snapshot was taken, and when counting began (epoch ms). */
  at: number
  since: number
  sessions: {
    /**
     * Live sessions this process knows of: loaded, created or saved here, not destroyed, and
     * whose expiry has not passed (expiry is checked in last-seen order, so a session with a
     * shorter lifetime than those seen before it may be counted until they expire too).
     */
    total: number
    /** Sessions seen (loaded or saved) within the last `activeWindowMs`. */
    active: number
    activeWindowMs: number
    /** Distinct user ids among the tracked sessions (sessions bound with `setUser`). */
    uniqueUsers: number
    /** Mean age (now − created) of the tracked live sessions, as the seeds define session length (docs/seeds.md); 0 when none. */
    averageLengthMs: number
    /** Mean lifetime (ended − created) of tracked sessions that were destroyed; 0 when none. */
    averageEndedLengthMs: number
    /** Sessions forgotten because `maxTracked` was reached (the counts above are then lower bounds). */
    untracked: number
  }
  counts: {
    /** New sessions written to the store for the first time. */
    created: number
    /** `regenerate()` calls (new id, same data). */
    regenerated: number
    /** `invalidate()` calls (logout). */
    invalidated: number
    /**
     * Sessions ended by this process: logout, `users.revoke`, revocations (one, all of a user's,
     * evicted by the session limit), sessions found past a timeout or revoked when loaded, and
     * sessions dropped for invalid data. Not counted: the old id that `regenerate()` replaces,
     * and expiry that the store applies by itself (see `gcRemoved`).
     */
    destroyed: number
    /** Of `destroyed`: sessions presented after their idle/absolute timeout or revocation. */
    expired: number
    /** Sessions removed by `gc()`, as reported by the drivers. */
    gcRemoved: number
  }
  errors: {
    /** Store calls that failed or timed out, all drivers. */
    store: number
    storeTimeouts: number
    rateLimited: number
    bindingMismatches: number
    rememberMeThefts: number
    invalidData: number
  }
  /** Store latency per driver name. */
  drivers: Record<string, DriverMetrics>
  /** Total and active sessions over time, oldest first, one sample per `intervalMs`. */
  series: { intervalMs: number; points: MetricsSample[] }
  /** The users with the most tracked sessions (only with `metrics({ topUsers })`), most first. */
  sessionsByUser: { userId: string; sessions: number }[]
}

interface Tracked {
  /** Relative to the collector's epoch, so sums keep integer precision. */
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  userId: string | undefined
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new SessionConfigError(`metrics.${name} must be a positive whole number, got ${JSON.stringify(value)}.`)
  }
  return value
}

function durationOf(name: string, value: Duration | undefined, fallback: number): number {
  return value === undefined ? fallback : durationMs(`metrics.${name}`, value)
}

/**
 * Keeps a manager's metrics up to date from its events and store calls. Per request it does a
 * map lookup and a few field writes (for a loaded session) or nothing (for a fresh one), and per
 * store call one histogram increment. Tracking state is bounded by `maxTracked`.
 */
export class MetricsCollector implements StoreObserver {
  readonly #epoch = Date.now()
  readonly #activeWindowMs: number
  readonly #intervalMs: number
  readonly #maxTracked: number
  /** Sessions seen within the active window, least recently seen first. */
  readonly #active = new Map<string, Tracked>()
  /** Known live sessions not seen within the window, least recently seen first. */
  readonly #idle = new Map<string, Tracked>()
  readonly #users = new Map<string, Set<string>>()
  readonly #latency = new StoreLatency()
  #createdSum = 0
  #endedCount = 0
  #endedLengthSum = 0
  #untracked = 0
  readonly #counts = { created: 0, regenerated: 0, invalidated: 0, destroyed: 0, expired: 0, gcRemoved: 0 }
  readonly #errors = { store: 0, storeTimeouts: 0, rateLimited: 0, bindingMismatches: 0, rememberMeThefts: 0, invalidData: 0 }
  readonly #sampleAt: Float64Array
  readonly #sampleTotal: Uint32Array
  readonly #sampleActive: Uint32Array
  #sampleCount = 0
  #sampleNext = 0
  readonly #timer: NodeJS.Timeout

  constructor(events: SessionEventEmitter<Session>, options: MetricsOptions = {}) {
    this.#activeWindowMs = durationOf('activeWindow', options.activeWindow, 5 * 60_000)
    this.#intervalMs = durationOf('sampleInterval', options.sampleInterval, 60_000)
    this.#maxTracked = positive('maxTracked', options.maxTracked, 100_000)
    const samples = positive('samples', options.samples, 60)
    this.#sampleAt = new Float64Array(samples)
    this.#sampleTotal = new Uint32Array(samples)
    this.#sampleActive = new Uint32Array(samples)
    this.#subscribe(events)
    this.sample() // the series starts at creation, so a chart has a baseline from the first snapshot
    this.#timer = setInterval(() => this.sample(), this.#intervalMs)
    this.#timer.unref()
  }

  /** Stops sampling (the manager calls it on close). */
  close(): void {
    clearInterval(this.#timer)
  }

  // ------------------------------------------------------------ StoreObserver

  call(driver: string, operation: StoreOperation, durationMs: number, outcome: 'ok' | 'error' | 'timeout'): void {
    this.#latency.record(driver, operation, durationMs, outcome)
    if (outcome === 'error') this.#errors.store++
    else if (outcome === 'timeout') {
      this.#errors.store++
      this.#errors.storeTimeouts++
    }
  }

  removed(key: string): void {
    const entry = this.#active.get(key) ?? this.#idle.get(key)
    if (entry) this.#forget(key, entry, true)
  }

  removedUser(userId: string, exceptKeys: readonly string[]): void {
    const keys = this.#users.get(userId)
    if (!keys) return
    for (const key of [...keys]) if (!exceptKeys.includes(key)) this.removed(key)
  }

  // ------------------------------------------------------------ snapshot

  /** Takes one sample for the sessions-over-time series (the timer calls it every interval). */
  sample(now = Date.now()): void {
    this.#expire(now)
    const size = this.#sampleAt.length
    const slot = this.#sampleNext
    this.#sampleAt[slot] = now
    this.#sampleTotal[slot] = this.#active.size + this.#idle.size
    this.#sampleActive[slot] = this.#active.size
    this.#sampleNext = (slot + 1) % size
    this.#sampleCount = Math.min(size, this.#sampleCount + 1)
  }

  /** The current metrics; `topUsers` adds the users with the most sessions. */
  snapshot(options: { topUsers?: number } = {}, now = Date.now()): SessionMetrics {
    this.#expire(now)
    const total = this.#active.size + this.#idle.size
    const drivers: Record<string, DriverMetrics> = this.#latency.snapshot()
    return {
      at: now,
      since: this.#epoch,
      sessions: {
        total,
        active: this.#active.size,
        activeWindowMs: this.#activeWindowMs,
        uniqueUsers: this.#users.size,
        averageLengthMs: total === 0 ? 0 : Math.max(0, Math.round(now - this.#epoch - this.#createdSum / total)),
        averageEndedLengthMs: this.#endedCount === 0 ? 0 : Math.round(this.#endedLengthSum / this.#endedCount),
        untracked: this.#untracked,
      },
      counts: { ...this.#counts },
      errors: { ...this.#errors },
      drivers,
      series: { intervalMs: this.#intervalMs, points: this.#points() },
      sessionsByUser: this.#topUsers(options.topUsers ?? 0),
    }
  }

  // ------------------------------------------------------------ tracking

  #subscribe(events: SessionEventEmitter<Session>): void {
    const counts = this.#counts
    events.on(SessionEvents.STARTED, (session) => {
      // A fresh session is not stored (yet): only loaded sessions are activity.
      if (!session.status.fresh && session.status.meta) this.#seen(session.status.storageKey, session.status.meta, Date.now())
    })
    events.on(SessionEvents.COMMITTED, (session) => {
      const { persisted, meta, storageKey, fresh } = session.status
      if (!persisted || !meta) return
      const isNew = this.#seen(storageKey, meta, Date.now())
      if (isNew && fresh) counts.created++
    })
    events.on(SessionEvents.REGENERATED, (session, oldId) => {
      counts.regenerated++
      // The session lives on under its new key, with its creation time: not an ending.
      const { persisted, meta, storageKey } = session.status
      if (!persisted || !meta) return
      const retired = storageKeyFor(oldId)
      const entry = this.#active.get(retired) ?? this.#idle.get(retired)
      if (entry) this.#forget(retired, entry, false)
      this.#seen(storageKey, meta, Date.now())
    })
    events.on(SessionEvents.INVALIDATED, () => void counts.invalidated++)
    events.on(SessionEvents.DESTROYED, () => void counts.destroyed++)
    events.on(SessionEvents.REVOKED, (_userId, removed) => void (counts.destroyed += removed))
    events.on(SessionEvents.EXPIRED, () => {
      counts.expired++
      counts.destroyed++
    })
    events.on(SessionEvents.INVALID_DATA, () => {
      this.#errors.invalidData++
      counts.destroyed++
    })
    events.on(SessionEvents.GC, (removed) => void (counts.gcRemoved += removed))
    events.on(SessionEvents.RATE_LIMITED, () => void this.#errors.rateLimited++)
    events.on(SessionEvents.BINDING_MISMATCH, () => void this.#errors.bindingMismatches++)
    events.on(SessionEvents.REMEMBER_ME_THEFT, () => void this.#errors.rememberMeThefts++)
  }

  /** Marks a session seen now; true when it was not tracked before. */
  #seen(key: string, meta: Readonly<RecordMeta>, now: number): boolean {
    let entry = this.#active.get(key)
    let isNew = false
    if (entry) {
      this.#active.delete(key) // re-inserted below: the map stays in last-seen order
    } else {
      entry = this.#idle.get(key)
      if (entry) this.#idle.delete(key)
    }
    if (!entry) {
      isNew = true
      entry = { createdAt: meta.createdAt - this.#epoch, lastSeenAt: now, expiresAt: meta.expiresAt, userId: undefined }
      this.#createdSum += entry.createdAt
      if (this.#active.size + this.#idle.size >= this.#maxTracked) this.#evictOne()
    }
    entry.lastSeenAt = now
    entry.expiresAt = meta.expiresAt
    if (entry.userId !== meta.userId) {
      this.#unlinkUser(key, entry)
      entry.userId = meta.userId
      if (meta.userId !== undefined) {
        let keys = this.#users.get(meta.userId)
        if (!keys) this.#users.set(meta.userId, (keys = new Set()))
        keys.add(key)
      }
    }
    this.#active.set(key, entry)
    return isNew
  }

  #forget(key: string, entry: Tracked, ended: boolean): void {
    if (!this.#active.delete(key)) this.#idle.delete(key)
    this.#createdSum -= entry.createdAt
    this.#unlinkUser(key, entry)
    if (ended) {
      this.#endedCount++
      this.#endedLengthSum += Date.now() - this.#epoch - entry.createdAt
    }
  }

  #unlinkUser(key: string, entry: Tracked): void {
    if (entry.userId === undefined) return
    const keys = this.#users.get(entry.userId)
    keys?.delete(key)
    if (keys?.size === 0) this.#users.delete(entry.userId)
  }

  #evictOne(): void {
    const source = this.#idle.size > 0 ? this.#idle : this.#active
    for (const [key, entry] of source) {
      this.#forget(key, entry, false)
      this.#untracked++
      return
    }
  }

  /** Moves sessions out of the active window and drops expired ones, oldest first. */
  #expire(now: number): void {
    const cutoff = now - this.#activeWindowMs
    for (const [key, entry] of this.#active) {
      if (entry.lastSeenAt > cutoff) break
      this.#active.delete(key)
      this.#idle.set(key, entry)
    }
    for (const [key, entry] of this.#idle) {
      if (entry.expiresAt > now) break
      this.#forget(key, entry, false)
    }
    // Sessions that expire while still inside the active window leave it at the latest then.
  }

  #points(): MetricsSample[] {
    const size = this.#sampleAt.length
    const points: MetricsSample[] = []
    for (let i = 0; i < this.#sampleCount; i++) {
      const slot = (this.#sampleNext - this.#sampleCount + i + size) % size
      points.push({
        at: this.#sampleAt[slot] as number,
        total: this.#sampleTotal[slot] as number,
        active: this.#sampleActive[slot] as number,
      })
    }
    return points
  }

  #topUsers(limit: number): { userId: string; sessions: number }[] {
    if (limit <= 0) return []
    const rows: { userId: string; sessions: number }[] = []
    for (const [userId, keys] of this.#users) rows.push({ userId, sessions: keys.size })
    return rows.sort((a, b) => b.sessions - a.sessions || (a.userId < b.userId ? -1 : 1)).slice(0, limit)
  }
}
