import { SessionError } from '../../lib/errors.js'
import type { SessionSummary, StoredRecord } from '../contract.js'
import { parseDevice, toStoredRecord } from '../record.js'

/** Columns of the sessions table, in the order {@link recordToParams} binds them. */
export const COLUMNS = 'key, data, flash, created_at, last_seen_at, expires_at, version, user_id, device'

/**
 * One row as a client returns it. Integers may arrive as numbers, bigints or (PostgreSQL BIGINT)
 * strings; in SQLite any column may hold any type, so nothing here is trusted.
 */
export interface SessionRow {
  key: unknown
  data: unknown
  flash: unknown
  created_at: unknown
  last_seen_at: unknown
  expires_at: unknown
  version: unknown
  user_id: unknown
  device: unknown
}

/** What a driver reports when a stored row cannot be read as a session. */
export interface CorruptRowReport {
  driver: string
  table: string
  /** Storage key of the row (a hash, never the session id); the row has been deleted. */
  key: string
  reason: string
}

/** Called for each corrupt row found; it is treated as no session and deleted. */
export type CorruptRowHandler = (report: CorruptRowReport) => void

/** The default report: a process warning, so a corrupt row is visible without crashing anything. */
export const warnCorruptRow: CorruptRowHandler = (report) => {
  process.emitWarning(
    `The ${report.driver} session store found a malformed row in table "${report.table}" (${report.reason}); it was deleted and treated as no session. Pass "onCorrupt" to handle these reports yourself.`,
    { code: 'TESSERA_CORRUPT_SESSION' },
  )
}

/**
 * Storage keys are hashes made by the core; a key with a NUL byte or of absurd length cannot be
 * one, and PostgreSQL would reject the NUL with an error instead of "no such row".
 */
export function isStorageKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= 256 && !key.includes('\0')
}

/** Writes refuse keys that {@link isStorageKey} rejects; reads simply find nothing under them. */
export function assertStorageKey(driver: string, key: string): void {
  if (!isStorageKey(key)) {
    throw new SessionError(`${driver} driver: refusing a storage key that is empty, longer than 256 characters or contains a NUL byte.`, {
      code: 'E_SESSION_INVALID_KEY',
    })
  }
}

function toInteger(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : Number.NaN
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) return Number(value)
  return Number.NaN
}

function parseJson(value: unknown): { ok: true; value: unknown } | { ok: false } {
  if (typeof value !== 'string') return { ok: false }
  try {
    return { ok: true, value: JSON.parse(value) }
  } catch {
    return { ok: false }
  }
}

/** A row turned into a record, or the reason it is not one. */
export type RowResult = { record: StoredRecord } | { corrupt: string }

/** Validates an untrusted row and builds a record from it (via {@link toStoredRecord}). */
export function rowToRecord(row: SessionRow): RowResult {
  const data = parseJson(row.data)
  if (!data.ok) return { corrupt: 'data is not valid JSON' }
  let device: unknown
  if (row.device !== null && row.device !== undefined) {
    const parsed = parseJson(row.device)
    if (!parsed.ok) return { corrupt: 'device is not valid JSON' }
    device = parsed.value
  }
  if (row.user_id !== null && row.user_id !== undefined && typeof row.user_id !== 'string') return { corrupt: 'user_id is not text' }
  const record = toStoredRecord({
    data: data.value,
    flash: row.flash,
    meta: {
      createdAt: toInteger(row.created_at),
      lastSeenAt: toInteger(row.last_seen_at),
      expiresAt: toInteger(row.expires_at),
      version: toInteger(row.version),
      ...(typeof row.user_id === 'string' ? { userId: row.user_id } : {}),
      ...(device !== undefined ? { device } : {}),
    },
  })
  return record ? { record } : { corrupt: 'a column holds a value of the wrong type' }
}

/** A summary for per-user lists; null when the row is malformed. */
export function rowToSummary(
  row: Pick<SessionRow, 'key' | 'user_id' | 'created_at' | 'last_seen_at' | 'expires_at' | 'device'>,
): SessionSummary | null {
  const [createdAt, lastSeenAt, expiresAt] = [toInteger(row.created_at), toInteger(row.last_seen_at), toInteger(row.expires_at)]
  if (typeof row.key !== 'string' || typeof row.user_id !== 'string') return null
  if (![createdAt, lastSeenAt, expiresAt].every(Number.isFinite)) return null
  const summary: SessionSummary = { key: row.key, userId: row.user_id, createdAt, lastSeenAt, expiresAt }
  const device = typeof row.device === 'string' ? parseDevice(row.device) : undefined
  if (device) summary.device = device
  return summary
}

/** Parameters for {@link COLUMNS}, in order: the record as it is stored, expiring at `expiresAt`. */
export function recordToParams(
  key: string,
  record: StoredRecord,
  expiresAt: number,
): [string, string, string | null, number, number, number, number, string | null, string | null] {
  const { meta } = record
  return [
    key,
    JSON.stringify(record.data),
    record.flash,
    meta.createdAt,
    meta.lastSeenAt,
    expiresAt,
    meta.version,
    meta.userId ?? null,
    meta.device ? JSON.stringify(meta.device) : null,
  ]
}

/** Parameters of the UPDATE that ends a patch, in order: data, flash, last_seen_at, expires_at, version, user_id, device. */
export function patchedParams(record: StoredRecord): [string, string | null, number, number, number, string | null, string | null] {
  const [, data, flash, , lastSeenAt, expiresAt, version, userId, device] = recordToParams('', record, record.meta.expiresAt)
  return [data, flash, lastSeenAt, expiresAt, version, userId, device]
}
