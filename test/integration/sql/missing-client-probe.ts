// Run with hide-clients.mjs preloaded: reports what a user without the client packages sees.
import { SessionManager } from '../../../src/manager/manager.js'

const outcomes: Record<string, unknown> = {}
for (const [driver, options] of [
  ['sqlite', { path: ':memory:' }],
  ['postgres', { connection: 'postgres://postgres@127.0.0.1:5432/test' }],
] as const) {
  const manager = new SessionManager({ driver, ...options })
  try {
    const session = await manager.open()
    session.put('a', 1)
    await session.save()
    outcomes[driver] = { ok: true }
  } catch (error) {
    const { name, code, packageName, message } = error as { name: string; code: string; packageName: string; message: string }
    outcomes[driver] = { name, code, packageName, message }
  }
  await manager.close().catch(() => undefined)
}
process.stdout.write(JSON.stringify(outcomes))
