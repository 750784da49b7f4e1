/**
 * Durations in config accept a number of milliseconds or a string such as `'90s'`, `'30m'`,
 * `'2h'`, `'7d'`, `'1h30m'`, `'500ms'`. Anything else is rejected with a precise message.
 */
export type Duration = number | `${number}${DurationUnit}` | (string & {})
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w'

const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w)\s*)+$/
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g

/**
 * Parses a duration into milliseconds; returns `null` when the input is not a duration.
 * Negative values and NaN are not durations.
 */
export function parseDuration(input: unknown): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : null
  if (typeof input !== 'string') return null
  const text = input.trim().toLowerCase()
  if (text === '') return null
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text)
  if (!WHOLE.test(text)) return null
  let total = 0
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit as DurationUnit]
  return Number.isFinite(total) ? Math.round(total) : null
}
