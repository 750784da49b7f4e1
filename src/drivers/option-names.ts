/**
 * Every option of each built-in driver, declared once. Each driver module holds its list to its
 * options type (`exactOptionNames`: a missing or extra name is a compile error) and rejects
 * unknown keys with it; the config checks a manager's driver entries against the same list at
 * construction, without loading the driver module.
 */
export const BUILTIN_OPTION_NAMES = {
  memory: ['maxSessions'],
  file: ['path', 'lockTimeout'],
  cookie: ['keyring', 'name', 'maxChunks', 'chunkSize'],
  redis: ['connection', 'connections', 'prefix', 'closeClient', 'lockWait', 'maxConflictRetries', 'ioredis', 'onError'],
  sqlite: ['path', 'database', 'table', 'busyTimeout', 'onCorrupt'],
  postgres: ['connection', 'table', 'createTable', 'onCorrupt'],
} as const

export type BuiltinDriverName = keyof typeof BUILTIN_OPTION_NAMES
