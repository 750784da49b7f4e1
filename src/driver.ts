/**
 * `tessera/driver`: what a custom driver needs beyond its own code. The contract, the capability
 * check, the stored record's helpers and the change-log applier the built-in drivers use. Run the
 * conformance suite from `tessera/testing`.
 */
export { isSessionDriver, supports } from './drivers/contract.js'
export type {
  Change,
  CookieJar,
  DeviceInfo,
  DriverCapability,
  DriverContext,
  PatchOptions,
  PatchResult,
  RecordMeta,
  SessionDriver,
  SessionSummary,
  StoredRecord,
  Unlock,
  ValueCodec,
} from './drivers/contract.js'
export type { DriverConfig, DriverFactory } from './drivers/registry.js'
export { applyChanges } from './drivers/apply.js'
export { emptyData, parseRecord, toStoredRecord } from './drivers/record.js'
