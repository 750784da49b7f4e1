import { MissingClientError } from '../lib/errors.js'

/** What a driver needs from npm, declared as data so a test can check it against package.json. */
export interface ClientRequirement {
  /** Driver name, e.g. `redis`. */
  driver: string
  /** npm package of the client, e.g. `ioredis`. */
  package: string
  /** Supported version range, e.g. `^5.0.0`. */
  range: string
}

/**
 * Loads a driver's optional client package on first use. An injected module wins (tests, apps
 * that bundle their own copy); a missing package becomes an error that says what to install.
 */
export async function importClient<T>(requirement: ClientRequirement, injected?: T): Promise<T> {
  if (injected !== undefined) return injected
  try {
    return (await import(requirement.package)) as T
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingClientError(requirement.driver, requirement.package, requirement.range, error)
    }
    throw error
  }
}
