// A second process patching sessions in a shared file-driver folder (spawned by file-processes.test.ts):
// from `startAt` on, it patches every key twice, each after a random 0–2 ms pause.
import { setTimeout as sleep } from 'node:timers/promises'
import { FileDriver } from '../../../src/drivers/file.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import { SessionCodec } from '../../../src/session/codec.js'

const [path, startAt, ...keys] = process.argv.slice(2) as [string, string, ...string[]]
const codec = new SessionCodec(typedJsonSerializer)
const driver = new FileDriver({ path })
const note = codec.encode('n'.repeat(2048), 'note')
await sleep(Math.max(0, Number(startAt) - Date.now()))
const results = await Promise.all(
  keys.flatMap((key) =>
    [0, 1].map(async () => {
      await sleep(Math.floor(Math.random() * 3))
      return driver.patch(key, [{ op: 'set', key: 'note', value: note }], { ttl: 60_000, codec })
    }),
  ),
)
process.stdout.write(JSON.stringify(results.length))
