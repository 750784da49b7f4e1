import type { SessionSummary } from '../contract.js'
import { parseDevice } from '../record.js'
import type { RedisClient } from './connect.js'
import { FIELD, type KeySpace } from './layout.js'
import { Script } from './scripts.js'

/**
 * The per-user index: one sorted set per user, member = session key, score = an expiry the
 * session had when the entry was written (a lower bound of its real expiry: touches extend the
 * hash, not the score).
 *
 * The index and the session hash live in different Cluster slots, so no script can touch both.
 * The protocol that keeps a live session from ever losing its entry:
 *
 * - Writers add (or re-score) the entry BEFORE they write the hash that names the user, with a
 *   score in the future (the new expiry). A crash in between leaves a ghost entry, hidden when
 *   listed and pruned once its score has passed; never an unlisted session.
 * - A reader that finds an entry without a matching live hash may be looking at a login whose hash
 *   is not written yet. It hides the entry but removes it only through {@link PRUNE}, a script on
 *   the index key alone that re-checks the entry's score atomically: an entry re-scored by a writer
 *   since it was read (its score is now in the future, or above what was read) is kept.
 */

/**
 * Conditional maintenance of one user index. ARGV: triples (op, member, bound):
 *   r: remove member if its score is <= bound · x: raise member's score to bound (never lowers it)
 * A member that is absent is left absent. Returns the number removed.
 */
const PRUNE = `
local key = KEYS[1]
local removed = 0
for i = 1, #ARGV, 3 do
  local op, member, bound = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local score = redis.call('ZSCORE', key, member)
  if score then
    score = tonumber(score)
    if op == 'r' and score <= bound then
      removed = removed + redis.call('ZREM', key, member)
    elseif op == 'x' and score < bound then
      redis.call('ZADD', key, bound, member)
    end
  end
end
return removed
`

export const PRUNE_SCRIPT = new Script(PRUNE)

/** Runs a script on one key (EVALSHA with EVAL fallback), as the driver does. */
export type RunScript = (script: Script, redisKey: string, args: readonly string[]) => Promise<unknown>

/** What an index entry's session hash says about it, read with HMGET. */
type Row = (string | null)[]

const SUMMARY_FIELDS = [FIELD.userId, FIELD.createdAt, FIELD.lastSeenAt, FIELD.expiresAt, FIELD.device] as const

/** Index maintenance and the per-user queries of the Redis driver. */
export class UserIndex {
  constructor(
    private readonly keys: KeySpace,
    private readonly client: () => Promise<RedisClient>,
    private readonly run: RunScript,
  ) {}

  /** Adds (or re-scores) the entry; call BEFORE writing a hash that names the user. */
  async add(userId: string, key: string, expiresAt: number): Promise<void> {
    const client = await this.client()
    await client.zadd(this.keys.userIndex(userId), expiresAt, key)
  }

  /** Removes the entry; call AFTER the hash no longer names the user, and only when no one can bind it again (a deleted hash). */
  async remove(userId: string, key: string): Promise<void> {
    const client = await this.client()
    await client.zrem(this.keys.userIndex(userId), key)
  }

  /**
   * After a script moved a session from `previous` to `current` (either may be ''): removes the
   * entry of `previous`, then both sides re-check the hash, so two bindings racing on one session
   * cannot lose the entry of the user it ends with. Each side writes its index first and reads the
   * hash after; whichever check runs last sees the final owner:
   * - the unbinder removes `previous`'s entry, then re-adds it if the hash names `previous` again;
   * - the binder checks its entry is still there after its script ran, and re-adds it if not.
   */
  async moved(key: string, previous: string, current: string): Promise<void> {
    const client = await this.client()
    const restore = async (userId: string): Promise<void> => {
      const [owner, expiresAt] = await client.hmget(this.keys.session(key), FIELD.userId, FIELD.expiresAt)
      if (owner === userId && Number(expiresAt) > Date.now()) await client.zadd(this.keys.userIndex(userId), Number(expiresAt), key)
    }
    await Promise.all([
      previous === '' ? undefined : client.zrem(this.keys.userIndex(previous), key).then(() => restore(previous)),
      current === ''
        ? undefined
        : client.zscore(this.keys.userIndex(current), key).then((score) => (score === null ? restore(current) : undefined)),
    ])
  }

