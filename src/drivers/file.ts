import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { sha256 } from '../lib/crypto.js'
import { SessionConfigError, SessionError } from '../lib/errors.js'
import type { Change, PatchOptions, PatchResult, SessionDriver, SessionSummary, StoredRecord, Unlock } from './contract.js'
import { fileLeases } from './file/lease.js'
import { Leases } from './lease.js'
import { applyChanges } from './apply.js'
import type { ClientRequirement } from './client.js'
import { KeyedMutex } from './mutex.js'
import { BUILTIN_OPTION_NAMES } from './option-names.js'
import { checkOptions, exactOptionNames } from './options.js'
import { cloneRecord, isExpired, parseRecord, summarize } from './record.js'

export const FILE_DRIVER = 'file'

/** The file driver needs no client package. */
export const FILE_CLIENT: ClientRequirement | null = null

export interface FileDriverOptions {
  /** Folder that holds one file per session; created (mode 0700) on first use. */
  path: string
  /** How long a write waits for another process's lock on the same session, in ms. Default 5000. */
  lockTimeout?: number
}

/** Every option of this driver (declared in option-names.ts); unknown options are rejected against it. */
export const FILE_OPTION_NAMES = exactOptionNames<FileDriverOptions>()(BUILTIN_OPTION_NAMES.file)

/** Storage keys are base64url hashes; anything else never reaches a path. */
const SAFE_KEY = /^[A-Za-z0-9_-]{1,128}$/
const STALE_LOCK_MS = 10_000
const STALE_TEMP_MS = 60_000

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException)?.code === 'ENOENT'
const isTaken = (error: unknown): boolean => (error as NodeJS.ErrnoException)?.code === 'EEXIST'

/**
 * One JSON file per session. Writes go to a temporary file that is fsynced and renamed over the
 * old one, so a crash mid-write leaves the previous version, never a torn file. Each file's mtime
 * is set to its expiry, so gc decides from `stat` alone. Read-modify-write steps (patch, touch)
 * hold an in-process mutex plus a lock file, so several processes can share the folder.
 */
export class FileDriver implements SessionDriver {
  readonly name = FILE_DRIVER
  readonly #dir: string
  readonly #usersDir: string
  readonly #lockTimeout: number
  readonly #mutex = new KeyedMutex()
  #ready: Promise<unknown> | undefined
  #leases: Leases | undefined

  constructor(options: FileDriverOptions) {
    checkOptions(FILE_DRIVER, options, FILE_OPTION_NAMES)
    if (typeof options?.path !== 'string' || options.path.trim() === '') {
      throw new SessionConfigError(
        'file driver: "path" must name the folder for session files, e.g. { driver: "file", path: "./storage/sessions" }.',
      )
    }
    this.#dir = resolve(options.path)
    this.#usersDir = join(this.#dir, 'users')
    this.#lockTimeout = options.lockTimeout ?? 5_000
  }

  /** Absolute folder the sessions are stored in. */
  get path(): string {
    return this.#dir
  }

