import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { isCookieName } from '../lib/cookie-name.js'
import type { Keyring } from '../lib/crypto.js'
import { SessionConfigError, SessionCookieTooLargeError } from '../lib/errors.js'
import type { ClientRequirement } from './client.js'
import type { CookieJar, DriverContext, RecordMeta, SessionDriver, StoredRecord } from './contract.js'
import { BUILTIN_OPTION_NAMES } from './option-names.js'
import { checkOptions, exactOptionNames } from './options.js'
import { cloneRecord, isExpired, toStoredRecord } from './record.js'

export const COOKIE_DRIVER = 'cookie'

/** The cookie driver needs no client package. */
export const COOKIE_CLIENT: ClientRequirement | null = null

export interface CookieDriverOptions {
  /** Seals and opens the cookies. Default: the manager's keys (`keys` in its config). */
  keyring?: Keyring
  /** Name of the data cookie. Default: the session cookie's name + `.data`. */
  name?: string
  /** Most cookies one session may span. Default 3 (about 11 KB, within Node's 16 KB header limit). */
  maxChunks?: number
  /** Characters of sealed payload per cookie; with name and attributes a cookie stays under 4 KB. Default 3800. */
  chunkSize?: number
}

/** Every option of this driver (declared in option-names.ts); unknown options are rejected against it. */
export const COOKIE_OPTION_NAMES = exactOptionNames<CookieDriverOptions>()(BUILTIN_OPTION_NAMES.cookie)

const FORMAT_JSON = 0
const FORMAT_DEFLATE = 1
/**
 * Payloads shorter than this are sealed as they are: deflating a few hundred bytes saves about a
 * hundred bytes of cookie but costs more CPU (zlib setup) than sealing and opening together.
 * Compression pays off where it matters, as a session approaches a cookie's 4 KB.
 */
const COMPRESS_FROM = 1024
/** An opened payload never inflates past this, whoever sealed it. */
const MAX_INFLATED = 1 << 20
const MAX_CHUNKS_LIMIT = 20

/** What the sealed payload carries: the storage key it belongs to and the record, expiry included. */
interface Payload {
  k: string
  d: Record<string, string>
  f: string | null
  m: StoredRecord['meta']
  /** When the session was bound to its user (`meta.boundAt`); absent for anonymous sessions. */
  b?: number
}

interface Settings {
  keyring: Keyring
  name: string
  context: string
  maxChunks: number
  chunkSize: number
  /** Recently opened payloads by their sealed text (never mutated; reads hand out copies). */
  opened: Map<string, OpenedPayload>
}

interface OpenedPayload {
  key: string
  record: StoredRecord
}

/**
 * A client sends the same sealed cookie until its session changes, so opened payloads are kept
 * by their exact sealed text: a returning request skips base64, AES-GCM and JSON. Only payloads
 * that opened and validated are kept; expiry is still checked on every read.
 */
const OPENED_CACHE_SIZE = 1_000

function remember(cache: Map<string, OpenedPayload>, text: string, payload: OpenedPayload): void {
  if (cache.size >= OPENED_CACHE_SIZE) cache.delete(cache.keys().next().value as string)
  cache.set(text, payload)
}

function notBound(): never {
  throw new SessionConfigError(
    "The cookie driver keeps each session in its request's cookies, so it works only inside a request: use an HTTP adapter (tessera/express, tessera/fastify, …) or pass the request's cookie jar: manager.open({ id, jar }).",
  )
}

/**
 * Sealed-cookie sessions: no server storage, the whole session lives in the client's cookies,
 * sealed with AES-256-GCM over the manager's keys (the cookie name is authenticated too, so
 * payloads cannot be moved between cookies), deflated when that makes it smaller, and split into
 * numbered cookies when one is not enough. The expiry is inside the sealed payload: a copy
 * replayed after it is rejected. Logout alone cannot revoke a copy someone kept before it
 * expired: with a `securityStore` the manager records each logout and refuses such copies
 * (users/guards.ts); without one, choose a server-side driver when that matters. Concurrent
 * requests of one session are not merged: each response carries a whole new seal, and the one the
 * browser stores last wins.
 *
 * The driver made by the factory is a template; the lifecycle binds it to each request with
 * {@link CookieDriver.forRequest}.
 */
export class CookieDriver implements SessionDriver {
  readonly name = COOKIE_DRIVER
  readonly #settings: Settings

