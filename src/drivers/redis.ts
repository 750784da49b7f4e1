import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionConfigError, SessionConflictError } from '../lib/errors.js'
import { applyChanges } from './apply.js'
import { importClient, type ClientRequirement } from './client.js'
import type { Change, PatchOptions, PatchResult, SessionDriver, SessionSummary, Unlock, ValueCodec } from './contract.js'
import { KeyedMutex } from './mutex.js'
import { BUILTIN_OPTION_NAMES } from './option-names.js'
import { checkOptions, exactOptionNames } from './options.js'
import { parseDevice } from './record.js'
import {
  createClient,
  planClient,
  type ClientPlan,
  type IoredisModule,
  type RedisClient,
  type RedisConnectionSource,
} from './redis/connect.js'
import { decodeFields, encodeFields, FIELD, KeySpace, pairsToMap } from './redis/layout.js'
import { encodeChanges, finalUser, SCRIPTS, type Script } from './redis/scripts.js'

export {
  FAIL_FAST_OPTIONS,
  type IoredisModule,
  type RedisClient,
  type RedisClusterConnection,
  type RedisConnection,
  type RedisConnectionOptions,
} from './redis/connect.js'

export const REDIS_DRIVER = 'redis'

/** The optional client this driver loads on first use; checked against package.json by a test. */
export const REDIS_CLIENT: ClientRequirement = { driver: REDIS_DRIVER, package: 'ioredis', range: '^5.0.0' }

export interface RedisDriverOptions extends RedisConnectionSource {
  /** Prefix of every key the driver writes. Default `tessera:sess:`. Must not contain `{` or `}` (cluster hash tags). */
  prefix?: string
  /** Close a client passed as `connection` on `close()`. Default false: whoever made it closes it. */
  closeClient?: boolean
  /** Longest `lock()` waits for a held lock, in ms. Default 10 000. */
  lockWait?: number
  /** Compare-and-set attempts for changes merged in JavaScript (encrypted increment/push). Default 50. */
  maxConflictRetries?: number
  /** The ioredis module to use instead of importing `ioredis`. */
  ioredis?: IoredisModule
  /** Receives connection errors of a client the driver created (requests see them as `SessionStoreError`s). */
  onError?: (error: Error) => void
}

/** Every option of this driver (declared in option-names.ts); unknown options are rejected against it. */
export const REDIS_OPTION_NAMES = exactOptionNames<RedisDriverOptions>()(BUILTIN_OPTION_NAMES.redis)

const DEFAULT_PREFIX = 'tessera:sess:'

type PatchReply = ['missing'] | ['fallback', string[]] | ['applied', string, string]
type ReplaceReply = ['missing'] | ['conflict', string[]] | ['applied', string]

interface Outcome {
  result: PatchResult
  previousUser: string
  currentUser: string
}

/**
 * Session store on Redis (standalone, Sentinel or Cluster) through ioredis. One hash per session
 * with a native TTL; reads are one HGETALL, writes, patches and touches one EVALSHA. A user index
 * (one sorted set per user) is updated in an extra round trip only when a session's user changes.
 */
export class RedisDriver implements SessionDriver {
  readonly name = REDIS_DRIVER
  readonly keys: KeySpace
  readonly #options: RedisDriverOptions
  readonly #plan: ClientPlan
  readonly #owned: boolean
  readonly #mutex = new KeyedMutex()
  readonly #plainJson = new WeakMap<ValueCodec, boolean>()
  #client: Promise<RedisClient> | undefined
  #connecting: Promise<void> | undefined

