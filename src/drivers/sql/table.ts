import { SessionConfigError } from '../../lib/errors.js'

/** Default name of the sessions table of the SQL drivers. */
export const DEFAULT_TABLE = 'tessera_sessions'

/** A validated table name, quoted for SQL, plus the names of its indexes. */
export interface SqlTable {
  /** The name as configured, e.g. `tessera_sessions` or `auth.sessions`. */
  name: string
  /** Quoted for use in SQL: `"auth"."sessions"`. */
  quoted: string
  /** Quoted, unqualified index names (an index lives in its table's schema). */
  expiresIndex: string
  userIndex: string
}

// Unquoted-identifier rules, kept short enough that `<table>_expires_at_idx` stays under the
// 63-byte identifier limit of PostgreSQL (longer names would be truncated silently).
const PART = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/

/**
 * Validates a table name (optionally `schema.table`) before it is spliced into SQL: names cannot
 * be bound as parameters, so anything but a plain identifier is refused.
 */
export function sqlTable(driver: string, name: string = DEFAULT_TABLE, allowSchema = true): SqlTable {
  const parts = typeof name === 'string' ? name.split('.') : []
  const valid = parts.length >= 1 && parts.length <= (allowSchema ? 2 : 1) && parts.every((part) => PART.test(part))
  if (!valid) {
    const shape = allowSchema ? 'an identifier or schema.identifier' : 'an identifier'
    throw new SessionConfigError(
      `${driver} driver: "table" must be ${shape} of letters, digits and underscores (at most 48 characters each, not starting with a digit), e.g. "${DEFAULT_TABLE}".`,
    )
  }
  const base = parts[parts.length - 1] as string
  return {
    name,
    quoted: parts.map((part) => `"${part}"`).join('.'),
    expiresIndex: `"${base}_expires_at_idx"`,
    userIndex: `"${base}_user_id_idx"`,
  }
}