  /** `context` is what the manager passes: its keys and the session cookie's name. */
  constructor(options: CookieDriverOptions = {}, context: DriverContext = {}) {
    checkOptions(COOKIE_DRIVER, options, COOKIE_OPTION_NAMES)
    const keyring = options.keyring ?? context.keyring
    if (!keyring) {
      throw new SessionConfigError(
        "The cookie driver seals sessions with the manager's keys: configure keys: [process.env.SESSION_KEY] (32+ random bytes). With a random per-process key every restart would log everyone out.",
      )
    }
    const maxChunks = options.maxChunks ?? 3
    if (!Number.isInteger(maxChunks) || maxChunks < 1 || maxChunks > MAX_CHUNKS_LIMIT) {
      throw new SessionConfigError(
        `cookie driver: maxChunks must be a whole number from 1 to ${MAX_CHUNKS_LIMIT}, got ${JSON.stringify(options.maxChunks)}.`,
      )
    }
    const chunkSize = options.chunkSize ?? 3800
    if (!Number.isInteger(chunkSize) || chunkSize < 200 || chunkSize > 4000) {
      throw new SessionConfigError(
        `cookie driver: chunkSize must be a whole number from 200 to 4000, got ${JSON.stringify(options.chunkSize)}.`,
      )
    }
    const name = options.name ?? `${context.cookieName ?? 'tessera_session'}.data`
    if (!isCookieName(name)) {
      throw new SessionConfigError(`cookie driver: name must be a cookie token, got ${JSON.stringify(name)}.`)
    }
    this.#settings = { keyring, name, context: `tessera/cookie:${name}`, maxChunks, chunkSize, opened: new Map() }
  }

  /** Largest sealed payload, in characters, that fits into the configured cookies. */
  get capacity(): number {
    return this.#settings.maxChunks * this.#settings.chunkSize
  }

  forRequest(jar: CookieJar): SessionDriver & Required<Pick<SessionDriver, 'touch' | 'gc'>> {
    return new RequestCookieDriver(this.#settings, jar)
  }

  read(): Promise<StoredRecord | null> {
    notBound()
  }
  write(): Promise<void> {
    notBound()
  }
  destroy(): Promise<void> {
    notBound()
  }
  touch(): Promise<void> {
    notBound()
  }
  async gc(): Promise<number> {
    return 0 // expired cookies are rejected on read and dropped by browsers
  }
}

/** The cookie driver bound to one request's jar. Opens the jar at most once per request. */
class RequestCookieDriver implements SessionDriver {
  readonly name = COOKIE_DRIVER
  readonly #settings: Settings
  readonly #jar: CookieJar
  /** undefined: not opened yet; null: no valid session in the jar. */
  #current: OpenedPayload | null | undefined
  #chunksPresent = 0
  /**
   * When this request began. A seal it writes expires a lifetime after it, and a user binding it
   * makes counts from it: a request that began before a logout or a revocation can write
   * nothing that outlives the record of it (see users/guards.ts).
   */
  readonly #startedAt = Date.now()

  constructor(settings: Settings, jar: CookieJar) {
    this.#settings = settings
    this.#jar = jar
  }

  async read(key: string): Promise<StoredRecord | null> {
    const current = this.#loaded()
    if (!current || current.key !== key || isExpired(current.record)) return null
    return cloneRecord(current.record)
  }

  async write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    const copy = cloneRecord(record)
    copy.meta.expiresAt = this.#startedAt + ttl
    this.#bind(copy.meta)
    this.#store(key, copy, ttl)
  }

  async destroy(key: string): Promise<void> {
    const current = this.#loaded()
    // After regenerate the jar already holds the new session: destroying the old key must keep it.
    if (current && current.key !== key) return
    const { name } = this.#settings
    this.#jar.delete(name)
    for (let i = 1; i < this.#chunksPresent; i++) this.#jar.delete(`${name}.${i}`)
    this.#current = null
    this.#chunksPresent = 0
  }

  /** The jar holds one session: it moves to `toKey` only if the jar still holds `fromKey`'s. */
  async rename(fromKey: string, toKey: string, record: StoredRecord, ttl: number): Promise<boolean> {
    const current = this.#loaded()
    if (!current || current.key !== fromKey || isExpired(current.record)) return false
    await this.write(toKey, record, ttl)
    return true
  }

  async touch(key: string, ttl: number): Promise<void> {
    const current = this.#loaded()
    if (!current || current.key !== key || isExpired(current.record)) return
    const copy = cloneRecord(current.record)
    const now = Date.now()
    copy.meta.lastSeenAt = now
    copy.meta.expiresAt = this.#startedAt + ttl
    this.#store(key, copy, ttl)
  }

  async gc(): Promise<number> {
    return 0
  }

  /**
   * Sets `boundAt`: kept from the request's own session while the user stays the same (also
   * across regenerate), else the start of this request, which is when the binding was made.
   */
  #bind(meta: RecordMeta): void {
    if (meta.userId === undefined) {
      delete meta.boundAt
      return
    }
    const previous = this.#loaded()?.record.meta
    meta.boundAt = previous?.userId === meta.userId ? (previous.boundAt ?? previous.createdAt) : this.#startedAt
  }