  constructor(options: RedisDriverOptions = {}) {
    options = checkOptions(REDIS_DRIVER, options, REDIS_OPTION_NAMES)
    const prefix = options.prefix ?? DEFAULT_PREFIX
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw new SessionConfigError(
        'redis driver: prefix must be a string without "{" or "}" (the driver puts its own hash tags after it), e.g. "myapp:sess:".',
      )
    }
    for (const option of ['lockWait', 'maxConflictRetries'] as const) {
      const value = options[option]
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new SessionConfigError(`redis driver: ${option} must be a positive number, got ${String(value)}.`)
      }
    }
    this.#plan = planClient(options)
    this.#options = { ...options }
    this.keys = new KeySpace(prefix)
    this.#owned = this.#plan.kind !== 'injected' || options.closeClient === true
    if (this.#plan.kind === 'injected') this.#client = Promise.resolve(this.#plan.client)
  }

  /** The ioredis client, connected on first use (created and imported lazily unless injected). */
  async client(): Promise<RedisClient> {
    const client = await (this.#client ??= this.#create())
    if (client.status === 'wait' || client.status === 'end') {
      // Only the very first connection is awaited; later outages fail fast while ioredis reconnects.
      await (this.#connecting ??= client.connect().finally(() => (this.#connecting = undefined)))
    } else if (this.#connecting) {
      // Parallel first calls all wait for that first connection, not only the one that started it.
      await this.#connecting
    }
    return client
  }

  async read(key: string) {
    const client = await this.client()
    return decodeFields(await client.hgetall(this.keys.session(key)))
  }

  async write(key: string, record: Parameters<SessionDriver['write']>[1], ttl: number): Promise<void> {
    const lease = ttlMs(ttl)
    const expiresAt = Date.now() + lease
    const userId = record.meta.userId
    // Index first: a crash in between leaves a ghost index entry (filtered when listed), never an unlisted session.
    if (userId !== undefined) await this.#index(userId, key, expiresAt)
    const previous = await this.#run(SCRIPTS.write, this.keys.session(key), [String(lease), ...encodeFields(record, expiresAt)])
    if (typeof previous === 'string' && previous !== '' && previous !== userId) await this.#unindex(previous, key)
  }

  async destroy(key: string): Promise<void> {
    const [, userId] = (await this.#run(SCRIPTS.destroy, this.keys.session(key), [''])) as [number, string]
    if (userId !== '') await this.#unindex(userId, key)
  }

  async touch(key: string, ttl: number): Promise<void> {
    const lease = ttlMs(ttl)
    const now = Date.now()
    await this.#run(SCRIPTS.touch, this.keys.session(key), [String(now), String(now + lease), String(lease)])
  }

  /** Expiry is native; gc only prunes per-user index entries of sessions that are gone. Returns 0. */
  async gc(): Promise<number> {
    const client = await this.client()
    const nodes = client.isCluster ? (client as import('ioredis').Cluster).nodes('master') : [client as import('ioredis').Redis]
    for (const node of nodes) {
      let cursor = '0'
      do {
        const [next, indexes] = await node.scan(cursor, 'MATCH', this.keys.userIndexPattern(), 'COUNT', 200)
        cursor = next
        for (const index of indexes) await this.#pruneIndex(client, index, Date.now())
      } while (cursor !== '0')
    }
    return 0
  }

  async patch(key: string, changes: readonly Change[], options: PatchOptions): Promise<PatchResult> {
    const lease = ttlMs(options.ttl)
    const bound = finalUser(changes)
    if (bound) await this.#index(bound, key, Date.now() + lease)
    const native = this.#encodesPlainJson(options.codec) && changes.every((c) => c.op !== 'increment' || Number.isSafeInteger(c.by))
    const needsJs = !native && changes.some((c) => c.op === 'increment' || c.op === 'push')
    let outcome: Outcome
    if (needsJs) {
      outcome = await this.#mergeInJs(key, changes, options.codec, lease, null)
    } else {
      const now = Date.now()
      const args = [String(now), String(now + lease), String(lease), native ? '1' : '0', ...encodeChanges(changes)]
      const reply = (await this.#run(SCRIPTS.patch, this.keys.session(key), args)) as PatchReply
      if (reply[0] === 'fallback') outcome = await this.#mergeInJs(key, changes, options.codec, lease, pairsToMap(reply[1]))
      else if (reply[0] === 'applied') outcome = { result: 'applied', previousUser: reply[1], currentUser: reply[2] }
      else outcome = { result: 'missing', previousUser: '', currentUser: '' }
    }
    if (outcome.result === 'missing') {
      if (bound) await this.#unindex(bound, key)
    } else if (outcome.previousUser !== '' && outcome.previousUser !== outcome.currentUser) {
      await this.#unindex(outcome.previousUser, key)
    }
    return outcome.result
  }

  async listByUser(userId: string): Promise<SessionSummary[]> {
    const client = await this.client()
    const index = this.keys.userIndex(userId)
    const members = await client.zrange(index, 0, -1)
    const now = Date.now()
    const rows = await Promise.all(
      members.map((member) =>
        client.hmget(this.keys.session(member), FIELD.userId, FIELD.createdAt, FIELD.lastSeenAt, FIELD.expiresAt, FIELD.device),
      ),
    )
    const summaries: SessionSummary[] = []
    const gone: string[] = []
    members.forEach((key, i) => {
      const [owner, createdAt, lastSeenAt, expiresAt, device] = rows[i] as (string | null)[]
      if (owner !== userId || Number(expiresAt) <= now) {
        gone.push(key)
        return
      }
      const summary: SessionSummary = {
        key,
        userId,
        createdAt: Number(createdAt),
        lastSeenAt: Number(lastSeenAt),
        expiresAt: Number(expiresAt),
      }
      const parsed = device ? parseDevice(device) : undefined
      if (parsed) summary.device = parsed
      summaries.push(summary)
    })
    if (gone.length > 0) await client.zrem(index, ...gone)
    return summaries
  }

  async destroyByUser(userId: string, options: { exceptKeys?: readonly string[] } = {}): Promise<number> {
    const client = await this.client()
    const index = this.keys.userIndex(userId)
    const except = new Set(options.exceptKeys ?? [])
    const targets = (await client.zrange(index, 0, -1)).filter((key) => !except.has(key))
    const replies = await Promise.all(
      targets.map((key) => this.#run(SCRIPTS.destroy, this.keys.session(key), [userId]) as Promise<[number, string]>),
    )
    if (targets.length > 0) await client.zrem(index, ...targets)
    return replies.reduce((sum, [deleted]) => sum + deleted, 0)
  }

  /**
   * A lease on one session: `SET key token NX PX ttl`, released only by its holder (compare and
   * delete). Waiters retry with jittered backoff up to `lockWait` ms, then get a SessionConflictError.
   */
  async lock(key: string, ttl: number): Promise<Unlock> {
    const client = await this.client()
    const lockKey = this.keys.lock(key)
    const token = randomBytes(16).toString('base64url')
    const deadline = Date.now() + (this.#options.lockWait ?? 10_000)
    for (let attempt = 0; ; attempt++) {
      if ((await client.set(lockKey, token, 'PX', ttlMs(ttl), 'NX')) === 'OK') break
      if (Date.now() >= deadline) {
        throw new SessionConflictError(
          'Another request held this session\'s lock for longer than "lockWait"; try again, or raise lockWait.',
        )
      }
      await sleep(Math.min(100, 2 ** attempt) * (0.5 + Math.random() / 2))
    }
    let released = false
    return async () => {
      if (released) return
      released = true
      await this.#run(SCRIPTS.unlock, lockKey, [token])
    }
  }

  async close(): Promise<void> {
    const pending = this.#client
    this.#client = undefined
    if (!pending || !this.#owned) return
    const client = await pending.catch(() => undefined)
    if (!client) return
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect())
    else client.disconnect()
  }

  async #create(): Promise<RedisClient> {
    try {
      const ioredis = await importClient<IoredisModule>(REDIS_CLIENT, this.#options.ioredis)
      const client = createClient(ioredis, this.#plan as Exclude<ClientPlan, { kind: 'injected' }>)
      // ioredis prints unhandled 'error' events; requests already surface failures as SessionStoreError.
      client.on('error', (error: Error) => this.#options.onError?.(error))
      return client
    } catch (error) {
      this.#client = undefined
      throw error
    }
  }

  /** EVALSHA, falling back to EVAL (which caches the script) when the server does not know it yet, e.g. after a restart. */
  async #run(script: Script, redisKey: string, args: readonly string[]): Promise<unknown> {
    const client = await this.client()
    try {
      return await client.evalsha(script.sha, 1, redisKey, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return client.eval(script.source, 1, redisKey, ...args)
    }
  }

  /**
   * Read, apply in JavaScript (through the codec), compare-and-set on the version; retried on
   * conflict. Used when the server cannot do the arithmetic itself: sealed values, floats.
   * Callers in this process queue on a mutex so they do not spend retries on each other.
   */
  #mergeInJs(
    key: string,
    changes: readonly Change[],
    codec: ValueCodec,
    lease: number,
    seen: Record<string, string> | null,
  ): Promise<Outcome> {
    return this.#mutex.run(key, async () => {
      const client = await this.client()
      const redisKey = this.keys.session(key)
      let fields = seen
      const attempts = this.#options.maxConflictRetries ?? 50
      for (let attempt = 0; attempt < attempts; attempt++) {
        fields ??= await client.hgetall(redisKey)
        const record = decodeFields(fields)
        if (!record) return { result: 'missing', previousUser: '', currentUser: '' }
        const next = applyChanges(record, changes, codec, lease)
        const args = [fields[FIELD.version] as string, String(lease), ...encodeFields(next, next.meta.expiresAt)]
        const reply = (await this.#run(SCRIPTS.replaceIfVersion, redisKey, args)) as ReplaceReply
        if (reply[0] === 'missing') return { result: 'missing', previousUser: '', currentUser: '' }
        if (reply[0] === 'applied') return { result: 'applied', previousUser: reply[1], currentUser: next.meta.userId ?? '' }
        fields = pairsToMap(reply[1])
        if (attempt >= 2) await sleep(Math.random() * Math.min(50, 2 ** attempt))
      }
      throw new SessionConflictError(
        `Concurrent requests kept changing this session; its changes could not be merged after ${attempts} attempts. Retry the request, or raise "maxConflictRetries".`,
      )
    })
  }

  /** True when the codec writes numbers and arrays as plain JSON text, so Lua may do increment/push on it. */
  #encodesPlainJson(codec: ValueCodec): boolean {
    let plain = this.#plainJson.get(codec)
    if (plain === undefined) {
      try {
        plain = codec.encode(-12, 'n') === '-12' && codec.encode([1, 'a'], 'n') === '[1,"a"]' && codec.decode('7', 'n') === 7
      } catch {
        plain = false
      }
      this.#plainJson.set(codec, plain)
    }
    return plain
  }

  async #index(userId: string, key: string, expiresAt: number): Promise<void> {
    const client = await this.client()
    await client.zadd(this.keys.userIndex(userId), expiresAt, key)
  }

  async #unindex(userId: string, key: string): Promise<void> {
    const client = await this.client()
    await client.zrem(this.keys.userIndex(userId), key)
  }

  /** Drops index entries whose last known expiry has passed and whose session is gone; refreshes the rest. */
  async #pruneIndex(client: RedisClient, index: string, now: number): Promise<void> {
    const due = await client.zrangebyscore(index, '-inf', now)
    if (due.length === 0) return
    const rows = await Promise.all(due.map((key) => client.hmget(this.keys.session(key), FIELD.userId, FIELD.expiresAt)))
    const gone: string[] = []
    const refreshed: (string | number)[] = []
    due.forEach((key, i) => {
      const [owner, expiresAt] = rows[i] as (string | null)[]
      if (owner === null || owner === undefined || Number(expiresAt) <= now || this.keys.userIndex(owner) !== index) gone.push(key)
      else refreshed.push(Number(expiresAt), key)
    })
    if (gone.length > 0) await client.zrem(index, ...gone)
    if (refreshed.length > 0) await client.zadd(index, 'XX', ...refreshed)
  }
}

/** PEXPIRE needs a positive integer. */
function ttlMs(ttl: number): number {
  return Math.max(1, Math.ceil(ttl))
}

/** Creates a Redis session driver. ioredis is imported on first use unless a client is passed as `connection`. */
export function redisDriver(options: RedisDriverOptions = {}): RedisDriver {
  return new RedisDriver(options)
}

export default redisDriver
