import { isCookieName } from '../lib/cookie-name.js'
import { parseDuration } from '../lib/durations.js'
import { SessionConfigError } from '../lib/errors.js'

/**
 * The checks every option goes through. Each takes the option's name as the message shows it
 * (`rememberMe.cookie`) and the given value, and returns the value to use — in milliseconds for
 * anything that is a time — or throws a {@link SessionConfigError} that says what to write instead.
 */

/** A cookie name is an RFC 6265 token: no spaces, separators or control characters. */
const MINUTE_MS = 60_000

const shown = (value: unknown): string => (typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value)))

function fail(message: string): never {
  throw new SessionConfigError(message)
}

/** A duration (`'30m'`, `'2h'`, or a number of milliseconds) in milliseconds. */
export function durationMs(name: string, value: unknown, { allowZero = false } = {}): number {
  const ms = parseDuration(value)
  if (ms === null || (!allowZero && ms === 0)) {
    fail(`${name} must be a positive duration such as '30s', '15m' or '2h' (a number is milliseconds), got ${shown(value)}.`)
  }
  return ms
}

/**
 * A session lifetime in milliseconds: a number is minutes (the seed's unit, docs/seeds.md), a
 * string is a duration with its unit (`'2h'`). A bare numeric string is refused: it could mean
 * either unit.
 */
export function lifetimeMs(name: string, value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return value * MINUTE_MS
    fail(`${name} must be a positive number of minutes, got ${shown(value)}. A duration such as '2h' works too.`)
  }
  const ms = typeof value === 'string' && !/^\s*[\d.]+\s*$/.test(value) ? parseDuration(value) : null
  if (ms === null || ms === 0) {
    fail(`${name} must be a positive number of minutes or a duration with its unit such as '90m' or '2h', got ${shown(value)}.`)
  }
  return ms
}

/** A share between 0 and 1 (a probability, a fraction of the lifetime). */
export function share(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(`${name} must be a number between 0 and 1, got ${shown(value)}.`)
  return value
}

/** A cookie name: every option that names a cookie goes through this one check. */
export function cookieName(name: string, value: unknown): string {
  if (!isCookieName(value)) {
    fail(`${name} must be a cookie token (letters, digits and !#$%&'*+-.^_\`|~), got ${shown(value)}.`)
  }
  return value
}

export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    fail(`${name} must be a whole number of 1 or more, got ${shown(value)}.`)
  return value
}

export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(`${name} must be true or false, got ${shown(value)}.`)
  return value
}

export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(`${name} must be a non-empty string, got ${shown(value)}.`)
  return value
}

/** A driver name: a built-in one or one registered with `extend()`. */
export function driverName(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    fail(`${name} must be a driver name such as 'memory', 'file' or 'redis', got ${shown(value)}.`)
  return value
}

/** One of a few words; `allowed` lists them in the order the message shows. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) fail(`${name} must be ${allowed.map((word) => `'${word}'`).join(' or ')}, got ${shown(value)}.`)
  return value as T
}

/** A plain options object (not an array, not null). */
export function plainObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${name} must be an object, got ${shown(value)}.`)
  return value as Record<string, unknown>
}

export function func(name: string, value: unknown): (...args: never[]) => unknown {
  if (typeof value !== 'function') fail(`${name} must be a function, got ${shown(value)}.`)
  return value as (...args: never[]) => unknown
}

/**
 * The keys of an options type as a list. The argument names every key once, so the compiler
 * checks the list against the type both ways: a key missing from the list or not in the type is
 * a type error.
 */
export function optionKeys<T>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(keys)
}
