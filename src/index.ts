/**
 * `tessera`: what an app calls. Framework adapters live at `tessera/express`, `tessera/fastify`,
 * `tessera/hono`, `tessera/koa`, `tessera/node` and `tessera/fetch`; drivers at
 * `tessera/drivers/<name>`; driver-author helpers at `tessera/driver` and `tessera/testing`.
 *
 * Loading this module installs the seed aliases (docs/seeds.md), among them
 * `manager.middleware()`, which brings in the connect-style adapter: the root is not HTTP-free.
 */
export { createSession, SessionStore } from './aliases.js'
export { SessionManager } from './manager/manager.js'
export type { OpenOptions, SessionClass, SessionManagerOptions } from './manager/manager.js'
export { Session } from './session/session.js'
export type { ArrayKeys, NumericKeys, SessionData, StartOptions } from './session/session.js'
export type { SessionAuth } from './session/auth.js'
export type { SessionStatus } from './session/status.js'
export type { FlashMessages } from './session/flash.js'
export { SessionEvents } from './session/events.js'
export type { SessionEventMap, SessionEventName } from './session/events.js'
export { typedJsonSerializer } from './lib/serializer.js'
export type { Serializer } from './lib/serializer.js'
export { defineConfig } from './config/resolve.js'
export type { SessionConfig } from './config/resolve.js'
export type { CookieConfig } from './config/cookie.js'
export type { EncryptionConfig, StandardSchemaResult, StandardSchemaV1 } from './config/options.js'
export type {
  BindingConfig,
  RateLimitConfig,
  RateLimitRule,
  RememberMeConfig,
  SecurityConfig,
  SessionLimitConfig,
} from './config/security.js'
export type { Duration } from './lib/durations.js'
export type { KeyMaterial } from './lib/crypto.js'
export type { DeviceInfo, SessionDriver } from './drivers/contract.js'
export type { CreateSessionOptions, RevokeAllOptions, UserSession, UserSessions } from './users/users.js'
export type { ListedSession } from './users/listing.js'
export type { DriverMetrics, LatencyStats, MetricsOptions, MetricsSample, SessionMetrics } from './metrics/collector.js'
export { verifyCsrf } from './security/csrf.js'
export type { CsrfOptions, CsrfRequest } from './security/csrf.js'
export { RememberMe, rememberMe } from './security/remember-me.js'
export type { IssuedRememberToken, RememberMeResult } from './security/remember-me.js'
/** Every error Tessera throws, by class: `error instanceof errors.SessionStoreError`. Codes are listed in docs/core.md. */
export * as errors from './lib/errors.js'