  async list(userId: string): Promise<SessionSummary[]> {
    const client = await this.client()
    const index = this.keys.userIndex(userId)
    const entries = pairs(await client.zrange(index, 0, -1, 'WITHSCORES'))
    const rows = (await Promise.all(entries.map(([key]) => client.hmget(this.keys.session(key), ...SUMMARY_FIELDS)))) as Row[]
    const now = Date.now()
    const summaries: SessionSummary[] = []
    const ops: string[] = []
    entries.forEach(([key, score], i) => {
      const [owner, createdAt, lastSeenAt, expiresAt, device] = rows[i] as Row
      const state = classify(rows[i] as Row, owner === userId, now)
      if (state === 'stale' && score <= now) ops.push('r', key, String(now))
      if (state !== 'live') return
      if (score <= now) ops.push('x', key, String(expiresAt))
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
    await this.#prune(index, ops)
    return summaries
  }

  /**
   * Deletes every session of the user (but `except`), each with a script that checks the owner.
   * An entry is dropped only when its session was deleted here and no writer re-scored it since
   * (or, as in `list`, when it is stale): a login written meanwhile stays listed, so the next
   * revocation reaches it.
   */
  async destroyAll(userId: string, except: ReadonlySet<string>, destroy: Script): Promise<number> {
    const client = await this.client()
    const index = this.keys.userIndex(userId)
    const entries = pairs(await client.zrange(index, 0, -1, 'WITHSCORES')).filter(([key]) => !except.has(key))
    const replies = (await Promise.all(entries.map(([key]) => this.run(destroy, this.keys.session(key), [userId])))) as [number, string][]
    const now = Date.now()
    const ops: string[] = []
    let deleted = 0
    entries.forEach(([key, score], i) => {
      const [gone] = replies[i] as [number, string]
      deleted += gone
      if (gone === 1) ops.push('r', key, String(score))
      else if (score <= now) ops.push('r', key, String(now))
    })
    await this.#prune(index, ops)
    return deleted
  }

  /** gc of one index: drops stale entries whose score has passed, re-scores live ones. */
  async prune(index: string, now: number): Promise<void> {
    const client = await this.client()
    const due = pairs(await client.zrangebyscore(index, '-inf', now, 'WITHSCORES'))
    if (due.length === 0) return
    const rows = (await Promise.all(due.map(([key]) => client.hmget(this.keys.session(key), FIELD.userId, FIELD.expiresAt)))) as Row[]
    const ops: string[] = []
    due.forEach(([key], i) => {
      const [owner, expiresAt] = rows[i] as Row
      const state = classify(rows[i] as Row, owner != null && this.keys.userIndex(owner) === index, now, 1)
      if (state === 'stale') ops.push('r', key, String(now))
      else if (state === 'live') ops.push('x', key, String(expiresAt))
    })
    await this.#prune(index, ops)
  }

  async #prune(index: string, ops: readonly string[]): Promise<void> {
    // Slices keep each script call's argument list small.
    for (let i = 0; i < ops.length; i += 300) await this.run(PRUNE_SCRIPT, index, ops.slice(i, i + 300))
  }
}

/**
 * live: the hash names this user and has not expired. stale: there is no hash, or it names another
 * user (or none); removable once the entry's score has passed (checked in PRUNE). expiring: the
 * hash names the user but its expiry passed: hidden, and left to Redis's own expiry (a concurrent
 * patch may still extend it), after which it is stale.
 */
function classify(row: Row, owned: boolean, now: number, expiresAtColumn = 3): 'live' | 'stale' | 'expiring' {
  if (row.every((value) => value === null)) return 'stale'
  if (!owned) return 'stale'
  return Number(row[expiresAtColumn]) > now ? 'live' : 'expiring'
}

/** A flat WITHSCORES reply as [member, score] pairs. */
function pairs(flat: readonly string[]): [string, number][] {
  const out: [string, number][] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, Number(flat[i + 1])])
  return out
}