  #store(key: string, record: StoredRecord, ttl: number): void {
    const { keyring, name, context, maxChunks, chunkSize, opened: cache } = this.#settings
    const { boundAt, ...meta } = record.meta
    const payload: Payload = { k: key, d: record.data, f: record.flash, m: meta }
    if (boundAt !== undefined) payload.b = boundAt
    const json = Buffer.from(JSON.stringify(payload), 'utf8')
    let plain = Buffer.concat([Buffer.of(FORMAT_JSON), json])
    if (json.length >= COMPRESS_FROM) {
      const deflated = deflateRawSync(json)
      if (deflated.length < json.length) plain = Buffer.concat([Buffer.of(FORMAT_DEFLATE), deflated])
    }
    const sealed = keyring.seal(plain, context).toString('base64url')
    const count = Math.ceil(sealed.length / chunkSize)
    if (count > maxChunks) throw new SessionCookieTooLargeError(sealed.length, maxChunks * chunkSize)
    const maxAge = Math.ceil(ttl / 1000)
    // Chunks of the request's old cookie beyond the new count must go, or they would linger.
    if (this.#current === undefined) this.#chunksPresent = this.#headCount()
    this.#jar.set(name, `${count}.${sealed.slice(0, chunkSize)}`, { maxAge })
    for (let i = 1; i < count; i++) this.#jar.set(`${name}.${i}`, sealed.slice(i * chunkSize, (i + 1) * chunkSize), { maxAge })
    for (let i = count; i < this.#chunksPresent; i++) this.#jar.delete(`${name}.${i}`)
    this.#current = { key, record }
    // The browser sends this exact text back next time: have it opened already.
    remember(cache, sealed, this.#current)
    this.#chunksPresent = Math.max(this.#chunksPresent, count)
  }

  #loaded(): OpenedPayload | null {
    if (this.#current === undefined) this.#current = this.#decode()
    return this.#current
  }

  /** How many chunks the request's cookie claims (0 when there is none or it is malformed). */
  #headCount(): number {
    const head = this.#jar.get(this.#settings.name)
    const dot = head === undefined ? -1 : head.indexOf('.')
    if (head === undefined || dot < 1 || dot > 2) return 0
    const count = Number(head.slice(0, dot))
    return Number.isInteger(count) && count >= 1 && count <= MAX_CHUNKS_LIMIT ? count : 0
  }

  #decode(): OpenedPayload | null {
    const { name, maxChunks, opened: cache } = this.#settings
    const count = this.#headCount()
    this.#chunksPresent = count
    if (count === 0 || count > maxChunks) return null
    const head = this.#jar.get(name) as string
    const dot = head.indexOf('.')
    const parts = [head.slice(dot + 1)]
    for (let i = 1; i < count; i++) {
      const part = this.#jar.get(`${name}.${i}`)
      if (part === undefined) return null
      parts.push(part)
    }
    const text = parts.join('')
    const known = cache.get(text)
    if (known) return known
    const opened = this.#open(text)
    if (opened) remember(cache, text, opened)
    return opened
  }

  #open(text: string): OpenedPayload | null {
    const { keyring, context } = this.#settings
    const sealed = Buffer.from(text, 'base64url')
    // Base64 decoders skip characters outside the alphabet and ignore stray trailing bits; only
    // the canonical text round-trips, so anything else is refused here.
    if (sealed.toString('base64url') !== text) return null
    const opened = keyring.open(sealed, context)
    if (!opened || opened.length < 2) return null
    try {
      const body =
        opened[0] === FORMAT_DEFLATE
          ? inflateRawSync(opened.subarray(1), { maxOutputLength: MAX_INFLATED })
          : opened[0] === FORMAT_JSON
            ? opened.subarray(1)
            : null
      if (!body) return null
      const payload = JSON.parse(body.toString('utf8')) as Partial<Payload>
      if (typeof payload?.k !== 'string') return null
      const record = toStoredRecord({ data: payload.d, flash: payload.f, meta: payload.m })
      if (!record) return null
      if (record.meta.userId !== undefined && typeof payload.b === 'number' && Number.isFinite(payload.b)) record.meta.boundAt = payload.b
      return { key: payload.k, record }
    } catch {
      return null
    }
  }
}

/** A sealed cookie driver; see {@link CookieDriver}. The manager passes its keys and cookie name as `context`. */
export function cookieDriver(options: CookieDriverOptions = {}, context: DriverContext = {}): CookieDriver {
  return new CookieDriver(options, context)
}

export default cookieDriver
