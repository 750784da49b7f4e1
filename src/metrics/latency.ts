import type { StoreOperation } from '../session/store.js'

/** Latency of one kind of store call, in milliseconds, since the manager was created. */
export interface LatencyStats {
  calls: number
  errors: number
  timeouts: number
  /** Percentiles read from a log-scale histogram: each is an upper bound, at most 9% above the true value. */
  p50Ms: number
  p95Ms: number
  p99Ms: number
  maxMs: number
}

/** Store latency of one driver: all calls together, and per operation (read, write, patch, …). */
export interface DriverMetrics extends LatencyStats {
  operations: Partial<Record<StoreOperation, LatencyStats>>
}

const OPERATIONS: readonly StoreOperation[] = [
  'read',
  'write',
  'destroy',
  'touch',
  'patch',
  'gc',
  'listByUser',
  'destroyByUser',
  'lock',
  'close',
]
const OPERATION_INDEX = Object.fromEntries(OPERATIONS.map((op, index) => [op, index])) as Record<StoreOperation, number>

/** Histogram resolution: 8 buckets per doubling from 1 µs to about 4.5 minutes. */
const PER_OCTAVE = 8
const BUCKETS = PER_OCTAVE * 28

/** A fixed-size log-scale latency histogram: recording is one array increment, no allocation. */
class Histogram {
  readonly counts = new Uint32Array(BUCKETS)
  calls = 0
  errors = 0
  timeouts = 0
  maxMs = 0

  record(durationMs: number, outcome: 'ok' | 'error' | 'timeout'): void {
    const micros = durationMs * 1000
    const index = micros <= 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(micros) * PER_OCTAVE))
    this.counts[index] = (this.counts[index] as number) + 1
    this.calls++
    if (outcome === 'error') this.errors++
    else if (outcome === 'timeout') this.timeouts++
    if (durationMs > this.maxMs) this.maxMs = durationMs
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number)
    this.calls += other.calls
    this.errors += other.errors
    this.timeouts += other.timeouts
    this.maxMs = Math.max(this.maxMs, other.maxMs)
  }

  /** The upper bound of the bucket holding the q-quantile, capped at the largest value seen. */
  quantile(q: number): number {
    if (this.calls === 0) return 0
    const rank = Math.ceil(q * this.calls)
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number
      if (seen >= rank) return Math.min(this.maxMs, 2 ** ((i + 1) / PER_OCTAVE) / 1000)
    }
    return this.maxMs
  }

  stats(): LatencyStats {
    const round = (ms: number): number => Math.round(ms * 1000) / 1000
    return {
      calls: this.calls,
      errors: this.errors,
      timeouts: this.timeouts,
      p50Ms: round(this.quantile(0.5)),
      p95Ms: round(this.quantile(0.95)),
      p99Ms: round(this.quantile(0.99)),
      maxMs: round(this.maxMs),
    }
  }
}

/** Store-call latency per driver name and operation. */
export class StoreLatency {
  readonly #drivers = new Map<string, Histogram[]>()

  record(driver: string, operation: StoreOperation, durationMs: number, outcome: 'ok' | 'error' | 'timeout'): void {
    let histograms = this.#drivers.get(driver)
    if (!histograms) {
      histograms = OPERATIONS.map(() => new Histogram())
      this.#drivers.set(driver, histograms)
    }
    ;(histograms[OPERATION_INDEX[operation]] as Histogram).record(durationMs, outcome)
  }

  /** Each driver's calls together and per operation (operations never called are left out). */
  snapshot(): Record<string, DriverMetrics> {
    const drivers: Record<string, DriverMetrics> = {}
    for (const [name, histograms] of this.#drivers) {
      const all = new Histogram()
      const operations: Partial<Record<StoreOperation, LatencyStats>> = {}
      histograms.forEach((histogram, index) => {
        if (histogram.calls === 0) return
        all.merge(histogram)
        operations[OPERATIONS[index] as StoreOperation] = histogram.stats()
      })
      drivers[name] = { ...all.stats(), operations }
    }
    return drivers
  }
}
