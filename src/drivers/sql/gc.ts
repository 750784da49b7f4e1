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
