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
import { CONFIG_ALIASES } from './config/aliases.js'
import { session as connectSession, type ConnectMiddleware } from './http/connect.js'
import type { SessionMiddlewareOptions } from './http/lifecycle.js'
import { SessionManager, type SessionManagerOptions } from './manager/manager.js'
import { Session, type SessionData } from './session/session.js'
import type { CreateSessionOptions, UserSession } from './users/users.js'

export { Session as SessionStore } from './session/session.js'

/**
 * Seed alias (000): a session that is not started yet, on a manager of its own. Prefer one
 * `SessionManager` for the app and `manager.open()`.
 */
export function createSession<Data extends SessionData = SessionData>(config: SessionManagerOptions<Data> = {}): Session<Data> {
  return new SessionManager<Data>(config).prepare()
}

export interface SeedAlias {
  /** The name as the seed spells it. */
  readonly alias: string
  /** The canonical name it stands for. */
  readonly canonical: string
  /** The seed it comes from (see docs/seeds.md). */
  readonly seed: '000' | '001' | '002' | '003' | '004'
  /**
   * Where it lives: a class (its prototype carries the alias), the root export `tessera`, or a
   * configuration key (translated by src/config/aliases.ts before the config is read).
   */
  readonly on: keyof typeof PROTOTYPES | 'tessera' | 'config'
  /** What is installed under the alias: a method or a getter that calls the canonical name. */
  readonly install?: PropertyDescriptor
}

/** The classes aliases are installed on. */
const PROTOTYPES = {
  Session: Session.prototype,
  SessionManager: SessionManager.prototype,
} as const

function method<T>(fn: (this: T, ...args: never[]) => unknown): PropertyDescriptor {
  return { value: fn, writable: true, configurable: true, enumerable: false }
}

function getter<T>(fn: (this: T) => unknown): PropertyDescriptor {
  return { get: fn, configurable: true, enumerable: false }
}

export const SEED_ALIASES: readonly SeedAlias[] = Object.freeze([
  { alias: 'SessionStore', canonical: 'Session', seed: '001', on: 'tessera' },
  { alias: 'createSession', canonical: 'new SessionManager(config).prepare()', seed: '000', on: 'tessera' },
  {
    alias: 'initiate',
    canonical: 'start({ readonly })',
    seed: '002',
    on: 'Session',
    install: method(function (this: Session, readonly = false) {
      return this.start({ readonly })
    }),
  },
  {
    alias: 'commit',
    canonical: 'save()',
    seed: '002',
    on: 'Session',
    install: method(function (this: Session) {
      return this.save()
    }),
  },
  {
    alias: 'getId',
    canonical: 'sessionId',
    seed: '001',
    on: 'Session',
    install: method(function (this: Session) {
      return this.sessionId
    }),
  },
  {
    alias: 'flush',
    canonical: 'clear()',
    seed: '000',
    on: 'Session',
    install: method(function (this: Session) {
      this.clear()
    }),
  },
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
  {
    alias: 'fresh',
    canonical: 'status.fresh',
    seed: '002',
    on: 'Session',
    install: getter(function (this: Session) {
      return this.status.fresh
    }),
  },
  {
    alias: 'initiated',
    canonical: 'status.initiated',
    seed: '002',
    on: 'Session',
    install: getter(function (this: Session) {
      return this.status.initiated
    }),
  },
  {
    alias: 'readonly',
    canonical: 'status.readonly',
    seed: '002',
    on: 'Session',
    install: getter(function (this: Session) {
      return this.status.readonly
    }),
  },
  {
    alias: 'driver',
    canonical: 'open({ driver })',
    seed: '001',
    on: 'SessionManager',
    install: method(function (this: SessionManager, name?: string) {
      return this.open({ driver: name })
    }),
  },
  {
    alias: 'middleware',
    canonical: "session(manager) from 'tessera/express'",
    seed: '004',
    on: 'SessionManager',
    install: method(function (this: SessionManager, options?: SessionMiddlewareOptions) {
      return connectSession(this, options)
    }),
  },
  {
    alias: 'createSession',
    canonical: 'users.create(userId, data, options)',
    seed: '004',
    on: 'SessionManager',
    install: method(function (this: SessionManager, userId: string, data?: SessionData, options?: CreateSessionOptions) {
      return this.users.create(userId, data, options)
    }),
  },
  {
    alias: 'getSession',
    canonical: 'users.get(id)',
    seed: '004',
    on: 'SessionManager',
    install: method(function (this: SessionManager, id: string) {
      return this.users.get(id)
    }),
  },
  {
    alias: 'updateSession',
    canonical: 'users.update(id, data)',
    seed: '004',
    on: 'SessionManager',
    install: method(function (this: SessionManager, id: string, data: SessionData) {
      return this.users.update(id, data)
    }),
  },
  {
    alias: 'refreshSession',
    canonical: 'users.refresh(id)',
    seed: '004',
    on: 'SessionManager',
    install: method(function (this: SessionManager, id: string) {
      return this.users.refresh(id)
    }),
  },
  {
    alias: 'deleteSession',
    canonical: 'users.revoke(id)',
    seed: '004',
    on: 'SessionManager',
    install: method(async function (this: SessionManager, id: string) {
      await this.users.revoke(id)
    }),
  },
  ...CONFIG_ALIASES.map(({ alias, canonical, seed }) => ({ alias, canonical, seed, on: 'config' as const })),
] satisfies SeedAlias[])

for (const entry of SEED_ALIASES) {
  if (entry.on === 'tessera' || entry.on === 'config' || !entry.install) continue
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

declare module './manager/manager.js' {
  // Merges into the SessionManager class: the seed names, as installed above.
  interface SessionManager<Data extends SessionData = SessionData, Names extends string = string> {
    /** Seed alias (001) of `open({ driver: name })`: a started session on the named driver. */
    driver(name?: Names | (string & {})): Promise<Session<Data>>
    /** Seed alias (004) of `session(manager, options)` from `tessera/express`: connect-style middleware. */
    middleware(options?: SessionMiddlewareOptions): ConnectMiddleware
    /** Seed alias (004) of `users.create(userId, data, options)`. */
    createSession(userId: string, data?: Partial<Data>, options?: CreateSessionOptions): Promise<UserSession<Data>>
    /** Seed alias (004) of `users.get(id)`. */
    getSession(id: string): Promise<UserSession<Data> | null>
    /** Seed alias (004) of `users.update(id, data)`. */
    updateSession(id: string, data: Partial<Data>): Promise<boolean>
    /** Seed alias (004) of `users.refresh(id)`. */
    refreshSession(id: string): Promise<boolean>
    /** Seed alias (004) of `users.revoke(id)`, resolving to nothing. */
    deleteSession(id: string): Promise<void>
  }
}
