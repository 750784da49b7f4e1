import type { RedisDriverOptions } from '../drivers/redis.js'
import type { Duration } from '../lib/durations.js'
import { SessionConfigError } from '../lib/errors.js'
import { durationMs } from './checks.js'

/**
 * Where an alias may appear: `manager` is the top level of a manager's config, `driver` any
 * driver entry (`drivers.<name>`, or the top level when it is the shorthand `{ driver, … }`),
 * `redis` a driver entry of the Redis driver.
 */
export type AliasScope = 'manager' | 'driver' | 'redis'

export interface ConfigAlias {
  /** The second name, accepted at the edge only. */
  alias: string
  /** The canonical option it stands for, as a dotted path from where the alias appears. */
  canonical: string
  /** The seed that promised the alias (docs/seeds.md). */
  seed: string
  in: readonly AliasScope[]
}

/**
 * The config names the seeds promise besides the canonical ones (docs/seeds.md). They are
 * translated to the canonical option before anything else reads the config, so nothing past
 * this table knows them; giving an alias and its canonical option together is an error.
 */
export const CONFIG_ALIASES = [
  { alias: 'age', canonical: 'lifetime', seed: '002', in: ['manager', 'driver'] },
  { alias: 'cookieName', canonical: 'cookie.name', seed: '002', in: ['manager'] },
  { alias: 'clearWithBrowser', canonical: 'cookie.clearWithBrowser', seed: '002', in: ['manager'] },
  { alias: 'redisConnection', canonical: 'connection', seed: '002', in: ['redis'] },
] as const satisfies readonly ConfigAlias[]

/** The aliases a manager's config may use at its top level (typed, so seed code compiles). */
export interface ManagerAliasOptions {
  /** Alias of `lifetime` (docs/seeds.md): a duration such as `'2h'`, or milliseconds. */
  age?: Duration
  /** Alias of `cookie.name` (docs/seeds.md). */
  cookieName?: string
  /** Alias of `cookie.clearWithBrowser` (docs/seeds.md). */
  clearWithBrowser?: boolean
}

/** The alias a Redis driver entry may use (typed, so seed code compiles). */
export interface RedisAliasOptions {
  /** Alias of `connection` (docs/seeds.md). */
  redisConnection?: RedisDriverOptions['connection']
}

/** Value conversions: `age` is a duration (a number is milliseconds), `lifetime` a number of minutes or a duration. */
const TRANSLATE: Readonly<Record<string, (name: string, value: unknown) => unknown>> = {
  age: (name, value) => `${durationMs(name, value)}ms`,
}

/**
 * A copy of `options` with every alias of `scope` replaced by its canonical option.
 * @param where how the object is named in messages, e.g. `drivers.redis`; empty for the top level
 */
export function translateAliases(options: Readonly<Record<string, unknown>>, scope: AliasScope, where = ''): Record<string, unknown> {
  const prefix = where === '' ? '' : `${where}.`
  let translated: Record<string, unknown> | undefined
  for (const entry of CONFIG_ALIASES) {
    if (!(entry.in as readonly AliasScope[]).includes(scope) || options[entry.alias] === undefined) continue
    translated ??= { ...options }
    const value = (TRANSLATE[entry.alias] ?? ((_, given) => given))(`${prefix}${entry.alias}`, options[entry.alias])
    delete translated[entry.alias]
    setCanonical(translated, entry.canonical, value, `${prefix}${entry.alias}`, prefix)
  }
  return translated ?? { ...options }
}

function setCanonical(target: Record<string, unknown>, path: string, value: unknown, alias: string, prefix: string): void {
  const [parent, leaf] = path.includes('.') ? (path.split('.') as [string, string]) : [undefined, path]
  let holder = target
  if (parent !== undefined) {
    // `cookie` may be given as a plain name: `{ cookie: 'sid', clearWithBrowser: true }`.
    const given = target[parent]
    if (given !== undefined && typeof given !== 'string' && (typeof given !== 'object' || given === null || Array.isArray(given))) {
      throw new SessionConfigError(`${prefix}${parent} must be a name or an options object, got ${JSON.stringify(given)}.`)
    }
    holder = typeof given === 'string' ? { name: given } : { ...(given as Record<string, unknown> | undefined) }
    target[parent] = holder
  }
  if (holder[leaf] !== undefined) {
    throw new SessionConfigError(
      `${alias} and ${prefix}${path} are the same option (${alias} is its alias, docs/seeds.md): give only ${prefix}${path}.`,
    )
  }
  holder[leaf] = value
}
