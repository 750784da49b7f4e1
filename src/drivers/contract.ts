/**
 * The storage driver contract, stated once: {@link SessionDriver}. A driver stores
 * {@link StoredRecord}s under opaque keys (the SHA-256 of a session id, never the id itself).
 * Three methods are required — `read`, `write`, `destroy` — and {@link isSessionDriver} checks
 * the object against exactly this interface. Every other member is marked `?`: an optional
 * capability that the core detects at runtime with {@link supports}. `touch`, `gc` and `patch` are
 * (and `rename`) are filled in from the required methods where a driver lacks them
 * (src/drivers/fallbacks.ts); the per-user index is refused with `E_SESSION_UNSUPPORTED` when a
 * feature needs it, and a missing `lock` with a SessionConfigError where an atomic security step
 * needs it (src/security/requirements.ts).
 *
 * This module is the bottom of the driver layer: drivers import it, and it imports nothing of
 * ours but `src/lib`.
 */
import type { Keyring } from '../lib/crypto.js'

/** Where a session was opened from; recorded when known, shown in "your devices" lists. */
export interface DeviceInfo {
  ip?: string
  userAgent?: string
  /** A human label such as "Firefox on Linux". */
  name?: string
}

/** Facts about a session that the store keeps beside its data. Times are epoch milliseconds. */
export interface RecordMeta {
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  /** Bumped by every write and patch; lets drivers detect concurrent changes. */
  version: number
  userId?: string
  device?: DeviceInfo
  /**
   * When the session was bound to its current user. Kept by request-scoped drivers (the sealed
   * cookie driver), whose sessions a revocation refuses at load: only those bound before it are
   * refused. Other drivers need not keep it (then `createdAt` counts).
   */
  boundAt?: number
}

/**
 * One session as a store sees it. Values are already encoded by the session codec (serialized,
 * and sealed when encryption is on), so a driver never needs to understand them — except through
 * the {@link ValueCodec} it is handed for `patch`.
 */
export interface StoredRecord {
  /** Data key → encoded value. Null-prototype object: keys like `__proto__` are plain keys. */
  data: Record<string, string>
  /** The encoded flash bag that the next request will read, or null. */
  flash: string | null
  meta: RecordMeta
}

/** One entry of a request's change log, with values already encoded. */
export type Change =
  | { op: 'set'; key: string; value: string }
  | { op: 'delete'; key: string }
  | { op: 'clear' }
  | { op: 'increment'; key: string; by: number }
  | { op: 'push'; key: string; value: string }
  | { op: 'flash'; value: string | null }
  | { op: 'user'; userId: string | null; device?: DeviceInfo }

/** Encodes and decodes single values; handed to drivers so `patch` can apply increment/push. */
export interface ValueCodec {
  encode(value: unknown, key: string): string
  decode(encoded: string, key: string): unknown
}

export interface PatchOptions {
  /** Time to live from now, in milliseconds; the patched record expires this long from now. */
  ttl: number
  codec: ValueCodec
}

/**
 * `applied`: the changes are stored. `missing`: there was no live record (destroyed or expired
 * meanwhile), so the changes were dropped — a destroyed session never comes back.
 */
export type PatchResult = 'applied' | 'missing'

/** A session as listed for its user (multi-device views). */
export interface SessionSummary {
  /** The storage key (SHA-256 of the session id); pass it to `destroy` to revoke. */
  key: string
  userId: string
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  device?: DeviceInfo
}

/** Releases a lock taken with {@link SessionDriver.lock}. */
export type Unlock = () => Promise<void>

/**
 * The request's cookie jar, handed to request-scoped drivers (the sealed cookie driver). The jar
 * owns every cookie attribute (path, domain, secure, …) except the lifetime; reads see the
 * request's cookies with this request's own sets and deletes applied.
 */
export interface CookieJar {
  get(name: string): string | undefined
  /** `maxAge` in seconds; omitted (or a browser-session config) makes a browser-session cookie. */
  set(name: string, value: string, options: { maxAge?: number }): void
  delete(name: string): void
}

/**
 * A session store. The custom drivers of docs/seeds.md implement `read`, `write`, `destroy` and
 * one of `touch` or `gc`; both fit, because only the first three are required.
 */
