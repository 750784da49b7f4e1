import { SessionConfigError } from '../../lib/errors.js'
import type { StoredRecord } from '../contract.js'
import { rowToRecord, warnCorruptRow, type CorruptRowHandler, type SessionRow } from './rows.js'

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

/** Column types of one SQL dialect. */
export interface ColumnTypes {
  text: string
  integer: string
}

/**
 * The sessions table and its indexes, as SQL that is safe to run again (`IF NOT EXISTS`).
 * `data` is text holding the JSON of the encoded values: values are opaque to the database
 * (serialized, possibly sealed), and text accepts every key the application can use.
 */
export function createTableSql(t: SqlTable, { text, integer }: ColumnTypes): string {
  return `CREATE TABLE IF NOT EXISTS ${t.quoted} (
  key ${text} PRIMARY KEY NOT NULL,
  data ${text} NOT NULL,
  flash ${text},
  created_at ${integer} NOT NULL,
  last_seen_at ${integer} NOT NULL,
  expires_at ${integer} NOT NULL,
  version ${integer} NOT NULL,
  user_id ${text},
  device ${text}
);
CREATE INDEX IF NOT EXISTS ${t.expiresIndex} ON ${t.quoted} (expires_at);
CREATE INDEX IF NOT EXISTS ${t.userIndex} ON ${t.quoted} (user_id) WHERE user_id IS NOT NULL;
`
}

/** The options every SQL driver takes for its table. */
export interface SqlTableOptions {
  /** Table name (PostgreSQL: optionally schema-qualified, `auth.sessions`); created with its indexes on first use. Default `tessera_sessions`. */
  table?: string
  /** Called for each corrupt row (then deleted and treated as no session). Default: a process warning. */
  onCorrupt?: CorruptRowHandler
}

/** One SQL driver's sessions table: its validated name, and how its rows become records. */
export class SessionTable {
  readonly driver: string
  readonly sql: SqlTable
  readonly #onCorrupt: CorruptRowHandler

  constructor(driver: string, options: SqlTableOptions, allowSchema: boolean) {
    if (options.onCorrupt !== undefined && typeof options.onCorrupt !== 'function') {
      throw new SessionConfigError(`${driver} driver: "onCorrupt" must be a function that receives a report of each corrupt row.`)
    }
    this.driver = driver
    this.sql = sqlTable(driver, options.table ?? DEFAULT_TABLE, allowSchema)
    this.#onCorrupt = options.onCorrupt ?? warnCorruptRow
  }

  /** The table name as configured. */
  get name(): string {
    return this.sql.name
  }

  /**
   * The row as a record. A corrupt row comes back as null, after it was reported to `onCorrupt`;
   * the caller deletes it, so it reads as no session from then on.
   */
  toRecord(key: string, row: SessionRow): StoredRecord | null {
    const result = rowToRecord(row)
    if ('record' in result) return result.record
    try {
      this.#onCorrupt({ driver: this.driver, table: this.sql.name, key, reason: result.corrupt })
    } catch {
      // A throwing report handler must not turn a corrupt row into a failed request.
    }
    return null
  }
}
