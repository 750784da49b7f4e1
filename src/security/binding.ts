import { isIP } from 'node:net'
import { SessionEvents, type SessionEventEmitter } from '../session/events.js'
import type { ResolvedBinding } from '../config/security.js'
import type { Session } from '../session/session.js'
import { sha256, safeEqual } from '../lib/crypto.js'

/** What the binding check needs to know about the request; adapters fill it from their request. */
export interface ClientFacts {
  /** The socket's remote address. */
  remoteAddress?: string | undefined
  /** The raw `X-Forwarded-For` header, used only when `trustProxy` says so. */
  forwardedFor?: string | undefined
  userAgent?: string | undefined
}

/** Data key under which a session keeps the client facts it is bound to. */
export const BINDING_SESSION_KEY = '_binding'

interface Fingerprint {
  ip?: string
  ua?: string
}

/**
 * The client IP under a trust-proxy policy, as Express's `trust proxy` hop count reads it: each
 * trusted proxy appends the address it received the request from to `X-Forwarded-For`, so only
 * the right-most entries were written by proxies; everything further left came from the client and
 * may be forged. `false` (or 0): the socket address. A number n: n proxies are trusted, so the
 * address n hops before the socket counts (the n-th entry from the right, clamped to the left-most).
 * `true`: one trusted proxy, the same as 1 — the right-most entry, the address the nearest proxy
 * saw. Unparseable entries give undefined.
 */
export function clientIp(facts: ClientFacts, trustProxy: boolean | number): string | undefined {
  const socket = normalizeIp(facts.remoteAddress)
  const hops = trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy
  if (hops <= 0 || !facts.forwardedFor) return socket
  const forwarded = facts.forwardedFor
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  if (forwarded.length === 0) return socket
  const chain = [...forwarded, facts.remoteAddress ?? '']
  const ip = normalizeIp(chain[Math.max(0, chain.length - 1 - hops)])
  // A proxy that wrote garbage: `true` keeps to the socket, as it always has.
  return ip === undefined && trustProxy === true ? socket : ip
}

/** A canonical form of an IP address (IPv4-mapped IPv6 becomes IPv4, IPv6 is fully expanded). */
export function normalizeIp(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined
  let ip = value.trim()
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1)
  const zone = ip.indexOf('%')
  if (zone !== -1) ip = ip.slice(0, zone)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped) ip = mapped[1] as string
  const version = isIP(ip)
  if (version === 4) return ip
  if (version === 6) return expandIpv6(ip)
  return undefined
}

function expandIpv6(ip: string): string {
  const [head = '', tail] = ip.toLowerCase().split('::') as [string, string | undefined]
  const parts = (text: string): string[] => (text === '' ? [] : text.split(':'))
  const left = parts(head)
  const right = tail === undefined ? [] : parts(tail)
  // An embedded IPv4 tail (::1.2.3.4) counts as two groups.
  const expandV4 = (groups: string[]): string[] =>
    groups.flatMap((group) => {
      if (!group.includes('.')) return [group]
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number)
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
    })
  const l = expandV4(left)
  const r = expandV4(right)
  const middle = tail === undefined ? [] : new Array<string>(8 - l.length - r.length).fill('0')
  return [...l, ...middle, ...r].map((group) => group.padStart(4, '0')).join(':')
}

/** The network an IP belongs to under `'subnet'` binding: /24 for IPv4, /64 for IPv6. */
export function subnetOf(ip: string): string {
  return ip.includes(':') ? `${ip.split(':').slice(0, 4).join(':')}::/64` : `${ip.split('.').slice(0, 3).join('.')}.0/24`
}

function fingerprint(facts: ClientFacts, policy: ResolvedBinding): Fingerprint {
  const print: Fingerprint = {}
  const ip = clientIp(facts, policy.trustProxy)
  if (policy.ip !== false && ip !== undefined) print.ip = ip
  // Only a hash of the User-Agent is kept: enough to compare, nothing to show.
  if (policy.userAgent) print.ua = sha256(facts.userAgent ?? '')
  return print
}

function readFingerprint(value: unknown): Fingerprint | null {
  if (typeof value !== 'object' || value === null) return null
  const { ip, ua } = value as Record<string, unknown>
  const print: Fingerprint = {}
  if (typeof ip === 'string') print.ip = ip
  if (typeof ua === 'string') print.ua = ua
  return print
}

export type BindingResult = 'unbound' | 'match' | 'mismatch-logged' | 'rejected'

/**
 * Checks a started session against the client presenting it. A session that is not bound yet
 * is left alone ({@link bindSession} binds it when it is saved). On a mismatch, emits
 * `SessionEvents.BINDING_MISMATCH`; with `onMismatch: 'reject'` the session is invalidated
 * (destroyed in the store, fresh id, no data). A read-only session cannot be invalidated, so the
 * caller must not serve it when the result is `rejected`.
 */
export async function enforceBinding(
  session: Session,
  facts: ClientFacts,
  policy: ResolvedBinding | null,
  events?: SessionEventEmitter,
): Promise<BindingResult> {
  if (!policy || session.status.fresh) return 'unbound'
  const bound = readFingerprint(session.get(BINDING_SESSION_KEY))
  if (!bound) return 'unbound'
  const current = fingerprint(facts, policy)
  const fields: ('ip' | 'userAgent')[] = []
  if (policy.ip !== false && bound.ip !== undefined) {
    const same =
      current.ip !== undefined && (policy.ip === 'subnet' ? subnetOf(bound.ip) === subnetOf(current.ip) : bound.ip === current.ip)
    if (!same) fields.push('ip')
  }
  if (policy.userAgent && bound.ua !== undefined && !safeEqual(bound.ua, current.ua ?? '')) fields.push('userAgent')
  if (fields.length === 0) return 'match'
  const action = policy.onMismatch
  events?.emit(SessionEvents.BINDING_MISMATCH, session, { fields, action })
  if (action === 'log') return 'mismatch-logged'
  if (!session.status.readonly) await session.invalidate()
  return 'rejected'
}

/**
 * Records the client facts a session is bound to, when it is about to be stored and is not bound
 * yet. Call it before the session is saved (the lifecycle does, just before commit).
 */
export function bindSession(session: Session, facts: ClientFacts, policy: ResolvedBinding | null): void {
  if (!policy || session.status.readonly || session.status.invalidated) return
  if (readFingerprint(session.get(BINDING_SESSION_KEY))) return
  if (!session.status.persisted && !session.status.hasPendingWrites) return
  session.put(BINDING_SESSION_KEY, fingerprint(facts, policy))
}
