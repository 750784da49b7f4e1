import { setImmediate as yieldToEventLoop } from 'node:timers/promises'

/** Expired rows deleted per statement by gc: long enough to be efficient, short enough to never hold locks for long. */
export const GC_BATCH_SIZE = 5_000

/** One gc batch: how many expired rows one statement deleted, and how long it (and its locks) took. */
export interface GcBatch {
  rows: number
  ms: number
}

export interface GcBatchOptions {
  /** Rows deleted per statement. Default 5,000. */
  batchSize?: number
  /** Called after each batch, e.g. to measure the longest lock time. */
  onBatch?: (batch: GcBatch) => void
}

/**
 * The gc loop of the SQL drivers: deletes rows that expired before now `batchSize` at a time,
 * each batch its own short statement, yielding to the event loop in between so requests are
 * served meanwhile. Returns how many rows were deleted.
 *
 * @param deleteBatch deletes up to `limit` rows that expired at or before `now`; returns how many
 */
export async function deleteExpiredInBatches(
  deleteBatch: (now: number, limit: number) => number | Promise<number>,
  options: GcBatchOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? GC_BATCH_SIZE
  const now = Date.now()
  let total = 0
  for (;;) {
    const started = performance.now()
    const rows = await deleteBatch(now, batchSize)
    options.onBatch?.({ rows, ms: performance.now() - started })
    total += rows
    if (rows < batchSize) return total
    await yieldToEventLoop()
  }
}
