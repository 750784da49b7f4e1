import type { ResolvedConfig } from '../config/resolve.js'
import { supports, type SessionDriver } from '../drivers/contract.js'
import { SessionConfigError } from '../lib/errors.js'

/**
 * The security features whose check-then-write steps must be atomic hold the driver's `lock`
 * capability while they run: the `rateLimit.create` bucket and remember-me tokens (in the security
 * store) and `maxSessionsPerUser` (in every driver with a per-user index). A driver without `lock`
 * cannot give that guarantee, so a configuration that needs it is refused with this error.
 */
export function lockMissing(driver: string, feature: string): SessionConfigError {
  return new SessionConfigError(
    `${feature} needs a driver that can lock (the optional "lock" capability), so that parallel requests cannot pass it together; the "${driver}" driver has none. Use a built-in driver (memory, file, redis, sqlite, postgres) for it, or implement lock(key, ttl) in your driver (docs/core.md, "Custom drivers").`,
  )
}

/** The name of the driver that keeps security state. */
export function securityStoreName(config: ResolvedConfig): string {
  return config.security.securityStore ?? config.defaultDriver
}

/**
 * Refuses a driver that lacks `lock` when the configuration needs it from that driver: called
 * at construction for driver instances, and when a driver made by a factory is first built.
 */
export function checkLockRequirements(config: ResolvedConfig, name: string, driver: SessionDriver): void {
  if (supports(driver, 'lock')) return
  const label = driver.name ?? name
  if (config.security.createLimit && name === securityStoreName(config) && !supports(driver, 'forRequest')) {
    throw lockMissing(label, 'rateLimit.create')
  }
  const perUser = supports(driver, 'listByUser') && supports(driver, 'destroyByUser')
  if (config.security.sessionLimit && perUser) throw lockMissing(label, 'maxSessionsPerUser')
}
