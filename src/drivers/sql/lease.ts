import { sha256 } from '../../lib/crypto.js'

/**
 * Leases of the SQL drivers live in the sessions table itself, so no migration is needed: one
 * row per locked key, under a hash that no session key can equal, with no user (never listed),
 * `data` `{}` and the holder's token in `flash`. Taking a lease is one statement: insert, or take
 * over the row only when it has expired; gc removes leases that were never released.
 */
export function leaseKey(key: string): string {
  return sha256(`tessera:lease:${key}`)
}

/**
 * The two statements, with positional parameters: acquire (key, token, now, now, expiresAt, now)
 * affects one row when the lease is taken; release (key, token).
 * @param t the quoted table name
 * @param p the n-th parameter: `?` for SQLite, `$n` for PostgreSQL
 * @param target how the ON CONFLICT clause names the existing row: the table (SQLite) or an alias
 */
export function leaseSql(
  t: string,
  p: (n: number) => string,
  target: { alias?: string; name: string },
): { acquire: string; release: string } {
  return {
    acquire: `INSERT INTO ${t}${target.alias ? ` AS ${target.alias}` : ''} (key, data, flash, created_at, last_seen_at, expires_at, version)
      VALUES (${p(1)}, '{}', ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, 1)
      ON CONFLICT (key) DO UPDATE SET flash = excluded.flash, created_at = excluded.created_at,
        last_seen_at = excluded.last_seen_at, expires_at = excluded.expires_at
      WHERE ${target.name}.expires_at <= ${p(6)}`,
    release: `DELETE FROM ${t} WHERE key = ${p(1)} AND flash = ${p(2)}`,
  }
}

/** The parameters of the acquire statement. */
export function leaseParams(key: string, token: string, ttl: number, now = Date.now()): unknown[] {
  return [leaseKey(key), token, now, now, now + ttl, now]
}
