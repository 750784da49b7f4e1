import type { ResolvedConfig } from '../config/resolve.js'
import type { Session } from '../session/session.js'
import { clientIp, type ClientFacts } from './binding.js'
import type { SecurityState } from './security-state.js'

/** What the creation limit needs from a manager. */
export interface RateLimitHost {
  readonly config: ResolvedConfig
  readonly security: Pick<SecurityState, 'limitCreation'>
}

/**
 * Applies `rateLimit.create` to a request whose session is about to be stored for the first
 * time: takes a token from the client IP's bucket, or throws `RateLimitError` (status 429,
 * `retryAfter` seconds). Sessions that are only read, or that already exist, cost nothing, so
 * anonymous browsing is never limited. The client IP follows `binding.trustProxy`.
 */
export async function limitSessionCreation(host: RateLimitHost, session: Session, facts: ClientFacts): Promise<void> {
  const { security } = host.config
  if (!security.createLimit || session.status.readonly || session.status.persisted || !session.status.hasPendingWrites) return
  const ip = clientIp(facts, security.binding?.trustProxy ?? false)
  await host.security.limitCreation('ip', ip ?? 'unknown')
}
