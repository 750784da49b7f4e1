// A separate process patching one session in a shared SQLite file (spawned by sqlite.test.ts).
import { SessionCodec } from '../../../src/session/codec.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import { SqliteDriver } from '../../../src/drivers/sqlite.js'

const [path, table, key, mode, from, count] = process.argv.slice(2) as [string, string, string, 'increment' | 'set', string, string]
const codec = new SessionCodec(typedJsonSerializer)
const driver = new SqliteDriver({ path, table, busyTimeout: 20_000 })
const results: string[] = []
for (let i = Number(from); i < Number(from) + Number(count); i++) {
  const change =
    mode === 'increment'
      ? ({ op: 'increment', key: 'n', by: 1 } as const)
      : ({ op: 'set', key: `k${i}`, value: codec.encode(i, `k${i}`) } as const)
  results.push(await driver.patch(key, [change], { ttl: 60_000, codec }))
}
await driver.close()
process.stdout.write(JSON.stringify(results.filter((result) => result === 'applied').length))
