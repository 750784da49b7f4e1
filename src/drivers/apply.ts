import { SessionTypeError } from '../lib/errors.js'
import type { Change, StoredRecord, ValueCodec } from './contract.js'
import { emptyData } from './record.js'

/**
 * Applies a change log to a record in place, the way every driver that applies patches in
 * JavaScript does it (memory, file, SQL). Version, expiry and lastSeenAt are refreshed too.
 */
export function applyChanges(
  record: StoredRecord,
  changes: readonly Change[],
  codec: ValueCodec,
  ttl: number,
  now = Date.now(),
): StoredRecord {
  for (const change of changes) {
    switch (change.op) {
      case 'set':
        record.data[change.key] = change.value
        break
      case 'delete':
        delete record.data[change.key]
        break
      case 'clear':
        record.data = emptyData()
        break
      case 'increment': {
        const stored = record.data[change.key]
        const current = stored === undefined ? 0 : codec.decode(stored, change.key)
        const base = current === null || current === undefined ? 0 : current
        if (typeof base !== 'number') {
          throw new SessionTypeError(`Cannot increment "${change.key}": the stored value is a ${typeof base}, not a number.`)
        }
        record.data[change.key] = codec.encode(base + change.by, change.key)
        break
      }
      case 'push': {
        const stored = record.data[change.key]
        const current = stored === undefined ? [] : codec.decode(stored, change.key)
        const list = current === null || current === undefined ? [] : current
        if (!Array.isArray(list)) {
          throw new SessionTypeError(`Cannot push to "${change.key}": the stored value is not an array.`)
        }
        list.push(codec.decode(change.value, change.key))
        record.data[change.key] = codec.encode(list, change.key)
        break
      }
      case 'flash':
        record.flash = change.value
        break
      case 'user':
        if (change.userId === null) delete record.meta.userId
        else record.meta.userId = change.userId
        if (change.device) record.meta.device = { ...change.device }
        break
    }
  }
  record.meta.version += 1
  record.meta.lastSeenAt = now
  record.meta.expiresAt = now + ttl
  return record
}