  async read(key: string): Promise<StoredRecord | null> {
    if (!SAFE_KEY.test(key)) return null
    const record = await this.#load(key)
    if (record && isExpired(record)) {
      // Re-checked under the lock: a touch may have renewed it meanwhile.
      await this.#exclusive(key, async () => {
        const current = await this.#load(key)
        if (current && isExpired(current)) await this.#remove(key)
      })
      return null
    }
    return record
  }

  async write(key: string, record: StoredRecord, ttl: number): Promise<void> {
    const file = this.#file(key)
    await this.#ensureDir()
    const copy = cloneRecord(record)
    copy.meta.expiresAt = Date.now() + ttl
    await this.#exclusive(key, async () => {
      const previous = await this.#load(key)
      await this.#save(file, copy)
      await this.#reindex(key, previous?.meta.userId, copy.meta.userId)
    })
  }

  /**
   * Holds the session's lock, like patch and touch: a patch that loaded the record before this
   * destroy cannot write it back after (logout wins), in this process or another one.
   */
  async destroy(key: string): Promise<void> {
    if (!SAFE_KEY.test(key)) return
    await this.#exclusive(key, () => this.#remove(key))
  }

  /** Under the old key's lock: a destroy of the old key is either before (false) or after the move. */
  async rename(fromKey: string, toKey: string, record: StoredRecord, ttl: number): Promise<boolean> {
    const file = this.#file(toKey)
    if (!SAFE_KEY.test(fromKey)) return false
    const copy = cloneRecord(record)
    return this.#exclusive(fromKey, async () => {
      const previous = await this.#load(fromKey)
      if (!previous || isExpired(previous)) return false
      copy.meta.expiresAt = Date.now() + ttl
      await this.#save(file, copy)
      await this.#reindex(toKey, undefined, copy.meta.userId)
      await this.#remove(fromKey)
      return true
    })
  }

  async touch(key: string, ttl: number): Promise<void> {
    if (!SAFE_KEY.test(key)) return
    await this.#exclusive(key, async () => {
      const record = await this.#load(key)
      if (!record || isExpired(record)) return
      const now = Date.now()
      record.meta.lastSeenAt = now
      record.meta.expiresAt = now + ttl
      await this.#save(this.#file(key), record)
    })
  }

  async patch(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    const file = this.#file(key)
    return this.#exclusive(key, async () => {
      const record = await this.#load(key)
      if (!record || isExpired(record)) return 'missing'
      const previousUser = record.meta.userId
      const next = applyChanges(record, changes, options.codec, options.ttl)
      await this.#save(file, next)
      await this.#reindex(key, previousUser, next.meta.userId)
      return 'applied'
    })
  }

  async gc(): Promise<number> {
    const names = await readdir(this.#dir).catch((error) => {
      if (isMissing(error)) return [] as string[]
      throw error
    })
    const now = Date.now()
    let removed = 0
    for (const name of names) {
      const path = join(this.#dir, name)
      const info = await stat(path).catch(() => null)
      if (!info?.isFile()) continue
      if (name.endsWith('.tmp')) {
        if (now - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined)
        continue
      }
      if (!name.endsWith('.json') || info.mtimeMs > now) continue
      const key = name.slice(0, -'.json'.length)
      const record = await this.#load(key)
      if (!record || isExpired(record, now)) {
        await this.destroy(key)
        removed += 1
      }
    }
    return removed
  }

  async listByUser(userId: string): Promise<SessionSummary[]> {
    const summaries: SessionSummary[] = []
    for (const key of await this.#userKeys(userId)) {
      const record = await this.read(key)
      const summary = record && record.meta.userId === userId ? summarize(key, record) : null
      if (summary) summaries.push(summary)
      else await unlink(join(this.#userDir(userId), key)).catch(() => undefined)
    }
    return summaries
  }

  async destroyByUser(userId: string, options: { exceptKeys?: readonly string[] } = {}): Promise<number> {
    const except = new Set(options.exceptKeys ?? [])
    let removed = 0
    for (const key of await this.#userKeys(userId)) {
      if (except.has(key)) continue
      const record = await this.read(key)
      await this.destroy(key)
      await unlink(join(this.#userDir(userId), key)).catch(() => undefined)
      if (record) removed += 1
    }
    return removed
  }

  async #remove(key: string): Promise<void> {
    const record = await this.#load(key)
    await unlink(this.#file(key)).catch((error) => {
      if (!isMissing(error)) throw error
    })
    if (record?.meta.userId !== undefined) await this.#reindex(key, record.meta.userId, undefined)
  }

  #file(key: string): string {
    if (!SAFE_KEY.test(key)) {
      throw new SessionError('file driver: refusing a storage key that is not a base64url hash.', { code: 'E_SESSION_INVALID_KEY' })
    }
    return join(this.#dir, `${key}.json`)
  }

  #userDir(userId: string): string {
    return join(this.#usersDir, sha256(userId))
  }

  #ensureDir(): Promise<unknown> {
    this.#ready ??= mkdir(this.#usersDir, { recursive: true, mode: 0o700 }).catch((error) => {
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }

  async #load(key: string): Promise<StoredRecord | null> {
    try {
      return parseRecord(await readFile(this.#file(key), 'utf8'))
    } catch (error) {
      if (isMissing(error)) return null
      throw error
    }
  }

  async #save(file: string, record: StoredRecord): Promise<void> {
    const temp = `${file.slice(0, -'.json'.length)}.${randomBytes(6).toString('hex')}.tmp`
    const handle = await open(temp, 'w', 0o600)
    try {
      await handle.writeFile(JSON.stringify(record))
      await handle.sync()
    } finally {
      await handle.close()
    }
    try {
      await rename(temp, file)
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      throw error
    }
    const expires = record.meta.expiresAt / 1000
    await utimes(file, expires, expires)
  }

  async #reindex(key: string, previousUser: string | undefined, nextUser: string | undefined): Promise<void> {
    if (previousUser === nextUser) {
      if (nextUser === undefined) return
    } else if (previousUser !== undefined) {
      await unlink(join(this.#userDir(previousUser), key)).catch(() => undefined)
    }
    if (nextUser === undefined) return
    const dir = this.#userDir(nextUser)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await writeFile(join(dir, key), '')
  }

  async #userKeys(userId: string): Promise<string[]> {
    const names = await readdir(this.#userDir(userId)).catch(() => [] as string[])
    return names.filter((name) => SAFE_KEY.test(name))
  }

  /** Runs `work` holding both the in-process mutex and the cross-process lock file for `key`. */
  async #exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const lockFile = `${this.#file(key)}.lock`
    await this.#ensureDir()
    return this.#mutex.run(key, async () => {
      const deadline = Date.now() + this.#lockTimeout
      for (let attempt = 0; ; attempt += 1) {
        try {
          await (await open(lockFile, 'wx', 0o600)).close()
          break
        } catch (error) {
          if (!isTaken(error)) throw error
          const info = await stat(lockFile).catch(() => null)
          if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) {
            await unlink(lockFile).catch(() => undefined)
            continue
          }
          if (Date.now() > deadline) {
            throw new SessionError(
              `file driver: another process has held the lock on a session file for over ${this.#lockTimeout} ms. If no process is writing, remove stale *.lock files from the session folder.`,
              { code: 'E_SESSION_LOCK_TIMEOUT' },
            )
          }
          await sleep(Math.min(2 + attempt * 2, 25))
        }
      }
      try {
        return await work()
      } finally {
        await unlink(lockFile).catch(() => undefined)
      }
    })
  }

  // --- lock: a lease per key shared by every process on the folder (atomic security state) ---

  /** Mutual exclusion per key across every process sharing the folder: see {@link Leases}. */
  lock(key: string, ttl: number): Promise<Unlock> {
    this.#leases ??= new Leases(FILE_DRIVER, fileLeases(this.#dir), this.#lockTimeout)
    return this.#leases.lock(key, ttl)
  }
}

/** Creates a file driver storing sessions under `options.path`. */
export function fileDriver(options: FileDriverOptions): FileDriver {
  return new FileDriver(options)
}

export default fileDriver
