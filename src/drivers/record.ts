import type { DeviceInfo, RecordMeta, SessionSummary, StoredRecord } from './contract.js'

/** A fresh null-prototype map of encoded values, so `__proto__` is just a key. */
export function emptyData(): Record<string, string> {
  return Object.create(null) as Record<string, string>
}

/** A deep copy, so a driver's stored state is never shared with a caller. */
export function cloneRecord(record: StoredRecord): StoredRecord {
  return {
    data: Object.assign(emptyData(), record.data),
    flash: record.flash,
    meta: { ...record.meta, ...(record.meta.device ? { device: { ...record.meta.device } } : {}) },
  }
}

export function isExpired(record: StoredRecord, now = Date.now()): boolean {
  return record.meta.expiresAt <= now
}

export function summarize(key: string, record: StoredRecord): SessionSummary | null {
  const { userId, createdAt, lastSeenAt, expiresAt, device } = record.meta
  if (userId === undefined) return null
  return { key, userId, createdAt, lastSeenAt, expiresAt, ...(device ? { device: { ...device } } : {}) }
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

/** The device facts of an untrusted value: its known string fields; undefined when it is no object. */
export function toDevice(value: unknown): DeviceInfo | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const source = value as Record<string, unknown>
  const device: DeviceInfo = {}
  for (const field of ['ip', 'userAgent', 'name'] as const) {
    if (typeof source[field] === 'string') device[field] = source[field]
  }
  return device
}

/** {@link toDevice} of stored JSON text (a Redis field, an SQL column); undefined when it is not JSON of an object. */
export function parseDevice(text: string): DeviceInfo | undefined {
  try {
    return toDevice(JSON.parse(text))
  } catch {
    return undefined
  }
}

/**
 * Checks that an untrusted value (parsed from a file, a row, a Redis reply) is a well-formed
 * record and copies it into fresh objects. Returns null for anything malformed: a corrupt entry is
 * treated as no session, never as a crash.
 */
export function toStoredRecord(value: unknown): StoredRecord | null {
  if (typeof value !== 'object' || value === null) return null
  const { data, flash, meta } = value as Record<string, unknown>
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null
  if (flash !== null && flash !== undefined && typeof flash !== 'string') return null
  if (typeof meta !== 'object' || meta === null) return null
  const m = meta as Record<string, unknown>
  if (!isFiniteNumber(m.createdAt) || !isFiniteNumber(m.lastSeenAt) || !isFiniteNumber(m.expiresAt)) return null
  if (!isFiniteNumber(m.version)) return null
  if (m.userId !== undefined && typeof m.userId !== 'string') return null
  const copy = emptyData()
  for (const key of Object.keys(data)) {
    const encoded = (data as Record<string, unknown>)[key]
    if (typeof encoded !== 'string') return null
    copy[key] = encoded
  }
  const recordMeta: RecordMeta = { createdAt: m.createdAt, lastSeenAt: m.lastSeenAt, expiresAt: m.expiresAt, version: m.version }
  if (typeof m.userId === 'string') recordMeta.userId = m.userId
  const device = toDevice(m.device)
  if (device) recordMeta.device = device
  return { data: copy, flash: typeof flash === 'string' ? flash : null, meta: recordMeta }
}

/** Parses a record stored as JSON text; null when the text is not a well-formed record. */
export function parseRecord(text: string): StoredRecord | null {
  try {
    return toStoredRecord(JSON.parse(text))
  } catch {
    return null
  }
}
