import type { ResolvedConfig } from '../config/resolve.js'
import type { SessionEventEmitter } from '../session/events.js'
import type { Session } from '../session/session.js'
import { bindSession, enforceBinding, type BindingResult, type ClientFacts } from '../security/binding.js'
import { limitSessionCreation } from '../security/rate-limit.js'
import type { SecurityState } from '../security/security-state.js'

/** What the request hooks need from a manager (a `SessionManager` has it all). */
export interface SecurityHost {
  readonly config: ResolvedConfig
  readonly events: SessionEventEmitter
  readonly security: Pick<SecurityState, 'limitCreation'>
}

/**
 * The two calls a request lifecycle makes so that binding and the creation rate limit apply to
 * every adapter. `afterStart` right after the session is loaded: it may invalidate a session
 * presented by another client (`rejected`; a read-only session must then not be served).
 * `beforeCommit` just before the session is saved: binds new sessions to the client and may throw
 * `RateLimitError` (429) when a new session would exceed `rateLimit.create`.
 */
export const securityHooks = {
  afterStart(host: SecurityHost, session: Session, facts: ClientFacts): Promise<BindingResult> {
    return enforceBinding(session, facts, host.config.security.binding, host.events)
  },
  async beforeCommit(host: SecurityHost, session: Session, facts: ClientFacts): Promise<void> {
    await limitSessionCreation(host, session, facts)
    bindSession(session, facts, host.config.security.binding)
  },
}

/** Client facts from a Node request (what every adapter has underneath). */
export function clientFactsOf(req: {
  headers: Record<string, string | string[] | undefined>
  socket?: { remoteAddress?: string | undefined } | undefined
}): ClientFacts {
  const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value)
  return {
    remoteAddress: req.socket?.remoteAddress,
    forwardedFor: single(req.headers['x-forwarded-for']),
    userAgent: Array.isArray(req.headers['user-agent']) ? req.headers['user-agent'][0] : req.headers['user-agent'],
  }
}
