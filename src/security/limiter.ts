import { numberField, readState, stateKey, withStateLock, writeState } from './state.js'
import type { GuardedStore } from '../session/store.js'

export interface BucketRule {
  points: number
  durationMs: number
}

/**
 * A token bucket per subject, kept in a driver so every process that shares the store shares
 * the limit. The bucket holds `points` tokens and refills evenly over `durationMs`; an expired
 * record is a full bucket, so the record lives no longer than one full refill.
 */
export class TokenBucket {
  readonly #rule: BucketRule
  readonly #kind: string

  constructor(rule: BucketRule, kind: string) {
    this.#rule = rule
    this.#kind = kind
  }

  /**
   * Takes one token for `subject`. Returns 0 when allowed, otherwise the whole seconds until a
   * token is available (for `Retry-After`). A refused attempt takes nothing.
   */
  async take(store: GuardedStore, subject: string): Promise<number> {
    const key = stateKey(`rate:${this.#kind}`, subject)
    const { points, durationMs } = this.#rule
    const perMs = points / durationMs
    return withStateLock(store, key, async () => {
      const now = Date.now()
      const state = await readState(store, key)
      const last = Math.min(numberField(state, 'at', now), now)
      const tokens = Math.min(points, numberField(state, 'tokens', points) + (now - last) * perMs)
      if (tokens < 1) return Math.max(1, Math.ceil((1 - tokens) / perMs / 1000))
      await writeState(store, key, { tokens: String(tokens - 1), at: String(now) }, durationMs)
      return 0
    })
  }
}
