import { SessionConfigError } from '../lib/errors.js'
import { rejectUnknownOptions } from '../lib/options.js'
import { boolean, cookieName, optionKeys, plainObject } from './checks.js'

export type SameSite = 'strict' | 'lax' | 'none'

/** Options of the session id cookie. Secure by default: HttpOnly, SameSite=Lax, Path=/, Secure in production. */
export interface CookieConfig {
  /** Default `tessera_session`. A `__Host-` name requires Secure, Path=/ and no Domain. */
  name?: string
  path?: string
  domain?: string
  /** Default: true when NODE_ENV is `production` (and always for `__Host-`/`__Secure-` names). */
  secure?: boolean
  /** Default true. */
  httpOnly?: boolean
  /** Default `lax`. `none` requires Secure. */
  sameSite?: SameSite | 'Strict' | 'Lax' | 'None'
  /** A browser-session cookie (no Max-Age): it is dropped when the browser closes. Default false. */
  clearWithBrowser?: boolean
}

export interface ResolvedCookie {
  name: string
  path: string
  domain: string | undefined
  secure: boolean
  httpOnly: boolean
  sameSite: SameSite
  clearWithBrowser: boolean
}

/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis). */
export const MAX_COOKIE_AGE_MS = 400 * 86_400_000

export const DEFAULT_COOKIE_NAME = 'tessera_session'

const COOKIE_KEYS = optionKeys<CookieConfig>({
  name: true,
  path: true,
  domain: true,
  secure: true,
  httpOnly: true,
  sameSite: true,
  clearWithBrowser: true,
})
const UNSAFE_ATTRIBUTE = /[;\r\n\0]/

function attribute(name: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || UNSAFE_ATTRIBUTE.test(value) || value === '')) {
    throw new SessionConfigError(`${name} must be a non-empty string without ";", CR, LF or NUL, got ${JSON.stringify(value)}.`)
  }
  return value
}

/**
 * The `cookie` option: a cookie name, or cookie options. Every cookie rule is enforced here once,
 * when the manager is built: a token name, no header injection through path or domain, the
 * `__Host-`/`__Secure-` prefixes, and SameSite=None only with Secure.
 */
export function cookieOption(name: string, value: unknown): ResolvedCookie {
  const options = typeof value === 'string' ? { name: value } : plainObject(name, value)
  rejectUnknownOptions(options, COOKIE_KEYS, name)
  const cookie = cookieName(`${name}.name`, options.name ?? DEFAULT_COOKIE_NAME)
  const prefixed = cookie.startsWith('__Host-') || cookie.startsWith('__Secure-')
  const secure =
    options.secure === undefined ? prefixed || process.env.NODE_ENV === 'production' : boolean(`${name}.secure`, options.secure)
  const path = attribute(`${name}.path`, options.path) ?? '/'
  const domain = attribute(`${name}.domain`, options.domain)
  if (!path.startsWith('/')) throw new SessionConfigError(`${name}.path must start with "/", got ${JSON.stringify(path)}.`)
  const sameSite = typeof options.sameSite === 'string' ? options.sameSite.toLowerCase() : (options.sameSite ?? 'lax')
  if (sameSite !== 'strict' && sameSite !== 'lax' && sameSite !== 'none') {
    throw new SessionConfigError(`${name}.sameSite must be 'strict', 'lax' or 'none', got ${JSON.stringify(options.sameSite)}.`)
  }
  if (sameSite === 'none' && !secure) {
    throw new SessionConfigError(`${name}.sameSite 'none' requires ${name}.secure: true (browsers reject such cookies otherwise).`)
  }
  if (cookie.startsWith('__Host-') && (!secure || path !== '/' || domain !== undefined)) {
    throw new SessionConfigError('A "__Host-" cookie name requires secure: true, path: "/" and no domain.')
  }
  if (cookie.startsWith('__Secure-') && !secure) {
    throw new SessionConfigError('A "__Secure-" cookie name requires secure: true.')
  }
  return {
    name: cookie,
    path,
    domain,
    secure,
    httpOnly: options.httpOnly === undefined ? true : boolean(`${name}.httpOnly`, options.httpOnly),
    sameSite,
    clearWithBrowser: options.clearWithBrowser === undefined ? false : boolean(`${name}.clearWithBrowser`, options.clearWithBrowser),
  }
}
