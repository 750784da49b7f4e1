import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { SessionConfigError } from './errors.js'

/** Minimum length of a master key in bytes (AES-256 needs 32 bytes of key material). */
export const MIN_KEY_BYTES = 32

const SEAL_VERSION = 1
const KID_BYTES = 4
const IV_BYTES = 12
const TAG_BYTES = 16
const MAC_BYTES = 32
const SEAL_HEADER = 1 + KID_BYTES + IV_BYTES
const VERIFIED_CACHE_SIZE = 10_000

/** A master key as given in config: a string (its UTF-8 bytes are the key) or raw bytes. */
export type KeyMaterial = string | Uint8Array

interface DerivedKey {
  kid: Buffer
  kidHex: string
  sealKey: Buffer
  signKey: Buffer
}

/**
 * Compares two secrets in constant time. Every secret comparison in Tessera (signatures, CSRF
 * tokens, remember-me validators) goes through here.
 */
export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const left = typeof a === 'string' ? Buffer.from(a) : a
  const right = typeof b === 'string' ? Buffer.from(b) : b
  if (left.length !== right.length) {
    // Compare anyway so the time taken does not depend on where the inputs differ.
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}

/** SHA-256 of a string, base64url. For hashing tokens before they are stored. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

// IVs come from the CSPRNG in batches: one randomBytes call per 512 seals instead of one each.
const IV_BATCH = 512
let ivPool = Buffer.alloc(0)
let ivOffset = 0
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_BYTES * IV_BATCH)
    ivOffset = 0
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES)
  ivOffset += IV_BYTES
  return iv
}

function toBytes(key: KeyMaterial): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key)
}

function derive(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, 'tessera', purpose, 32))
}

/**
 * A list of master keys, newest first. Sealing and signing use the newest key; opening and
 * verifying find the right key by the 4-byte key id every payload carries, so rotation is:
 * prepend a new key, keep the old ones until their cookies have expired.
 */
export class Keyring {
  readonly #keys: DerivedKey[]
  readonly #byKid = new Map<string, DerivedKey>()
  /** Recently verified value+signature pairs: a returning client costs a map lookup, not an HMAC. */
  readonly #verified = new Map<string, 'current' | 'rotated'>()
  /** Signatures made recently: a session whose cookie is re-sent on every write signs once. */
  readonly #signed = new Map<string, string>()

  constructor(keys: readonly KeyMaterial[], label = 'keys') {
    if (keys.length === 0) throw new SessionConfigError(`${label} must contain at least one key.`)
    this.#keys = keys.map((key, index) => {
      if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
        throw new SessionConfigError(`${label}[${index}] must be a string or a Buffer, got ${typeof key}.`)
      }
      const master = toBytes(key)
      if (master.length < MIN_KEY_BYTES) {
        throw new SessionConfigError(
          `${label}[${index}] is ${master.length} bytes long; session keys need at least ${MIN_KEY_BYTES} random bytes. Generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`,
        )
      }
      const kid = createHash('sha256').update('tessera/kid').update(master).digest().subarray(0, KID_BYTES)
      const derived = { kid, kidHex: kid.toString('hex'), sealKey: derive(master, 'seal'), signKey: derive(master, 'sign') }
      if (this.#byKid.has(derived.kidHex)) {
        throw new SessionConfigError(`${label}[${index}] is listed twice; remove the duplicate key.`)
      }
      this.#byKid.set(derived.kidHex, derived)
      return derived
    })
  }

  /** A keyring with one random key: fine for in-memory sessions, which die with the process. */
  static ephemeral(): Keyring {
    return new Keyring([randomBytes(MIN_KEY_BYTES)])
  }

  get size(): number {
    return this.#keys.length
  }

  get #newest(): DerivedKey {
    return this.#keys[0] as DerivedKey
  }

  /**
   * AES-256-GCM with the newest key. Layout: version(1) kid(4) iv(12) ciphertext tag(16).
   * `context` is authenticated but not stored: opening with a different context fails.
   */
  seal(plaintext: Uint8Array, context?: string): Buffer {
    const key = this.#newest
    const iv = nextIv()
    const cipher = createCipheriv('aes-256-gcm', key.sealKey, iv)
    if (context !== undefined) cipher.setAAD(Buffer.from(context))
    const head = Buffer.allocUnsafe(SEAL_HEADER)
    head[0] = SEAL_VERSION
    key.kid.copy(head, 1)
    iv.copy(head, 1 + KID_BYTES)
    const body = cipher.update(plaintext)
    const tail = cipher.final()
    return Buffer.concat([head, body, tail, cipher.getAuthTag()])
  }

  /** Opens a sealed payload; `null` if it is malformed, sealed by an unknown key, or tampered with. */
  open(sealed: Uint8Array, context?: string): Buffer | null {
    if (sealed.length < SEAL_HEADER + TAG_BYTES || sealed[0] !== SEAL_VERSION) return null
    const buffer = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
    const key = this.#byKid.get(buffer.toString('hex', 1, 1 + KID_BYTES))
    if (!key) return null
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.sealKey, buffer.subarray(1 + KID_BYTES, SEAL_HEADER))
      if (context !== undefined) decipher.setAAD(Buffer.from(context))
      decipher.setAuthTag(buffer.subarray(buffer.length - TAG_BYTES))
      const body = decipher.update(buffer.subarray(SEAL_HEADER, buffer.length - TAG_BYTES))
      return Buffer.concat([body, decipher.final()])
    } catch {
      return null
    }
  }

  /** HMAC-SHA256 of `value` with the newest key; the result names the key id (base64url). */
  sign(value: string): string {
    const known = this.#signed.get(value)
    if (known !== undefined) return known
    const key = this.#newest
    const mac = createHmac('sha256', key.signKey).update(value).digest()
    const signature = Buffer.concat([key.kid, mac]).toString('base64url')
    // A signature we made is valid: remember it, so this value's next verify costs no HMAC.
    this.#remember(`${value}.${signature}`, 'current')
    if (this.#signed.size >= VERIFIED_CACHE_SIZE) this.#signed.delete(this.#signed.keys().next().value as string)
    this.#signed.set(value, signature)
    return signature
  }

  #remember(cacheKey: string, result: 'current' | 'rotated'): void {
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value as string)
    this.#verified.set(cacheKey, result)
  }

  /**
   * Checks a signature made by {@link sign}. Returns `'current'` when made with the newest key,
   * `'rotated'` when made with an older key still in the ring (re-sign it), `null` when invalid.
   */
  verify(value: string, signature: string): 'current' | 'rotated' | null {
    const cacheKey = `${value}.${signature}`
    const cached = this.#verified.get(cacheKey)
    if (cached !== undefined) return cached
    const result = this.#verifyMac(value, signature)
    // Only valid pairs are kept, so a flood of forged cookies cannot fill the cache.
    if (result !== null) this.#remember(cacheKey, result)
    return result
  }

  #verifyMac(value: string, signature: string): 'current' | 'rotated' | null {
    const raw = Buffer.from(signature, 'base64url')
    if (raw.length !== KID_BYTES + MAC_BYTES) return null
    const key = this.#byKid.get(raw.toString('hex', 0, KID_BYTES))
    if (!key) return null
    const expected = createHmac('sha256', key.signKey).update(value).digest()
    if (!safeEqual(expected, raw.subarray(KID_BYTES))) return null
    return key === this.#newest ? 'current' : 'rotated'
  }
}
