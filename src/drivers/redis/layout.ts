import type { StoredRecord } from '../contract.js'
import { emptyData, toStoredRecord } from '../record.js'
import { sha256 } from '../../lib/crypto.js'

/**
 * How a session is laid out in Redis: one hash per session, so a patch touches only the fields
 * it changes and a read is one HGETALL. Data fields carry a `d:` prefix; metadata fields start
 * with `_`, so no user key can collide with them (or be `__proto__` on a reply object).
 */
export const FIELD = {
  createdAt: '_c',
  lastSeenAt: '_l',
  expiresAt: '_e',
  version: '_v',
  userId: '_u',
  device: '_d',
  flash: '_f',
} as const

export const DATA_PREFIX = 'd:'

/** Redis key names for one driver. Every name puts its slot-deciding part in a `{hash tag}`. */
export class KeySpace {
  constructor(readonly prefix: string) {}

  /** The session hash. The storage key is the hash tag, so the session and its lock share a slot. */
  session(key: string): string {
    return `${this.prefix}{${key}}`
  }

  lock(key: string): string {
    return `${this.prefix}{${key}}:lock`
  }

  /** A user's sorted set of session keys (score: last known expiresAt). User ids are hashed: any string is a safe key. */
  userIndex(userId: string): string {
    return `${this.prefix}user:{${sha256(userId)}}`
  }

  /** SCAN pattern matching every user index of this prefix (glob characters in the prefix escaped). */
  userIndexPattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}user:*`
  }
}

/** The record as hash field/value pairs, flat, ready for HSET. */
export function encodeFields(record: StoredRecord, expiresAt: number): string[] {
  const { meta } = record
  const fields: string[] = [
    FIELD.createdAt,
    String(meta.createdAt),
    FIELD.lastSeenAt,
    String(meta.lastSeenAt),
    FIELD.expiresAt,
    String(expiresAt),
    FIELD.version,
    String(meta.version),
  ]
  if (meta.userId !== undefined) fields.push(FIELD.userId, meta.userId)
  if (meta.device) fields.push(FIELD.device, JSON.stringify(meta.device))
  if (record.flash !== null) fields.push(FIELD.flash, record.flash)
  for (const key of Object.keys(record.data)) fields.push(DATA_PREFIX + key, record.data[key] as string)
  return fields
}

/** A flat HGETALL-style array as a null-prototype map. */
export function pairsToMap(pairs: readonly string[]): Record<string, string> {
  const map = Object.create(null) as Record<string, string>
  for (let i = 0; i + 1 < pairs.length; i += 2) map[pairs[i] as string] = pairs[i + 1] as string
  return map
}

/** Parses a session hash; null when it is empty or malformed (a corrupt entry is no session). */
export function decodeFields(fields: Record<string, string>): StoredRecord | null {
  const data = emptyData()
  let any = false
  for (const field of Object.keys(fields)) {
    any = true
    if (field.startsWith(DATA_PREFIX)) data[field.slice(DATA_PREFIX.length)] = fields[field] as string
  }
  if (!any) return null
  const number = (field: string): number => (fields[field] === undefined ? Number.NaN : Number(fields[field]))
  let device: unknown
  if (fields[FIELD.device] !== undefined) {
    try {
      device = JSON.parse(fields[FIELD.device] as string)
    } catch {
      return null
    }
  }
  return toStoredRecord({
    data,
    flash: fields[FIELD.flash] ?? null,
    meta: {
      createdAt: number(FIELD.createdAt),
      lastSeenAt: number(FIELD.lastSeenAt),
      expiresAt: number(FIELD.expiresAt),
      version: number(FIELD.version),
      userId: fields[FIELD.userId],
      device,
    },
  })
}
