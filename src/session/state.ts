import type { DeviceInfo, RecordMeta, StoredRecord } from '../drivers/contract.js'
import { SessionContextError, SessionNotStartedError, SessionReadonlyError } from '../lib/errors.js'
import { generateSessionId, storageKeyFor } from '../lib/ids.js'
import type { SessionContext } from './context.js'
import { FlashBag } from './flash.js'
import { SessionValues } from './values.js'

/** A user binding set in this request and not saved yet (`userId: null` unbinds). */
export interface PendingUser {
  userId: string | null
  device?: DeviceInfo
}

/**
 * What one session knows about itself: its id, where it stands in its lifecycle, its record's
 * metadata and its two bags. The Session, its `status` and `auth` views and the persistence
 * sequence share this one object; it holds state and no lifecycle logic.
 */
export class SessionState {
  context: SessionContext | undefined
  readonly: boolean
  id = ''
  /** The key the store files the session under: SHA-256 of the id. */
  key = ''
  started = false
  /** When `start()` ran (epoch ms): a revokeAll that began later ends what this session writes. */
  startedAt = 0
  fresh = true
  persisted = false
  invalidated = false
  meta: RecordMeta | null = null
  pendingUser: PendingUser | undefined
  #values: SessionValues | undefined
  #flash: FlashBag | undefined

  constructor(context: SessionContext | undefined, readonly: boolean) {
    this.context = context
    this.readonly = readonly
  }

  /** The store, codec and rules; a session built without them cannot work. */
  get ctx(): SessionContext {
    if (!this.context) throw new SessionContextError()
    return this.context
  }

  get values(): SessionValues {
    if (!this.#values) throw new SessionNotStartedError('get')
    return this.#values
  }

  get flash(): FlashBag {
    if (!this.#flash) throw new SessionNotStartedError('flash')
    return this.#flash
  }

  /** The values bag for an operation (like `valuesFor('put', 'write')`): throws before start, and on writes when read-only. */
  valuesFor(operation: string, access: 'read' | 'write'): SessionValues {
    this.assert(operation, access)
    return this.values
  }

  /** The flash bag for an operation, with the same checks as {@link valuesFor}. */
  flashFor(operation: string, access: 'read' | 'write'): FlashBag {
    this.assert(operation, access)
    return this.flash
  }

  assert(operation: string, access: 'read' | 'write'): void {
    if (!this.started) throw new SessionNotStartedError(operation)
    if (access === 'write' && this.readonly) throw new SessionReadonlyError(operation)
  }

  /** Takes over a live stored record under `id`. */
  adopt(id: string, record: StoredRecord): void {
    const { codec } = this.ctx
    this.#assignId(id)
    this.fresh = false
    this.persisted = true
    this.meta = record.meta
    this.pendingUser = undefined
    this.#values = new SessionValues(codec, record.data)
    this.#flash = new FlashBag(codec, record.flash)
  }

  /** Empty state under a brand-new id. */
  reset(): void {
    const { codec } = this.ctx
    this.#assignId(generateSessionId())
    this.fresh = true
    this.persisted = false
    this.meta = null
    this.pendingUser = undefined
    this.#values = new SessionValues(codec)
    this.#flash = new FlashBag(codec)
  }

  /** Gives the session a new id, keeping everything else (regenerate). */
  renew(): void {
    this.#assignId(generateSessionId())
  }

  /** The user bound to the session: pending in this request, else as stored. */
  get userId(): string | undefined {
    const pending = this.pendingUser
    return pending ? (pending.userId ?? undefined) : this.meta?.userId
  }

  /** The user this save binds the session to, when that is new (login), else null. */
  get binding(): string | null {
    const userId = this.pendingUser?.userId
    return userId && (!this.persisted || userId !== this.meta?.userId) ? userId : null
  }

  /** True when a save would create or change the stored record (not counting in-place edits of objects). */
  get hasPendingWrites(): boolean {
    if (!this.started) return false
    if (!this.persisted) return this.values.size > 0 || this.flash.hasOutgoing || Boolean(this.pendingUser?.userId)
    return this.values.changes.length > 0 || this.flash.changed || this.pendingUser !== undefined
  }

  #assignId(id: string): void {
    this.id = id
    this.key = storageKeyFor(id)
  }
}
