import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { it } from 'node:test'
import pg from 'pg'

/** The server the tests expect: 127.0.0.1:5432, trust auth, database `test`. */
export const PG_URL = process.env.TESSERA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/**
 * Connection settings for a test's driver: a small pool. Test files run two at a time and many
 * of them open several managers; with pg's default of 10 clients per pool they exhaust the
 * server's 100 connections, and a test then waits for a connection instead of testing.
 */
export function pgTestConnection(): { connectionString: string; max: number } {
  return { connectionString: PG_URL, max: 4 }
}

/** A table name no other run uses. */
export function randomTable(prefix = 'tessera_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`
}

/** Null when PostgreSQL answers, else why not. */
export async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (error) {
    return `PostgreSQL at ${PG_URL} is unreachable (${(error as Error).message})`
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** In CI a missing server is a failure, not a skip; locally the suite skips with the reason. */
export function reportUnreachable(reason: string): void {
  if (process.env.CI) {
    it('PostgreSQL is reachable (required when CI is set)', () => assert.fail(`${reason}. Start it (see .ci/run) or set TESSERA_PG_URL.`))
  } else {
    it('PostgreSQL integration tests', { skip: `${reason}; set CI=1 to make this a failure` }, () => {})
  }
}

/** Runs one statement on its own connection (schema setup, cleanup, fault injection). */
export async function adminQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}

export async function dropTable(table: string): Promise<void> {
  await adminQuery(`DROP TABLE IF EXISTS "${table}"`)
}
