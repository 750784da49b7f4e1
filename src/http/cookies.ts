import { parseCookie, stringifySetCookie, type SerializeOptions } from 'cookie'
import type { ResolvedCookie } from '../config/resolve.js'
import type { CookieJar } from '../drivers/contract.js'
import type { Keyring } from '../lib/crypto.js'
import { isWellFormedSessionId } from '../lib/ids.js'

/** The signed id cookie value: `<id>.<signature>`. */
export function signId(keyring: Keyring, id: string): string {
  return `${id}.${keyring.sign(id)}`
}

/** A verified id from a cookie; `rotated` when it was signed with an older key (re-sign it). */
export interface VerifiedId {
  id: string
  rotated: boolean
}

const ID_LENGTH = 43
/** Keyring signatures: 4-byte key id + 32-byte HMAC = 36 bytes = exactly 48 base64url characters. */
const SIGNATURE = /^[A-Za-z0-9_-]{48}$/
const SIGNED_LENGTH = ID_LENGTH + 1 + 48

/**
 * Verifies a signed id cookie value. Anything unsigned, forged, signed with an unknown key or
 * malformed gives null: an expected outcome, not an error. Only the canonical encoding passes
 * (base64 decoders skip stray characters, so a lenient check would accept variants).
 */
export function verifyId(keyring: Keyring, value: string | undefined): VerifiedId | null {
  if (value === undefined || value.length !== SIGNED_LENGTH || value.charCodeAt(ID_LENGTH) !== 46) return null
  const id = value.slice(0, ID_LENGTH)
  const signature = value.slice(ID_LENGTH + 1)
  if (!isWellFormedSessionId(id) || !SIGNATURE.test(signature)) return null
  const verdict = keyring.verify(id, signature)
  return verdict === null ? null : { id, rotated: verdict === 'rotated' }
}

// Cookie values we write are base64url, digits and dots: nothing to escape. Values read back are
// taken verbatim, so a stray %xx can never turn into a different id.
const identity = (value: string): string => value

/** Parses a Cookie header; never throws, whatever the input. Later duplicates lose to the first. */
export function parseCookies(header: string | undefined): Record<string, string | undefined> {
  if (!header) return {}
  return parseCookie(header, { decode: identity })
}

/** Attributes of every cookie a manager sets, from its resolved cookie config. */
export function cookieAttributes(cookie: ResolvedCookie): SerializeOptions {
  return {
    path: cookie.path,
    domain: cookie.domain,
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    sameSite: cookie.sameSite,
    encode: identity,
  }
}

/** A Set-Cookie value; `maxAge` in seconds, undefined for a browser-session cookie. */
export function serializeCookie(name: string, value: string, attributes: SerializeOptions, maxAge: number | undefined): string {
  return stringifySetCookie(name, value, maxAge === undefined ? attributes : { ...attributes, maxAge })
}

/** A Set-Cookie value that makes the browser drop the cookie. */
export function serializeClear(name: string, attributes: SerializeOptions): string {
  return stringifySetCookie(name, '', { ...attributes, maxAge: 0, expires: new Date(0) })
}

/**
 * One request's cookies: the incoming header (parsed on first read) plus this request's changes,
 * which become Set-Cookie values. Handed to request-scoped drivers through {@link CookieJar}.
 */
export class RequestCookies implements CookieJar {
  readonly #header: string | undefined
  readonly #attributes: SerializeOptions
  readonly #browserSession: boolean
  #incoming: Record<string, string | undefined> | undefined
  /** name → [value or undefined when deleted, Set-Cookie value] */
  #outgoing: Map<string, [string | undefined, string]> | undefined

  constructor(header: string | undefined, attributes: SerializeOptions, browserSession: boolean) {
    this.#header = header
    this.#attributes = attributes
    this.#browserSession = browserSession
  }

  /** True when the request carried a cookie with this name. */
  has(name: string): boolean {
    return this.#parsed()[name] !== undefined
  }

  get(name: string): string | undefined {
    const change = this.#outgoing?.get(name)
    return change ? change[0] : this.#parsed()[name]
  }

  set(name: string, value: string, options: { maxAge?: number } = {}): void {
    const maxAge = this.#browserSession ? undefined : options.maxAge
    this.#change(name, value, serializeCookie(name, value, this.#attributes, maxAge))
  }

  delete(name: string): void {
    if (this.#outgoing?.has(name) || this.has(name)) this.#change(name, undefined, serializeClear(name, this.#attributes))
  }

  /** The Set-Cookie values this request produced, in the order the cookies were first changed. */
  setCookies(): string[] {
    return this.#outgoing ? [...this.#outgoing.values()].map((change) => change[1]) : []
  }

  #change(name: string, value: string | undefined, header: string): void {
    this.#outgoing ??= new Map()
    this.#outgoing.set(name, [value, header])
  }

  #parsed(): Record<string, string | undefined> {
    return (this.#incoming ??= parseCookies(this.#header))
  }
}
