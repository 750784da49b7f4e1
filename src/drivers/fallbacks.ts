import { applyChanges } from './apply.js'
import { supports, type Change, type PatchOptions, type PatchResult, type SessionDriver, type StoredRecord } from './contract.js'
import { cloneRecord } from './record.js'

/*
 * The optional members of the driver contract, filled in from the required ones. The core calls
 * these instead of the driver's methods, so a driver that lacks a capability still works.
 */

/**
 * The live record under `key`. The built-in drivers never return an expired record; a custom
 * driver that does not filter by expiry (the custom drivers of docs/seeds.md do not) still never
 * has an expired session adopted.
 */
export async function readRecord(driver: SessionDriver, key: string): Promise<StoredRecord | null> {
  const record = await driver.read(key)
  return record !== null && record !== undefined && record.meta?.expiresAt > Date.now() ? record : null
}

/** Extends a record's life: the driver's `touch`, or a read and a rewrite with the new expiry. */
export async function touchRecord(driver: SessionDriver, key: string, ttl: number): Promise<void> {
  if (supports(driver, 'touch')) return driver.touch(key, ttl)
  const record = await readRecord(driver, key)
  if (!record) return
  const touched = cloneRecord(record)
  touched.meta.lastSeenAt = Date.now()
  touched.meta.expiresAt = touched.meta.lastSeenAt + ttl
  await driver.write(key, touched, ttl)
}

/**
 * Applies a change log: the driver's atomic `patch`, or read → apply → write. The fallback applies
 * to a copy, so a change that throws (increment of a string) leaves a driver's stored object intact.
 */
export async function patchRecord(
  driver: SessionDriver,
  key: string,
  changes: readonly Change[],
  options: PatchOptions,
): Promise<PatchResult> {
  if (supports(driver, 'patch')) return driver.patch(key, changes, options)
  const record = await readRecord(driver, key)
  if (!record) return 'missing'
  await driver.write(key, applyChanges(cloneRecord(record), changes, options.codec, options.ttl), options.ttl)
  return 'applied'
}

/**
 * Moves a session to a new key only if the old key still holds a live record: the driver's
 * `rename`, or write the new key → read the old one → undo the write when the old record is gone
 * (a logout that completed meanwhile wins), else remove the old key. Without a native rename, a
 * destroy of the old key that lands after the check leaves the new key alive: the regenerate
 * finished first.
 */
export async function renameRecord(
  driver: SessionDriver,
  fromKey: string,
  toKey: string,
  record: StoredRecord,
  ttl: number,
): Promise<boolean> {
  if (supports(driver, 'rename')) return driver.rename(fromKey, toKey, record, ttl)
  await driver.write(toKey, record, ttl)
  if (!(await readRecord(driver, fromKey))) {
    await driver.destroy(toKey)
    return false
  }
  await driver.destroy(fromKey)
  return true
}

/** Removes expired records: the driver's `gc`, or nothing for a driver that expires records itself. */
export async function collectExpired(driver: SessionDriver): Promise<number | void> {
  if (supports(driver, 'gc')) return driver.gc()
  return 0
}
