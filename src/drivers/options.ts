import { SessionConfigError } from '../lib/errors.js'
import { rejectUnknownOptions } from '../lib/options.js'

/**
 * A driver's option names, declared once beside its options type as `{ name: true, … }
 * satisfies OptionNames<Options>`: the compiler keeps the two in step (a missing or extra name is
 * a type error), and the runtime check is derived from it.
 */
export type OptionNames<Options> = Readonly<Record<keyof Options, true>>

/**
 * Old option names still accepted, each with the canonical name it stands for (the alias table in
 * docs/seeds.md lists them). Resolved before the unknown-option check.
 */
export type OptionAliases<Options> = Readonly<Record<string, keyof Options>>

/**
 * Checks a driver's options: an object whose every key the driver reads. A misspelled option
 * would otherwise be ignored and its default would silently apply, so this throws a
 * `SessionConfigError` naming the closest known option. Aliases are moved to their canonical name.
 */
export function checkOptions<Options extends object>(
  driver: string,
  options: Options | undefined,
  names: OptionNames<Options>,
  aliases: OptionAliases<Options> = {},
): Options {
  if (options === undefined) return {} as Options
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SessionConfigError(`${driver} driver: options must be an object, got ${options === null ? 'null' : typeof options}.`)
  }
  let resolved = options
  for (const [alias, canonical] of Object.entries(aliases)) {
    if (!Object.hasOwn(resolved, alias)) continue
    if (Object.hasOwn(resolved, canonical)) {
      throw new SessionConfigError(`${driver} driver: "${alias}" is another name for "${String(canonical)}"; give only one of them.`)
    }
    const { [alias]: value, ...rest } = resolved as Record<string, unknown>
    resolved = { ...rest, [canonical]: value } as Options
  }
  rejectUnknownOptions(resolved, Object.keys(names), `${driver} driver`)
  return resolved
}
