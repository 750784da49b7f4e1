import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis'
import { SessionConfigError } from '../../lib/errors.js'

/** A connected ioredis client: a single server (standalone or Sentinel-managed) or a Cluster. */
export type RedisClient = Redis | Cluster

/** What `import('ioredis')` gives. */
export type IoredisModule = Pick<typeof import('ioredis'), 'Redis' | 'Cluster'>

/** Connection settings: ioredis options (`host`, `port`, `password`, `db`, `tls`, `sentinels`, `name`, …) or a URL. */
export type RedisConnection = RedisOptions | string

/** Where the driver's client comes from; exactly one source is used, in this order. */
export interface RedisConnectionSource {
  /** An existing ioredis client or Cluster. The driver never closes it unless `closeClient` is true. */
  client?: RedisClient
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` for TLS. */
  url?: string
  /** Seed style: `{ host, port, password, db }`, or any ioredis option (Sentinel: `{ sentinels, name }`). */
  connection?: RedisConnection
  /** Names one entry of `connections` (AdonisJS style `redisConnection: 'local'`). */
  redisConnection?: string
  connections?: Readonly<Record<string, RedisConnection>>
  /** Redis Cluster seed nodes, and cluster options passed to ioredis. */
  cluster?: { nodes: readonly ClusterNode[]; options?: ClusterOptions }
}

/**
 * Defaults for clients the driver creates, chosen so a request fails fast while Redis is away
 * (and the adapter answers 503) instead of queueing until the store timeout:
 * - `enableOfflineQueue: false`: commands issued while disconnected are rejected at once;
 * - `autoResendUnfulfilledCommands: false`: a command in flight when the connection dropped is
 *   not replayed after reconnecting, so a patch is never applied twice;
 * - `maxRetriesPerRequest: 0`: those in-flight commands are rejected as soon as the connection
 *   drops (with 1 or more, ioredis would hold them across a quick reconnect and then drop them
 *   without ever settling their promises);
 * - `commandTimeout: 10 000`: a server that hangs (SIGSTOP, network partition) cannot hold a
 *   command, and what waits on it, forever; `storeTimeout` (5 s) normally answers the request first;
 * - `lazyConnect: true`: the driver connects on first use and waits for that first connection.
 * ioredis keeps reconnecting by itself; service resumes when Redis is back. Your options win.
 */
export const FAIL_FAST_OPTIONS = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 10_000,
  connectTimeout: 5_000,
  lazyConnect: true,
  // Commands issued in the same tick (concurrent requests) go out in one write: far fewer
  // syscalls per request under load, same semantics.
  enableAutoPipelining: true,
} as const satisfies RedisOptions

/** The connection settings the source names; undefined means ioredis defaults (localhost:6379). */
function connectionOf(source: RedisConnectionSource): RedisConnection | undefined {
  if (source.url !== undefined) return source.url
  if (source.connection !== undefined) return source.connection
  if (source.redisConnection !== undefined) {
    const named = source.connections?.[source.redisConnection]
    if (named === undefined || !Object.hasOwn(source.connections ?? {}, source.redisConnection)) {
      const known = Object.keys(source.connections ?? {})
      throw new SessionConfigError(
        `redisConnection names "${source.redisConnection}", but ${known.length > 0 ? `"connections" only defines: ${known.join(', ')}` : 'no "connections" map is configured'}. Add it under connections, e.g. connections: { ${source.redisConnection}: { host, port } }.`,
      )
    }
    return named
  }
  return undefined
}

/** Checks the source eagerly, so a config mistake surfaces when the driver is built. */
export function validateSource(source: RedisConnectionSource): void {
  if (source.client !== undefined && (typeof source.client !== 'object' || typeof source.client.evalsha !== 'function')) {
    throw new SessionConfigError('redis driver: "client" must be an ioredis Redis or Cluster instance.')
  }
  if (source.cluster !== undefined && (!Array.isArray(source.cluster.nodes) || source.cluster.nodes.length === 0)) {
    throw new SessionConfigError('redis driver: cluster.nodes must list at least one node, e.g. cluster: { nodes: [{ host: "10.0.0.1", port: 6379 }] }.')
  }
  const connection = connectionOf(source)
  if (connection !== undefined && typeof connection !== 'string' && (typeof connection !== 'object' || connection === null)) {
    throw new SessionConfigError('redis driver: "connection" must be an object such as { host, port, password, db } or a redis:// URL.')
  }
}

/** Builds a client the driver owns (and closes). Not yet connected: `lazyConnect`. */
export function createClient(ioredis: IoredisModule, source: RedisConnectionSource): RedisClient {
  if (source.cluster) {
    const options = source.cluster.options ?? {}
    const { lazyConnect, enableOfflineQueue, ...nodeDefaults } = FAIL_FAST_OPTIONS
    return new ioredis.Cluster([...source.cluster.nodes], {
      lazyConnect,
      enableOfflineQueue,
      ...options,
      redisOptions: { ...nodeDefaults, ...options.redisOptions },
    })
  }
  const connection = connectionOf(source)
  if (typeof connection === 'string') return new ioredis.Redis(connection, { ...FAIL_FAST_OPTIONS })
  return new ioredis.Redis({ ...FAIL_FAST_OPTIONS, ...connection })
}
