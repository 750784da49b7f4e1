// Another process on the same store (spawned by atomic-limits.test.ts): runs `count` parallel
// attempts of one atomic security step and prints how each ended, as JSON.
import { SessionManager } from '../../../src/manager/manager.js'
import { rememberMe } from '../../../src/security/remember-me.js'
import { RateLimitError, SessionLimitError } from '../../../src/lib/errors.js'

const [configJson, step, subject, count] = process.argv.slice(2) as [string, 'remember' | 'rate' | 'login', string, string]
const manager = new SessionManager(JSON.parse(configJson))
const remember = rememberMe(manager)

async function attempt(): Promise<string> {
  if (step === 'remember') return (await remember.consume(subject)).status
  if (step === 'rate') {
    try {
      await manager.security.limitCreation('ip', subject)
      return 'ok'
    } catch (error) {
      if (error instanceof RateLimitError) return 'limited'
      throw error
    }
  }
  const session = await manager.open()
  await session.regenerate()
  session.auth.setUser(subject)
  try {
    await session.save()
    return 'ok'
  } catch (error) {
    if (error instanceof SessionLimitError) return 'refused'
    throw error
  }
}

const outcomes = await Promise.all(Array.from({ length: Number(count) }, attempt))
await manager.close()
process.stdout.write(JSON.stringify(outcomes))
