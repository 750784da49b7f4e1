import { SessionConfigError } from './errors.js'

/**
 * Rejects option objects with keys nobody reads. A misspelled option (`lifeTime`, `idelTimeout`)
 * would otherwise be ignored and the default would silently apply, so the error names the
 * closest known key.
 *
 * @param where how the object is named in the message, e.g. `session config` or `drivers.redis`
 */
export function rejectUnknownOptions(options: object, known: Iterable<string>, where: string): void {
  const knownKeys = [...known]
  for (const key of Object.keys(options)) {
    if (knownKeys.includes(key)) continue
    const closest = closestKey(key, knownKeys)
    const hint = closest === undefined ? '' : ` Did you mean "${closest}"?`
    throw new SessionConfigError(`${where}: unknown option "${key}".${hint} Known options: ${knownKeys.join(', ')}.`)
  }
}

/** The known key nearest to `key` (case-insensitive edit distance), if any is near enough to be a typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = key.toLowerCase()
  let best: { key: string; distance: number } | undefined
  for (const candidate of known) {
    const lower = candidate.toLowerCase()
    // A shortened name (`maxSesions` for `maxSessionsPerUser`) is near the known key's prefix.
    const prefix = lower.length > wanted.length ? editDistance(wanted, lower.slice(0, wanted.length)) + 1 : Infinity
    const distance = Math.min(editDistance(wanted, lower), prefix)
    if (best === undefined || distance < best.distance) best = { key: candidate, distance }
  }
  const tolerance = Math.max(2, Math.floor(wanted.length / 3))
  return best !== undefined && best.distance <= tolerance ? best.key : undefined
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)])
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i]!
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1)
    }
  }
  return rows[a.length]![b.length]!
}
