import type { SessionDriver } from '../drivers/contract.js'
import type { DriverConfig } from '../drivers/registry.js'
import type { KeyMaterial } from '../lib/crypto.js'
import type { Duration } from '../lib/durations.js'
import { SessionConfigError } from '../lib/errors.js'
import { rejectUnknownOptions } from '../lib/options.js'
// The default serializer belongs to the session layer above; this is the one upward import left in config.
import { typedJsonSerializer, type Serializer } from '../lib/serializer.js'
import { boolean, driverName, durationMs, func, lifetimeMs, nonEmptyString, oneOf, optionKeys, plainObject, share } from './checks.js'
import { cookieOption, type CookieConfig } from './cookie.js'
import {
  bindingOption,
  rateLimitOption,
  rememberMeOption,
  securityStoreOption,
  sessionLimitOption,
  type SecurityConfig,
} from './security.js'

/** The subset of the Standard Schema spec (standardschema.dev) Tessera uses: zod, valibot, arktype… */
export interface StandardSchemaV1<Output = unknown> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
  }
}
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string }> }

export interface EncryptionConfig {
  /** Encrypt every stored value with AES-256-GCM. Default true when this object is given. */
  enabled?: boolean
  /** One key (≥ 32 bytes). Prefer `keys` for rotation. */
  key?: KeyMaterial
  /** Keys, newest first: values are sealed with the newest and opened with any. */
  keys?: readonly KeyMaterial[]
  algorithm?: 'aes-256-gcm'
}

/** The options of a manager's config (canonical names; the driver shorthand is typed apart). */
export interface ManagerOptions<Names extends string = string> extends SecurityConfig {
  /** Turns sessions on or off for the whole app (middleware passes requests through). Default true. */
  enabled?: boolean
  /** Name of the driver used when none is named. Default: the only/first configured driver. */
  default?: NoInfer<Names>
  /** Named drivers: `{ redis: { driver: 'redis', connection: {…} } }`, or driver instances. */
  drivers?: Record<Names, DriverConfig | SessionDriver>
  /** Session lifetime: minutes as a number, or a duration such as `'2h'`. Default 120 minutes. */
  lifetime?: number | Exclude<Duration, number>
  /** Cookie name, or cookie options. */
  cookie?: string | CookieConfig
  /** Keys for signing cookies (and sealing, unless `encryption` names its own), newest first. */
  keys?: readonly KeyMaterial[]
  /** Encrypt stored session values. */
  encryption?: EncryptionConfig
  /** How values are turned into text or bytes. Default: type-preserving JSON. */
  serializer?: Serializer
  /** Validates stored data on load; invalid data yields an empty session and an event. */
  schema?: StandardSchemaV1
  /** End sessions unused for this long (sliding). */
  idleTimeout?: Duration
  /** End sessions this long after creation, whatever the activity. */
  absoluteTimeout?: Duration
  /**
   * Share of the lifetime (0–1) that must pass before a read-only request refreshes expiry in
   * the store. Default 0.1: a 2 h session is touched at most every 12 minutes.
   */
  touchAfter?: number
  /** Run gc on a timer, e.g. `'1h'`. Default: off (drivers with native expiry need none). */
  gcInterval?: Duration | false
  /** Chance (0–1) that a session start triggers gc in the background. Default 0. */
  gcProbability?: number
  /** Longest a store call may take before it fails with `SessionStoreError`. Default `'5s'`. */
  storeTimeout?: Duration
  /** What a request does when the store fails: answer 503 (`fail`, default) or go on with an empty, unsaved session. */
  onStoreError?: 'fail' | 'anonymous'
}

type Check<T> = (name: string, value: unknown) => T

/** One option: how a given value is checked (and turned into what the resolved config holds), and its default. */
interface OptionSpec<T, Defaulted extends boolean = boolean> {
  check: Check<T>
  /** The value an omitted option stands for, checked like a given one; none: the option is off. */
  default: Defaulted extends true ? NonNullable<unknown> : undefined
}

function option<T>(check: Check<T>): OptionSpec<T, false>
function option<T>(check: Check<T>, fallback: NonNullable<unknown>): OptionSpec<T, true>
function option<T>(check: Check<T>, fallback?: NonNullable<unknown>): OptionSpec<T> {
  return { check, default: fallback }
}

/** A duration option that may be off: `false` or `null` turn it off. */
function optionalDuration(name: string, value: unknown): number | null {
  return value === false || value === null ? null : durationMs(name, value)
}

