import type { ValueCodec } from '../drivers/contract.js'
import type { Keyring } from '../lib/crypto.js'
import { SessionError, SessionSerializationError } from '../lib/errors.js'
import type { Serializer } from '../lib/serializer.js'

/**
 * Encodes one session value for storage: serialize, then (when encryption is on) seal with
 * AES-256-GCM over the keyring, binding the ciphertext to its key name so sealed values cannot
 * be swapped between keys. The result is always a string, so every store can hold it.
 */
export class SessionCodec implements ValueCodec {
  readonly #serializer: Serializer
  readonly #sealing: Keyring | null
  readonly #binary: boolean

  constructor(serializer: Serializer, sealing: Keyring | null = null) {
    this.#serializer = serializer
    this.#sealing = sealing
    this.#binary = typeof serializer.serialize(null) !== 'string'
  }

  get encrypted(): boolean {
    return this.#sealing !== null
  }

  encode(value: unknown, key: string): string {
    let raw: unknown
    try {
      raw = this.#serializer.serialize(value)
    } catch (error) {
      if (error instanceof SessionError) throw error
      throw new SessionSerializationError(`The session serializer could not serialize the value of "${key}".`, { cause: error })
    }
    if (typeof raw !== 'string' && !(raw instanceof Uint8Array)) {
      throw new SessionSerializationError(
        `The session serializer returned ${raw === undefined ? 'undefined' : typeof raw} for "${key}"; it must return a string or bytes.`,
      )
    }
    if (this.#sealing) {
      return this.#sealing.seal(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw, key).toString('base64url')
    }
    return typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')
  }

  /** True when `value` serializes to what `encoded` holds (sealed values are opened to compare). */
  matches(value: unknown, encoded: string, key: string): boolean {
    let raw: string | Uint8Array
    try {
      raw = this.#serializer.serialize(value)
    } catch {
      return false
    }
    if (!this.#sealing) {
      return typeof raw === 'string' ? raw === encoded : Buffer.from(raw).toString('base64') === encoded
    }
    const opened = this.#sealing.open(Buffer.from(encoded, 'base64url'), key)
    return opened !== null && opened.equals(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw))
  }

  decode(encoded: string, key: string): unknown {
    let raw: string | Uint8Array
    if (this.#sealing) {
      const opened = this.#sealing.open(Buffer.from(encoded, 'base64url'), key)
      if (!opened) {
        throw new SessionSerializationError(
          `The stored value of "${key}" could not be decrypted: it was sealed with a key that is no longer configured, or it was tampered with.`,
        )
      }
      raw = this.#binary ? opened : opened.toString('utf8')
    } else {
      raw = this.#binary ? Buffer.from(encoded, 'base64') : encoded
    }
    try {
      return this.#serializer.deserialize(raw)
    } catch (error) {
      if (error instanceof SessionError) throw error
      throw new SessionSerializationError(`The stored value of "${key}" could not be deserialized.`, { cause: error })
    }
  }
}
