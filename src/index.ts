/**
 * Tessera: session management for Node.js web applications.
 * Core entry point; framework adapters live at `tessera/express`, `tessera/fastify`, …
 */
export { createSession } from './manager/manager.js'
// The manager with HTTP entry points (middleware(), readonlySession()); core stays HTTP-free.
export { SessionManager } from './session-manager.js'
export type { OpenOptions, SessionClass, SessionManagerOptions } from './manager/manager.js'
export { Session } from './session/session.js'
// The seed aliases (docs/seeds.md): installed on load; SessionStore is seed 001's name of Session.
import './aliases.js'
export { SessionStore } from './aliases.js'
export type { ArrayKeys, NumericKeys, SessionContext, SessionData, SessionInit } from './session/session.js'
export { defineConfig, resolveConfig, MAX_COOKIE_AGE_MS } from './config/resolve.js'
export type {
  CookieConfig,
  EncryptionConfig,
  ResolvedConfig,
  ResolvedCookie,
  SameSite,
  SessionConfig,
  StandardSchemaResult,
  StandardSchemaV1,
} from './config/resolve.js'
export { SessionEvents, SessionEventEmitter } from './session/events.js'
export { MetricsCollector } from './metrics/collector.js'
export type { DriverMetrics, LatencyStats, MetricsOptions, MetricsSample, SessionMetrics } from './metrics/collector.js'
export type { StoreObserver, StoreOperation } from './session/store.js'
export type { SessionEventMap, SessionEventName } from './session/events.js'
export { FlashMessages } from './session/flash.js'
export { SessionCodec } from './session/codec.js'
export { typedJsonSerializer } from './session/serializer.js'
export type { Serializer } from './session/serializer.js'
export { GuardedStore } from './session/store.js'
export { supports } from './drivers/contract.js'
export type {
  Change,
  CookieJar,
  DeviceInfo,
  DriverCapability,
  PatchOptions,
  PatchResult,
  RecordMeta,
  SessionDriver,
  SessionSummary,
  StoredRecord,
  Unlock,
  ValueCodec,
} from './drivers/contract.js'
export { applyChanges } from './drivers/apply.js'
export { parseRecord, toStoredRecord } from './drivers/record.js'
export type { DriverConfig, DriverFactory } from './drivers/registry.js'
export { MemoryDriver, memoryDriver } from './drivers/memory.js'
export type { MemoryDriverOptions } from './drivers/memory.js'
export { FileDriver, fileDriver } from './drivers/file.js'
export type { FileDriverOptions } from './drivers/file.js'
export { Keyring, safeEqual } from './lib/crypto.js'
export type { KeyMaterial } from './lib/crypto.js'
export { parseDuration } from './lib/durations.js'
export type { Duration } from './lib/durations.js'
export { generateSessionId, isWellFormedSessionId } from './lib/ids.js'
export {
  MissingClientError,
  SessionConfigError,
  SessionConflictError,
  SessionCookieTooLargeError,
  SessionError,
  SessionNotStartedError,
  SessionReadonlyError,
  SessionSerializationError,
  SessionStoreError,
  SessionTypeError,
} from './lib/errors.js'
// Security (src/security): CSRF, remember-me, binding, creation rate limit; per-user sessions (src/users).
export { verifyCsrf, resolveCsrfOptions, issueDoubleSubmitToken, isSignedDoubleSubmitToken } from './security/csrf.js'
export { csrf } from './http/csrf.js'
export type { CsrfOptions, CsrfRequest, CsrfSession, ResolvedCsrfOptions } from './security/csrf.js'
export { RememberMe, rememberMe } from './security/remember-me.js'
export type { IssuedRememberToken, RememberMeHost, RememberMeResult } from './security/remember-me.js'
export { bindSession, clientIp, enforceBinding, normalizeIp, subnetOf, BINDING_SESSION_KEY } from './security/binding.js'
export type { BindingResult, ClientFacts } from './security/binding.js'
export { limitSessionCreation } from './security/rate-limit.js'
export { clientFactsOf, securityHooks } from './http/security-hooks.js'
export type { SecurityHost } from './http/security-hooks.js'
export { CSRF_SESSION_KEY } from './session/session.js'
export type { SessionGuards } from './session/session.js'
export type { CreateSessionOptions, RevokeAllOptions, UserSession, UserSessions } from './users/users.js'
export type { ListedSession } from './users/listing.js'
export type {
  BindingConfig,
  RateLimitConfig,
  RateLimitRule,
  RememberMeConfig,
  ResolvedSecurity,
  SecurityConfig,
  SessionLimitConfig,
} from './config/security.js'
export { CsrfError, RateLimitError, SessionLimitError } from './lib/errors.js'
