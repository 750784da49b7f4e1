import { after, describe, it } from 'node:test'
import { PostgresDriver } from '../../src/drivers/postgres.js'
import { runDriverConformance } from '../../src/testing/conformance.js'
import { dropTable, PG_URL, probePostgres, randomTable, reportUnreachable } from '../integration/sql/postgres-env.js'

const unreachable = await probePostgres()
if (unreachable) {
  reportUnreachable(unreachable)
} else {
  const table = randomTable()
  after(() => dropTable(table))
  runDriverConformance({
    name: 'postgres',
    create: () => new PostgresDriver({ connection: PG_URL, table }),
    createPeer: () => new PostgresDriver({ connection: PG_URL, table }),
    concurrency: 200,
    describe,
    it,
    after,
  })
}
