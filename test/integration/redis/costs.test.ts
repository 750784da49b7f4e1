import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { SessionCodec } from '../../../src/session/codec.js'
import { SessionManager } from '../../../src/manager/manager.js'
import { typedJsonSerializer } from '../../../src/lib/serializer.js'
import { RedisDriver } from '../../../src/drivers/redis.js'
import { generateSessionId, storageKeyFor } from '../../../src/lib/ids.js'
import { makeRecord } from '../../../src/testing/conformance.js'
import { RedisServer, redisMissing } from '../../helpers/redis-server.js'

/**
 * Cost per request, counted on a dedicated redis-server with MONITOR: every command a client
 * sends is one line; commands run inside a Lua script are marked "lua" and are not round trips.
 */
const missing = await redisMissing({ binaries: true })

class CommandLog {
  readonly lines: { command: string; argument: string; lua: boolean }[] = []
  #marks = 0
  private constructor(
    private readonly monitor: Redis,
    private readonly control: Redis,
  ) {}

  static async open(port: number): Promise<CommandLog> {
    const control = new Redis({ port, host: '127.0.0.1' })
    // monitor() opens a connection of its own, duplicated from the control client's settings.
    const monitor = await control.monitor()
    const log = new CommandLog(monitor, control)
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      log.lines.push({ command: String(args[0]).toLowerCase(), argument: String(args[1]), lua: source === 'lua' })
    })
    return log
  }

  /** Top-level commands (round trips) sent while `work` ran, in order. */
  async during(work: () => Promise<unknown>): Promise<string[]> {
    const start = await this.#mark()
    await work()
    const end = await this.#mark()
    return this.lines
      .slice(start + 1, end)
      .filter((line) => !line.lua)
      .map((line) => line.command)
  }

  /** Sends an ECHO and waits until MONITOR shows it, so every earlier command is in the log. */
  async #mark(): Promise<number> {
    const tag = `mark-${++this.#marks}`
    await this.control.echo(tag)
    for (;;) {
      const index = this.lines.findIndex((line) => line.command === 'echo' && line.argument === tag)
      if (index >= 0) return index
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  async close(): Promise<void> {
    this.monitor.disconnect()
    await this.control.quit()
  }
}

describe('redis driver: commands per request', { skip: missing ?? false }, () => {
  let server: RedisServer
  let manager: SessionManager
  let log: CommandLog
  let driver: RedisDriver

  before(async () => {
    server = await RedisServer.start()
    manager = new SessionManager({ driver: 'redis', connection: server.url, lifetime: 120 })
    driver = (await manager.store()).driver as RedisDriver
    // Warm up: load every script once (the first call after a server start also sends an EVAL).
    const warm = await manager.open()
    warm.put('x', 1)
    await warm.save()
    const again = await manager.open({ id: warm.sessionId })
    again.increment('x')
    await again.save()
    await driver.touch(storageKeyFor(warm.sessionId), 60_000)
    log = await CommandLog.open(server.port)
  })

  after(async () => {
    await log?.close()
    await manager?.close()
    await server?.stop()
  })

  it('a new session with data costs one round trip (EVALSHA)', async () => {
    const commands = await log.during(async () => {
      const session = await manager.open()
      session.put('user', 'ada')
      await session.save()
    })
    assert.deepEqual(commands, ['evalsha'])
  })

  it('a new session that stores nothing costs nothing', async () => {
    const commands = await log.during(async () => {
      const session = await manager.open()
      await session.save()
    })
    assert.deepEqual(commands, [])
  })

  it('a read-only request costs one command (HGETALL) and no write', async () => {
    const created = await manager.open()
    created.put('n', 1)
    await created.save()
    const commands = await log.during(async () => {
      const session = await manager.open({ id: created.sessionId })
      assert.equal(session.get('n'), 1)
      await session.save()
    })
    assert.deepEqual(commands, ['hgetall'])
  })

  it('a writing request costs the read plus one round trip for the commit, increments included', async () => {
    const created = await manager.open()
    created.put('n', 1)
    await created.save()
    const commands = await log.during(async () => {
      const session = await manager.open({ id: created.sessionId })
      session.put('a', 'b')
      session.increment('n')
      session.push('seen', '/x')
      session.flash('notice', 'saved')
      await session.save()
    })
    assert.deepEqual(commands, ['hgetall', 'evalsha'])
    const back = await manager.open({ id: created.sessionId })
    assert.equal(back.get('n'), 2)
    assert.deepEqual(back.get('seen'), ['/x'])
  })

  it('touches only when due: a stale lastSeenAt costs one EVALSHA, a fresh one nothing', async () => {
    const id = generateSessionId()
    const record = makeRecord({ a: 1 })
    record.meta.lastSeenAt = Date.now() - 60 * 60_000 // an hour ago: past touchAfter (12 min of 120)
    await driver.write(storageKeyFor(id), record, 60 * 60_000)
    const due = await log.during(async () => (await manager.open({ id })).save())
    assert.deepEqual(due, ['hgetall', 'evalsha'])
    const notDue = await log.during(async () => (await manager.open({ id })).save())
    assert.deepEqual(notDue, ['hgetall'])
  })

  it('binding a user (login) adds two round trips for the user index: the entry, and its re-check after the script', async () => {
    const codec = new SessionCodec(typedJsonSerializer)
    const created = await manager.open()
    created.put('a', 1)
    await created.save()
    const key = storageKeyFor(created.sessionId)
    const commands = await log.during(() => driver.patch(key, [{ op: 'user', userId: 'u-costs' }], { ttl: 60_000, codec }))
    assert.deepEqual(commands, ['zadd', 'evalsha', 'zscore'])
    const plain = await log.during(() => driver.patch(key, [{ op: 'set', key: 'b', value: '2' }], { ttl: 60_000, codec }))
    assert.deepEqual(plain, ['evalsha'], 'later writes of a bound session cost one round trip again')
  })
})
