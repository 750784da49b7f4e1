/**
 * Throwaway redis-server processes on loopback ports, for integration tests: standalone servers
 * (optionally with an fsync-always AOF, so a restart keeps every acknowledged write) and a real
 * Redis Cluster of N masters. Everything lives in a temp dir that `stop()` removes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const HOST = '127.0.0.1'

/** Answers PING over raw RESP; true on +PONG. */
export function ping(port: number, host = HOST, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')))
  })
}

export function hasRedisBinaries(): boolean {
  return ['redis-server', 'redis-cli'].every((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0)
}

/**
 * Null when the test can run; otherwise the reason to skip. Under CI a missing Redis is an error,
 * not a skip: the build must not go green without the integration tests having run.
 */
export async function redisMissing(options: { server?: boolean; binaries?: boolean } = { server: true }): Promise<string | null> {
  let reason: string | null = null
  if (options.server && !(await ping(6379))) reason = 'no Redis answers on 127.0.0.1:6379'
  else if (options.binaries && !hasRedisBinaries()) reason = 'redis-server / redis-cli are not installed'
  if (reason && process.env.CI) throw new Error(`Redis integration tests cannot run under CI: ${reason}. Install and start Redis 7.`)
  return reason
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/** A free port whose cluster bus port (+10000) is free too. */
async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port
  }
  throw new Error('No free loopback port found for a test redis-server.')
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`)
    await sleep(25)
  }
}

export interface ServerOptions {
  /** Append-only file with fsync on every write: a restart keeps every acknowledged write. */
  durable?: boolean
  /** Start as a cluster node. */
  cluster?: boolean
  /** Start as a replica of the server on this port. */
  replicaOf?: number
  /** Start as a Sentinel monitoring the primary on this port under the name `mymaster`. */
  sentinelOf?: number
}

/** One redis-server process the test owns. */
export class RedisServer {
  #process: ChildProcess | undefined
  #exited: Promise<void> = Promise.resolve()

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly options: ServerOptions,
  ) {}

  static async start(options: ServerOptions = {}, dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'))): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), dir, options)
    await server.#spawn()
    return server
  }

  get host(): string {
    return HOST
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`
  }

  get pid(): number | undefined {
    return this.#process?.pid
  }

  async #spawn(): Promise<void> {
    if (this.options.sentinelOf !== undefined) return this.#spawnSentinel(this.options.sentinelOf)
    const args = [
      '--port',
      String(this.port),
      '--bind',
      HOST,
      '--dir',
      this.dir,
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
    ]
    args.push(...(this.options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']))
    if (this.options.cluster)
      args.push(
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(this.dir, `nodes-${this.port}.conf`),
        '--cluster-node-timeout',
        '2000',
      )
    if (this.options.replicaOf !== undefined) args.push('--replicaof', HOST, String(this.options.replicaOf))
    this.#watch(spawn('redis-server', args, { stdio: 'ignore' }))
    await until(() => ping(this.port), `redis-server on port ${this.port}`)
  }

  async #spawnSentinel(primary: number): Promise<void> {
    // Sentinel rewrites its config file, so it needs one of its own in the temp dir.
    const config = join(this.dir, 'sentinel.conf')
    writeFileSync(
      config,
      [
        `port ${this.port}`,
        `bind ${HOST}`,
        `dir ${this.dir}`,
        `sentinel monitor mymaster ${HOST} ${primary} 1`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 5000',
        '',
      ].join('\n'),
    )
    this.#watch(spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' }))
    await until(() => ping(this.port), `redis-sentinel on port ${this.port}`)
  }

  #watch(child: ChildProcess): void {
    this.#process = child
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing. */
  pause(): void {
    this.#process?.kill('SIGSTOP')
  }

  resume(): void {
    this.#process?.kill('SIGCONT')
  }

  /** SIGKILL: no shutdown, no final save; only what the AOF already holds survives. */
  async kill(): Promise<void> {
    this.#process?.kill('SIGKILL')
    await this.#exited
  }

  /** Starts again on the same port and directory (reloading the AOF when durable). */
  async restart(): Promise<void> {
    await this.#spawn()
  }

  /** Stops the process and removes its directory. */
  async stop(): Promise<void> {
    if (this.#process && this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#process.kill('SIGCONT')
      this.#process.kill('SIGKILL')
      await this.#exited
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A real Redis Cluster of `masters` nodes (no replicas) on loopback ports. */
export class RedisCluster {
  private constructor(
    readonly servers: RedisServer[],
    readonly dir: string,
  ) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'))
    const servers: RedisServer[] = []
    try {
      for (let i = 0; i < masters; i++) servers.push(await RedisServer.start({ cluster: true }, mkdtempSync(join(dir, 'node-'))))
      const create = spawnSync(
        'redis-cli',
        ['--cluster', 'create', ...servers.map((s) => `${HOST}:${s.port}`), '--cluster-replicas', '0', '--cluster-yes'],
        { encoding: 'utf8', timeout: 30_000 },
      )
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`)
      for (const server of servers) {
        await until(
          async () => {
            const info = spawnSync('redis-cli', ['-p', String(server.port), 'cluster', 'info'], { encoding: 'utf8' })
            return info.stdout.includes('cluster_state:ok')
          },
          `cluster state ok on port ${server.port}`,
          20_000,
        )
      }
      return new RedisCluster(servers, dir)
    } catch (error) {
      await Promise.all(servers.map((s) => s.stop()))
      rmSync(dir, { recursive: true, force: true })
      throw error
    }
  }

  get nodes(): { host: string; port: number }[] {
    return this.servers.map((s) => ({ host: s.host, port: s.port }))
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()))
    rmSync(this.dir, { recursive: true, force: true })
  }
}
