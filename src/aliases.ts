/**
 * The seed aliases: second names the seeds promise (docs/seeds.md) for things Tessera calls by
 * one canonical name. This table is the only place a second name exists. Loading this module
 * (the root `tessera` entry does) installs each alias on its class, non-enumerable, and the
 * declarations below make them type-check.
 *
 * To add one: an entry in SEED_ALIASES (with `install` when it lives on a class listed in
 * PROTOTYPES), its declaration below, a line in docs/seeds.md and a check in
 * test/unit/aliases.test.ts.
 */
import { Session, type SessionData } from './session/session.js'

export { Session as SessionStore } from './session/session.js'

export interface SeedAlias {
  /** The name as the seed spells it. */
  readonly alias: string
  /** The canonical name it stands for. */
  readonly canonical: string
  /** The seed it comes from (see docs/seeds.md). */
  readonly seed: '000' | '001' | '002' | '003' | '004'
  /** Where it lives: a class (its prototype carries the alias) or the root export `tessera`. */
  readonly on: keyof typeof PROTOTYPES | 'tessera'
  /** What is installed under the alias: a method or a getter that calls the canonical name. */
  readonly install?: PropertyDescriptor
}

/** The classes aliases are installed on. */
const PROTOTYPES = {
  Session: Session.prototype,
} as const

function method<T>(fn: (this: T, ...args: never[]) => unknown): PropertyDescriptor {
  return { value: fn, writable: true, configurable: true, enumerable: false }
}

function getter<T>(fn: (this: T) => unknown): PropertyDescriptor {
  return { get: fn, configurable: true, enumerable: false }
}

export const SEED_ALIASES: readonly SeedAlias[] = Object.freeze([
  { alias: 'SessionStore', canonical: 'Session', seed: '001', on: 'tessera' },
  {
    alias: 'initiate',
    canonical: 'start({ readonly })',
    seed: '002',
    on: 'Session',
    install: method(function (this: Session, readonly = false) {
      return this.start({ readonly })
    }),
  },
  { alias: 'commit', canonical: 'save()', seed: '002', on: 'Session', install: method(function (this: Session) { return this.save() }) },
  { alias: 'getId', canonical: 'sessionId', seed: '001', on: 'Session', install: method(function (this: Session) { return this.sessionId }) },
  { alias: 'flush', canonical: 'clear()', seed: '000', on: 'Session', install: method(function (this: Session) { this.clear() }) },
  {
    alias: 'keep',
    canonical: 'reflash() / reflashOnly(keys)',
    seed: '000',
    on: 'Session',
    install: method(function (this: Session, keys?: readonly string[]) {
      if (keys === undefined) this.reflash()
      else this.reflashOnly(keys)
    }),
  },
  { alias: 'fresh', canonical: 'status.fresh', seed: '002', on: 'Session', install: getter(function (this: Session) { return this.status.fresh }) },
  { alias: 'initiated', canonical: 'status.initiated', seed: '002', on: 'Session', install: getter(function (this: Session) { return this.status.initiated }) },
  { alias: 'readonly', canonical: 'status.readonly', seed: '002', on: 'Session', install: getter(function (this: Session) { return this.status.readonly }) },
] satisfies SeedAlias[])

for (const entry of SEED_ALIASES) {
  if (entry.on === 'tessera' || !entry.install) continue
  const prototype: object = PROTOTYPES[entry.on]
  // Never replace a member the class defines itself.
  if (!Object.hasOwn(prototype, entry.alias)) Object.defineProperty(prototype, entry.alias, entry.install)
}

declare module './session/session.js' {
  // Merges into the Session class: the seed names, as installed above.
  interface Session<Data extends SessionData = SessionData> {
    /** Seed alias (002) of `start({ readonly })`: starts the session, read-only when `readonly` is true. */
    initiate(readonly?: boolean): Promise<void>
    /** Seed alias (002) of `save()`. */
    commit(): Promise<void>
    /** Seed alias (001) of `sessionId`. */
    getId(): string
    /** Seed alias (000) of `clear()`. */
    flush(): void
    /** Seed alias (000) of `reflash()` (no keys) and `reflashOnly(keys)`. */
    keep(keys?: readonly string[]): void
    /** Seed alias (002) of `status.fresh`. */
    readonly fresh: boolean
    /** Seed alias (002) of `status.initiated`. */
    readonly initiated: boolean
    /** Seed alias (002) of `status.readonly`. */
    readonly readonly: boolean
  }
}