function keysOption(name: string, value: unknown): readonly KeyMaterial[] {
  if (!Array.isArray(value)) {
    throw new SessionConfigError(`${name} must be an array of secrets, newest first, e.g. keys: [process.env.SESSION_KEY].`)
  }
  const keys = value.filter((key) => key !== undefined) as KeyMaterial[]
  if (keys.length === 0) {
    throw new SessionConfigError(
      `${name} is empty (is the environment variable that should hold the key set?). Give at least one secret of 32 bytes or more.`,
    )
  }
  return keys
}

const ENCRYPTION_KEYS = optionKeys<EncryptionConfig>({ enabled: true, key: true, keys: true, algorithm: true })

/** The encryption options when sealing is on; null when it is off. Keys are turned into a keyring by the resolver. */
function encryptionOption(name: string, value: unknown): EncryptionConfig | null {
  const options = plainObject(name, value)
  rejectUnknownOptions(options, ENCRYPTION_KEYS, name)
  if (options.enabled !== undefined && !boolean(`${name}.enabled`, options.enabled)) return null
  if (options.algorithm !== undefined && options.algorithm !== 'aes-256-gcm') {
    throw new SessionConfigError(`${name}.algorithm must be 'aes-256-gcm', got ${JSON.stringify(options.algorithm)}.`)
  }
  return options as EncryptionConfig
}

function serializerOption(name: string, value: unknown): Serializer {
  const serializer = value as Partial<Serializer> | null
  if (typeof serializer?.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw new SessionConfigError(`${name} must have serialize(value) and deserialize(raw) functions.`)
  }
  return serializer as Serializer
}

function schemaOption(name: string, value: unknown): StandardSchemaV1 {
  if (typeof (value as StandardSchemaV1 | null)?.['~standard']?.validate !== 'function') {
    throw new SessionConfigError(`${name} must be a Standard Schema validator (zod, valibot, arktype, …).`)
  }
  return value as StandardSchemaV1
}

/** `metrics`: options for the metrics collector, or `false`; the collector checks what is inside. */
function metricsOption(name: string, value: unknown): Record<string, unknown> | false {
  return value === false ? false : plainObject(name, value)
}

/**
 * Every option a manager accepts, declared once. The list of known keys, the checks and the
 * defaults all come from here; the compiler holds it to {@link ManagerOptions} both ways.
 * `sessionClass` and `metrics` are typed and read by the manager (their types live above this
 * layer) but are listed here so the one key list is complete.
 */
export const MANAGER_OPTIONS = {
  enabled: option(boolean, true),
  default: option(nonEmptyString),
  drivers: option(plainObject),
  driver: option(driverName),
  lifetime: option(lifetimeMs, 120),
  cookie: option(cookieOption, {}),
  keys: option(keysOption),
  encryption: option(encryptionOption),
  serializer: option(serializerOption, typedJsonSerializer),
  schema: option(schemaOption),
  idleTimeout: option(optionalDuration),
  absoluteTimeout: option(optionalDuration),
  touchAfter: option(share, 0.1),
  gcInterval: option(optionalDuration),
  gcProbability: option(share, 0),
  storeTimeout: option(durationMs, '5s'),
  onStoreError: option((name, value) => oneOf(name, value, ['fail', 'anonymous'] as const), 'fail'),
  maxSessionsPerUser: option(sessionLimitOption),
  rateLimit: option(rateLimitOption),
  binding: option(bindingOption),
  rememberMe: option(rememberMeOption, {}),
  securityStore: option(securityStoreOption),
  sessionClass: option(func),
  metrics: option(metricsOption),
} satisfies { [Key in keyof ManagerOptions | 'driver' | 'sessionClass' | 'metrics']-?: OptionSpec<unknown> }

export type ManagerOptionName = keyof typeof MANAGER_OPTIONS

/** Every key a manager's config may hold (aliases aside), derived from the declaration. */
export const MANAGER_KEYS: readonly string[] = Object.keys(MANAGER_OPTIONS)

/** What reading an option gives: the checked value, or undefined for an omitted option without a default. */
type Checked<Name extends ManagerOptionName> =
  (typeof MANAGER_OPTIONS)[Name] extends OptionSpec<infer T, true> ? T : ReturnType<(typeof MANAGER_OPTIONS)[Name]['check']> | undefined

/** An option of `config`, checked; its default when omitted; undefined when omitted without a default. */
export function readOption<Name extends ManagerOptionName>(config: Readonly<Record<string, unknown>>, name: Name): Checked<Name> {
  const spec: OptionSpec<unknown> = MANAGER_OPTIONS[name]
  const value = config[name] ?? spec.default
  return (value === undefined ? undefined : spec.check(name, value)) as Checked<Name>
}
