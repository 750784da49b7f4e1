import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis'
import { SessionConfigError } from '../../lib/errors.js'

/** A connected ioredis client: a single server (standalone or Sentinel-managed) or a Cluster. */
export type RedisClient = Redis | Cluster

/** What `import('ioredis')` gives. */
export type IoredisModule = Pick<typeof import('ioredis'), 'Redis' | 'Cluster'>

/** Connection settings: ioredis options (`host`, `port`, `password`, `db`, `tls`, Sentinel's `sentinels` and `name`, …) or a URL. */
export type RedisConnectionOptions = RedisOptions | string

/** A Redis Cluster: its seed nodes, and cluster options passed to ioredis. */
export interface RedisClusterConnection {
  cluster: { nodes: readonly ClusterNode[]; options?: ClusterOptions }
}

/**
 * Where the driver's client comes from, in one option:
 * - ioredis options, e.g. `{ host, port, password, db }`, or Sentinel's `{ sentinels, name }`;
 * - a URL, `redis://[[user]:password@]host[:port][/db]` or `rediss://…` for TLS;
 * - the name of an entry of `connections`, e.g. `'local'`;
 * - `{ cluster: { nodes, options? } }` for a Redis Cluster;
 * - an existing ioredis client or Cluster, which the driver never closes unless `closeClient` is true.
 * Default: ioredis defaults (127.0.0.1:6379).
 */
export type RedisConnection = RedisConnectionOptions | RedisClusterConnection | RedisClient

/** The options that say where the client comes from. */
export interface RedisConnectionSource {
  connection?: RedisConnection
  /** Named connection settings, picked by `connection: '<name>'`. */
  connections?: Readonly<Record<string, RedisConnectionOptions>>
}

/** How the driver gets its client, decided from {@link RedisConnectionSource} when it is built. */
export type ClientPlan =
  | { kind: 'injected'; client: RedisClient }
  | { kind: 'cluster'; nodes: readonly ClusterNode[]; options: ClusterOptions }
  | { kind: 'server'; connection: RedisConnectionOptions | undefined }

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

const isClient = (value: object): value is RedisClient => typeof (value as Partial<RedisClient>).evalsha === 'function'
const isCluster = (value: object): value is RedisClusterConnection => Object.hasOwn(value, 'cluster')
// ioredis takes URLs (redis://, rediss://) and Unix socket paths; any other string is a name.
const isUrl = (value: string): boolean => value.includes('://') || value.startsWith('/')

/** Checks the connection options eagerly, so a config mistake surfaces when the driver is built. */
export function planClient(source: RedisConnectionSource): ClientPlan {
  const { connection, connections } = source
  if (connections !== undefined && (typeof connections !== 'object' || connections === null)) {
    throw new SessionConfigError(
      'redis driver: "connections" must map names to connection settings, e.g. connections: { local: { host, port } }.',
    )
  }
  if (connection === undefined) return { kind: 'server', connection: undefined }
  if (typeof connection === 'string') {
    if (connections !== undefined && Object.hasOwn(connections, connection))
      return { kind: 'server', connection: namedConnection(connections, connection) }
    if (isUrl(connection)) return { kind: 'server', connection }
    const known = Object.keys(connections ?? {})
    throw new SessionConfigError(
      `redis driver: "connection" names "${connection}", but ${known.length > 0 ? `"connections" only defines: ${known.join(', ')}` : 'no "connections" map is configured'}. Add it under connections, e.g. connections: { ${connection}: { host, port } }, or give a redis:// URL.`,
    )
  }
  if (typeof connection !== 'object' || connection === null) {
    throw new SessionConfigError(
      'redis driver: "connection" must be ioredis options such as { host, port, password, db }, a redis:// URL, the name of one of "connections", { cluster: { nodes } } or an ioredis client.',
    )
  }
  if (isClient(connection)) return { kind: 'injected', client: connection }
  if (isCluster(connection)) {
    const { nodes, options } = connection.cluster ?? {}
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new SessionConfigError(
        'redis driver: connection.cluster.nodes must list at least one node, e.g. connection: { cluster: { nodes: [{ host: "10.0.0.1", port: 6379 }] } }.',
      )
    }
    return { kind: 'cluster', nodes, options: options ?? {} }
  }
  return { kind: 'server', connection }
}

function namedConnection(connections: Readonly<Record<string, RedisConnectionOptions>>, name: string): RedisConnectionOptions {
  const named = connections[name]
  if (typeof named !== 'string' && (typeof named !== 'object' || named === null)) {
    throw new SessionConfigError(`redis driver: connections.${name} must be ioredis options such as { host, port } or a redis:// URL.`)
  }
  return named
}

/** Builds a client the driver owns (and closes). Not yet connected: `lazyConnect`. */
export function createClient(ioredis: IoredisModule, plan: Exclude<ClientPlan, { kind: 'injected' }>): RedisClient {
  if (plan.kind === 'cluster') {
    const { options } = plan
    const { lazyConnect, enableOfflineQueue, ...nodeDefaults } = FAIL_FAST_OPTIONS
    return new ioredis.Cluster([...plan.nodes], {
      lazyConnect,
      enableOfflineQueue,
      ...options,
      redisOptions: { ...nodeDefaults, ...options.redisOptions },
    })
  }
  const { connection } = plan
  if (typeof connection === 'string') return new ioredis.Redis(connection, { ...FAIL_FAST_OPTIONS })
  return new ioredis.Redis({ ...FAIL_FAST_OPTIONS, ...connection })
}
