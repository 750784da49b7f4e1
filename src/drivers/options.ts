import { SessionConfigError } from '../lib/errors.js'
import { rejectUnknownOptions } from '../lib/options.js'

/** A driver's option names, as a set the unknown-option check reads. */
export type OptionNames<Options> = Readonly<Record<keyof Options, true>>

/**
 * The option names of a built-in driver (src/drivers/option-names.ts) as the driver's check reads
 * them: `exactOptionNames<RedisDriverOptions>()(BUILTIN_OPTION_NAMES.redis)`. The call does not
 * compile when the list and the options type drift apart (a name missing or extra).
 */
export function exactOptionNames<Options>() {
  return <const Names extends readonly (keyof Options & string)[]>(
    names: Names & ([Exclude<keyof Options, Names[number]>] extends [never] ? unknown : { missing: Exclude<keyof Options, Names[number]> }),
  ): OptionNames<Options> => Object.fromEntries(names.map((name) => [name, true])) as OptionNames<Options>
}

/**
 * Checks a driver's options: an object whose every key the driver reads. A misspelled option
 * would otherwise be ignored and its default would silently apply, so this throws a
 * `SessionConfigError` naming the closest known option.
 */
export function checkOptions<Options extends object>(driver: string, options: Options | undefined, names: OptionNames<Options>): Options {
  if (options === undefined) return {} as Options
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SessionConfigError(`${driver} driver: options must be an object, got ${options === null ? 'null' : typeof options}.`)
  }
  rejectUnknownOptions(options, Object.keys(names), `${driver} driver`)
  return options
}
