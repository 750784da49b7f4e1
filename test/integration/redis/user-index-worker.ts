// A second process that lists (and, in mode 'revoke', revokes) one user's sessions over and over
// until its stdin closes (spawned by user-index.test.ts). Prints "ready" once connected.
import { SessionManager } from '../../../src/manager/manager.js'

const [connection, prefix, user, mode] = process.argv.slice(2) as [string, string, string, 'list' | 'revoke']
const manager = new SessionManager({ driver: 'redis', connection: JSON.parse(connection), prefix, storeTimeout: 60_000 } as never)
let done = false
process.stdin.on('end', () => (done = true))
process.stdin.resume()
await manager.users.list(user)
process.stdout.write('ready\n')
let calls = 0
await Promise.all(
  Array.from({ length: 8 }, async (_, i) => {
    while (!done) {
      if (mode === 'revoke' && i % 4 === 0) await manager.users.revokeAll(user)
      else await manager.users.list(user)
      calls++
    }
  }),
)
await manager.close()
process.stdout.write(`${calls}\n`)