export interface SessionDriver {
  /** Short name used in error messages and metrics, e.g. `redis`. */
  readonly name?: string
  /** The live record under `key`, or null when there is none or it has expired. */
  read(key: string): Promise<StoredRecord | null>
  /** Creates or replaces the record; it expires `ttl` milliseconds from now. */
  write(key: string, record: StoredRecord, ttl: number): Promise<void>
  /** Removes the record; removing a missing record is not an error. */
  destroy(key: string): Promise<void>

  /**
   * Extends the record's life to `ttl` ms from now and sets its lastSeenAt to now. Without it the
   * core reads the record and writes it back with the new expiry.
   */
  touch?(key: string, ttl: number): Promise<void>
  /**
   * Removes expired records; returns how many (when the driver knows). Without it the core
   * collects nothing: such a driver must expire records itself (or never hold expired ones).
   * `maxLifetime` (ms) is not passed by the core; it is declared for drivers written against the
   * signature `gc(maxLifetime)` of docs/seeds.md.
   */
  gc?(maxLifetime?: number): Promise<number | void>
  /** Applies a change log to the stored record atomically. Without it the core reads, applies and writes. */
  patch?(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult>
  /**
   * Moves a session to a new key (regenerate): writes `record` under `toKey` (expiring `ttl` ms
   * from now) and removes `fromKey`, but only if `fromKey` still holds a live record. Returns
   * false, writing nothing, when it does not (the session was destroyed meanwhile: logout wins).
   * A destroy of `fromKey` that completed before must make it return false. Without it the core
   * writes the new key, then checks the old one and undoes the write when it is gone.
   */
  rename?(fromKey: string, toKey: string, record: StoredRecord, ttl: number): Promise<boolean>
  /** Live sessions of one user. */
  listByUser?(userId: string): Promise<SessionSummary[]>
  /** Destroys every session of one user, except the listed keys; returns how many. */
  destroyByUser?(userId: string, options?: { exceptKeys?: readonly string[] }): Promise<number>
  /**
   * Mutual exclusion per key, across every process and connection that shares the store; the
   * lease ends after `ttl` ms even if never released. The atomic security steps hold it (spending
   * a remember-me token, a `rateLimit.create` bucket, a login under `maxSessionsPerUser`); a driver
   * that cannot exclude across processes must not declare it, and those features refuse it.
   */
  lock?(key: string, ttl: number): Promise<Unlock>
  /** Closes connections and timers. */
  close?(): Promise<void>
  /**
   * Request-scoped drivers (the sealed cookie driver) keep state in the request itself: this
   * returns a driver bound to one request's cookie jar. The core calls it once per request.
   */
  forRequest?(jar: CookieJar): SessionDriver
}

/** The methods every driver has. */
const REQUIRED_METHODS = ['read', 'write', 'destroy'] as const

/** Optional capabilities of a driver: the members of {@link SessionDriver} marked `?` (but `name`). */
export type DriverCapability = Exclude<keyof SessionDriver, (typeof REQUIRED_METHODS)[number] | 'name'>

const CAPABILITIES = {
  touch: true,
  gc: true,
  patch: true,
  rename: true,
  listByUser: true,
  destroyByUser: true,
  lock: true,
  close: true,
  forRequest: true,
} as const satisfies Record<DriverCapability, true>

/**
 * True for an object that implements the driver contract: the required methods are functions,
 * and each optional capability it has is a function too.
 */
export function isSessionDriver(value: unknown): value is SessionDriver {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  if (!REQUIRED_METHODS.every((method) => typeof candidate[method] === 'function')) return false
  return Object.keys(CAPABILITIES).every((capability) => candidate[capability] === undefined || typeof candidate[capability] === 'function')
}

/** True when the driver implements the named optional capability. */
export function supports<C extends DriverCapability>(
  driver: SessionDriver,
  capability: C,
): driver is SessionDriver & Required<Pick<SessionDriver, C>> {
  return typeof driver[capability] === 'function'
}

/**
 * What the manager hands a driver factory besides the driver's own options: facts of the manager
 * (not options the user wrote under the driver), so a driver checks its options exactly.
 */
export interface DriverContext {
  /** The session cookie's name; the cookie driver names its data cookies after it. */
  cookieName?: string
  /** The manager's keys, when configured; the cookie driver seals sessions with them. */
  keyring?: Keyring
  /** The session lifetime of this driver's config entry, in milliseconds. */
  lifetimeMs?: number
}
