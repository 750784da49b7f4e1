import { SessionSerializationError } from './errors.js'

/**
 * Turns one session value into text or bytes and back. Pass your own (e.g. MessagePack) through
 * the manager's `serializer` option; a serializer that returns bytes is detected automatically.
 */
export interface Serializer {
  serialize(value: unknown): string | Uint8Array
  deserialize(raw: string | Uint8Array): unknown
}

/** Marks a tagged value: `{"$t":"date","v":"2024-…"}`. User keys starting with `$` get one more `$`. */
const TAG = '$t'

class UnstorableValue extends Error {
  readonly path: string[] = []
  constructor(
    readonly reason: string,
    readonly hint = 'session values must be data (JSON values, Date, BigInt, Map, Set, Uint8Array)',
  ) {
    super(reason)
  }
}

function encodeKey(key: string): string {
  return JSON.stringify(key.charCodeAt(0) === 36 /* $ */ ? `$${key}` : key)
}

function tagged(tag: string, payload?: string): string {
  return payload === undefined ? `{"${TAG}":"${tag}"}` : `{"${TAG}":"${tag}","v":${payload}}`
}

function encodeNumber(value: number): string {
  if (Number.isFinite(value) && !Object.is(value, -0)) return String(value)
  return tagged('num', JSON.stringify(Object.is(value, -0) ? '-0' : String(value)))
}

function encode(value: unknown, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return encodeNumber(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'undefined':
      return tagged('undef')
    case 'bigint':
      return tagged('big', `"${value.toString()}"`)
    case 'function':
      throw new UnstorableValue('a function')
    case 'symbol':
      throw new UnstorableValue('a symbol')
  }
  if (value === null) return 'null'
  const object = value as object
  if (ancestors.includes(object)) throw new UnstorableValue('a cyclic reference')
  ancestors.push(object)
  try {
    return encodeObject(object, ancestors)
  } finally {
    ancestors.pop()
  }
}

function within<T>(segment: string, work: () => T): T {
  try {
    return work()
  } catch (error) {
    if (error instanceof UnstorableValue) error.path.unshift(segment)
    throw error
  }
}

function encodeObject(object: object, ancestors: object[]): string {
  if (Array.isArray(object)) {
    const items: string[] = []
    for (let i = 0; i < object.length; i++) items.push(within(`[${i}]`, () => encode(object[i], ancestors)))
    return `[${items.join(',')}]`
  }
  if (object instanceof Date) {
    const time = object.getTime()
    return tagged('date', Number.isNaN(time) ? 'null' : `"${object.toISOString()}"`)
  }
  if (object instanceof Map) {
    const entries: string[] = []
    let index = 0
    for (const [key, entry] of object) {
      const at = `<map entry ${index++}>`
      entries.push(within(at, () => `[${encode(key, ancestors)},${encode(entry, ancestors)}]`))
    }
    return tagged('map', `[${entries.join(',')}]`)
  }
  if (object instanceof Set) {
    const items: string[] = []
    let index = 0
    for (const item of object) items.push(within(`<set item ${index++}>`, () => encode(item, ancestors)))
    return tagged('set', `[${items.join(',')}]`)
  }
  if (Buffer.isBuffer(object)) return tagged('buf', `"${object.toString('base64')}"`)
  if (object instanceof Uint8Array && object.constructor === Uint8Array) {
    return tagged('u8', `"${Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64')}"`)
  }
  const proto = Object.getPrototypeOf(object)
  if (proto === Object.prototype || proto === null) {
    const parts: string[] = []
    for (const key of Object.keys(object)) {
      const entry = (object as Record<string, unknown>)[key]
      parts.push(`${encodeKey(key)}:${within(key, () => encode(entry, ancestors))}`)
    }
    return `{${parts.join(',')}}`
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return encode(toJSON.call(object), ancestors)
  const className = (proto?.constructor as { name?: string } | undefined)?.name || 'an unknown class'
  throw new UnstorableValue(`an instance of ${className}`, 'store a plain object, or give the class a toJSON method')
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function revive(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i])
    return value
  }
  const object = value as Record<string, unknown>
  if (Object.hasOwn(object, TAG)) return reviveTagged(object)
  const keys = Object.keys(object)
  if (keys.some((key) => key.charCodeAt(0) === 36)) {
    const copy: Record<string, unknown> = {}
    for (const key of keys) defineOwn(copy, key.charCodeAt(0) === 36 ? key.slice(1) : key, revive(object[key]))
    return copy
  }
  for (const key of keys) defineOwn(object, key, revive(object[key]))
  return object
}

function reviveTagged(object: Record<string, unknown>): unknown {
  const payload = object.v
  switch (object[TAG]) {
    case 'undef':
      return undefined
    case 'num':
      return payload === '-0' ? -0 : Number(payload)
    case 'big':
      if (typeof payload === 'string' && /^-?\d+$/.test(payload)) return BigInt(payload)
      break
    case 'date':
      if (payload === null || typeof payload === 'string') return new Date(payload ?? Number.NaN)
      break
    case 'map':
      if (Array.isArray(payload)) {
        return new Map(
          payload.map((entry) => {
            if (!Array.isArray(entry) || entry.length !== 2)
              throw new SessionSerializationError('Malformed Map entry in stored session data.')
            return [revive(entry[0]), revive(entry[1])] as const
          }),
        )
      }
      break
    case 'set':
      if (Array.isArray(payload)) return new Set(payload.map(revive))
      break
    case 'buf':
      if (typeof payload === 'string') return Buffer.from(payload, 'base64')
      break
    case 'u8':
      if (typeof payload === 'string') return new Uint8Array(Buffer.from(payload, 'base64'))
      break
  }
  throw new SessionSerializationError('Stored session data contains a value tag this version of Tessera does not know.')
}

/**
 * The default serializer: JSON that keeps types. `Date`, `BigInt`, `Map`, `Set`, `Buffer`,
 * `Uint8Array`, `undefined`, `NaN`, `±Infinity` and `-0` come back as what went in. Functions,
 * symbols, cyclic objects and class instances without `toJSON` are refused with a
 * {@link SessionSerializationError} naming where in the value they are.
 */
export const typedJsonSerializer: Serializer = {
  serialize(value: unknown): string {
    try {
      return encode(value, [])
    } catch (error) {
      if (!(error instanceof UnstorableValue)) throw error
      const where = error.path.length > 0 ? ` at "${error.path.join('.').replace(/\.\[/g, '[')}"` : ''
      throw new SessionSerializationError(`Cannot store ${error.reason}${where} in the session: ${error.hint}.`)
    }
  },
  deserialize(raw: string | Uint8Array): unknown {
    const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8')
    const parsed: unknown = JSON.parse(text)
    return text.includes('"$') ? revive(parsed) : parsed
  },
}
