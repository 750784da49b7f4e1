import type { Change, DeviceInfo } from '../contract.js'

/** The net effect of a change log made only of operations SQL can apply without decoding values. */
export interface FoldedChanges {
  /** Start from an empty map instead of the stored data. */
  cleared: boolean
  /** Keys removed from the stored data (before `sets` are merged in). */
  deletes: Set<string>
  /** Keys set to encoded values; null-prototype, so `__proto__` is a plain key. */
  sets: Record<string, string>
  flash?: { value: string | null }
  user?: { userId: string | null; device?: DeviceInfo }
}

/**
 * Folds a change log into "clear?, delete these, then set those" — equivalent to applying it in
 * order, because set/delete/clear only ever replace whole values. Returns null when the log holds
 * an increment or push: those need the stored value decoded, which only the codec can do.
 */
export function foldChanges(changes: readonly Change[]): FoldedChanges | null {
  const folded: FoldedChanges = { cleared: false, deletes: new Set(), sets: Object.create(null) as Record<string, string> }
  for (const change of changes) {
    switch (change.op) {
      case 'set':
        folded.sets[change.key] = change.value
        folded.deletes.delete(change.key)
        break
      case 'delete':
        delete folded.sets[change.key]
        folded.deletes.add(change.key)
        break
      case 'clear':
        folded.cleared = true
        folded.deletes.clear()
        folded.sets = Object.create(null) as Record<string, string>
        break
      case 'flash':
        folded.flash = { value: change.value }
        break
      case 'user':
        folded.user = {
          userId: change.userId,
          ...(change.device ? { device: { ...change.device } } : folded.user?.device ? { device: folded.user.device } : {}),
        }
        break
      case 'increment':
      case 'push':
        return null
    }
  }
  return folded
}
