import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, describe, it } from 'node:test'
import { SessionManager, type SessionManagerOptions } from '../../../src/manager/manager.js'
import { rememberMe } from '../../../src/security/remember-me.js'
import { SessionLimitError, RateLimitError } from '../../../src/lib/errors.js'
import { startApp, type TestApp } from '../../security/helpers.js'
import { sharedStores } from './stores.js'

/*
 * Issue 11, items 4–6: the security steps that check, then write (spend a remember-me token, take
 * a rate-limit token, count a user's sessions) hold the driver's lock, so parallel requests cannot
 * pass them together. Every case runs on every server store, split over two managers that share
 * the store (two apps, as two processes would be), and asserts exact counts.
 */

const API_PARALLEL = 50
const HTTP_PARALLEL = 20
const PROCESS_PARALLEL = 25
const run = promisify(execFile)
const user = (label: string): string => `${label}-${randomBytes(4).toString('hex')}`

const stores = await sharedStores()
after(async () => {
  for (const store of stores) await store.cleanup()
})

for (const store of stores) {
  /** Two managers on the shared store, closed after `run`. */
  const managers = async <T>(extra: SessionManagerOptions, run: (pair: SessionManager[]) => Promise<T>): Promise<T> => {
    const pair = [new SessionManager(store.config(extra)), new SessionManager(store.config(extra))]
    try {
      return await run(pair)
    } finally {
      await Promise.all(pair.map((manager) => manager.close()))
    }
  }
  /** Two Express apps on the shared store (no CSRF: the tests post cookieless), closed after `run`. */
  const apps = async <T>(extra: SessionManagerOptions, run: (pair: TestApp[]) => Promise<T>): Promise<T> => {
    const pair = [
      await startApp(store.config(extra), undefined, { csrf: false }),
      await startApp(store.config(extra), undefined, { csrf: false }),
    ]
    try {
      return await run(pair)
    } finally {
      await Promise.all(pair.map((app) => app.close()))
    }
  }
  const login = async (manager: SessionManager, userId: string): Promise<'ok' | 'refused'> => {
    const session = await manager.open()
    await session.regenerate()
    session.auth.setUser(userId)
    try {
      await session.save()
      return 'ok'
    } catch (error) {
      if (error instanceof SessionLimitError) return 'refused'
      throw error
    }
  }
  const count = <T>(values: T[], value: T): number => values.filter((each) => each === value).length
  /** Two processes, each running PROCESS_PARALLEL attempts of `step` at once; every outcome. */
  const twoProcesses = async (extra: SessionManagerOptions, step: string, subject: string): Promise<string[]> => {
    const worker = join(import.meta.dirname, 'atomic-worker.ts')
    const config = JSON.stringify(store.config(extra))
    const spawn = () =>
      run(process.execPath, ['--import', 'tsx', worker, config, step, subject, String(PROCESS_PARALLEL)], { cwd: process.cwd() })
    const outputs = await Promise.all([spawn(), spawn()])
    return outputs.flatMap((output) => JSON.parse(output.stdout) as string[])
  }
  // The memory store lives in one process; the others are shared through files, SQL or Redis.
  const crossProcess = store.name === 'memory' ? 'the memory store is not shared between processes' : false

  describe(`${store.name}: atomic security steps under concurrency, two managers on one store`, { skip: store.skip }, () => {
    it(`remember-me race: ${API_PARALLEL} parallel uses of one token sign in exactly once; the rest get the "already used" refusal, no theft`, async () => {
      await managers({}, async ([a, b]) => {
        const id = user('remember')
        const token = await rememberMe(a as SessionManager).issue(id)
        const remembers = [rememberMe(a as SessionManager), rememberMe(b as SessionManager)]
        const results = await Promise.all(
          Array.from({ length: API_PARALLEL }, (_, i) => (remembers[i % 2] as ReturnType<typeof rememberMe>).consume(token.value)),
        )
        const statuses = results.map((result) => result.status)
        assert.deepEqual(
          { valid: count(statuses, 'valid'), invalid: count(statuses, 'invalid'), theft: count(statuses, 'theft') },
          { valid: 1, invalid: API_PARALLEL - 1, theft: 0 },
        )
      })
    })

    it(`remember-me race over Express: ${HTTP_PARALLEL} parallel requests with one token, two apps, one signed-in response`, async () => {
      await apps({}, async (pair) => {
        const id = user('remember-http')
        const token = await (pair[0] as TestApp).remember.issue(id)
        const responses = await Promise.all(
          Array.from({ length: HTTP_PARALLEL }, async (_, i) => {
            const response = await fetch(`${(pair[i % 2] as TestApp).url}/whoami`, { headers: { cookie: `remember_me=${token.value}` } })
            return ((await response.json()) as { user: string | null }).user
          }),
        )
        assert.equal(count(responses, id), 1, 'exactly one request signed in')
        assert.equal(count(responses, null), HTTP_PARALLEL - 1)
        if (store.perUser !== false)
          assert.equal((await (pair[0] as TestApp).manager.users.list(id)).length, 1, 'exactly one session exists')
      })
    })

    for (const max of store.perUser === false ? [] : [1, 3]) {
      it(`maxSessionsPerUser refuse race: ${API_PARALLEL} parallel logins leave exactly ${max} session(s), every other login refused`, async () => {
        await managers({ maxSessionsPerUser: { max, onLimit: 'refuse' } }, async (pair) => {
          const id = user('refuse')
          const outcomes = await Promise.all(Array.from({ length: API_PARALLEL }, (_, i) => login(pair[i % 2] as SessionManager, id)))
          assert.deepEqual({ ok: count(outcomes, 'ok'), refused: count(outcomes, 'refused') }, { ok: max, refused: API_PARALLEL - max })
          assert.equal((await (pair[1] as SessionManager).users.list(id)).length, max)
        })
      })

      it(`maxSessionsPerUser evict-oldest race: ${API_PARALLEL} parallel logins all succeed and leave exactly ${max} session(s)`, async () => {
        await managers({ maxSessionsPerUser: { max, onLimit: 'evict-oldest' } }, async (pair) => {
          const id = user('evict')
          const outcomes = await Promise.all(Array.from({ length: API_PARALLEL }, (_, i) => login(pair[i % 2] as SessionManager, id)))
          assert.equal(count(outcomes, 'ok'), API_PARALLEL)
          assert.equal((await (pair[0] as SessionManager).users.list(id)).length, max)
        })
      })
    }

    for (const onLimit of store.perUser === false ? [] : (['refuse', 'evict-oldest'] as const)) {
      it(`maxSessionsPerUser ${onLimit} race over Express: ${HTTP_PARALLEL} parallel logins on two apps, exactly 1 session`, async () => {
        await apps({ maxSessionsPerUser: { max: 1, onLimit } }, async (pair) => {
          const id = user(`http-${onLimit}`)
          const statuses = await Promise.all(
            Array.from({ length: HTTP_PARALLEL }, async (_, i) => {
              const response = await fetch(`${(pair[i % 2] as TestApp).url}/login`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ user: id }),
              })
              await response.arrayBuffer()
              return response.status
            }),
          )
          if (onLimit === 'refuse') assert.deepEqual([count(statuses, 200), count(statuses, 403)], [1, HTTP_PARALLEL - 1])
          else assert.equal(count(statuses, 200), HTTP_PARALLEL)
          assert.equal((await (pair[0] as TestApp).manager.users.list(id)).length, 1)
        })
      })
    }

    it(`two processes: ${PROCESS_PARALLEL} parallel uses of one remember-me token in each sign in exactly once`, {
      skip: crossProcess,
    }, async () => {
      const manager = new SessionManager(store.config({}))
      const token = await rememberMe(manager).issue(user('remember-2p'))
      await manager.close()
      const outcomes = await twoProcesses({}, 'remember', token.value)
      assert.deepEqual([count(outcomes, 'valid'), count(outcomes, 'invalid')], [1, 2 * PROCESS_PARALLEL - 1])
    })

    it(`two processes: ${PROCESS_PARALLEL} parallel creations from one IP in each, exactly 3 pass (3/h)`, {
      skip: crossProcess,
    }, async () => {
      const outcomes = await twoProcesses(
        { rateLimit: { create: { points: 3, duration: '1h' } } },
        'rate',
        `ip-${randomBytes(4).toString('hex')}`,
      )
      assert.deepEqual([count(outcomes, 'ok'), count(outcomes, 'limited')], [3, 2 * PROCESS_PARALLEL - 3])
    })

    it(`two processes: ${PROCESS_PARALLEL} parallel logins in each under maxSessionsPerUser 2 'refuse', exactly 2 pass`, {
      skip: crossProcess || (store.perUser === false && 'no per-user index'),
    }, async () => {
      const id = user('refuse-2p')
      const outcomes = await twoProcesses({ maxSessionsPerUser: { max: 2, onLimit: 'refuse' } }, 'login', id)
      assert.deepEqual([count(outcomes, 'ok'), count(outcomes, 'refused')], [2, 2 * PROCESS_PARALLEL - 2])
      await managers({}, async ([manager]) => assert.equal((await (manager as SessionManager).users.list(id)).length, 2))
    })

    it(`rateLimit.create race: ${API_PARALLEL} parallel creations from one IP across two managers, exactly 3 pass (3/h)`, async () => {
      await managers({ rateLimit: { create: { points: 3, duration: '1h' } } }, async (pair) => {
        const ip = `203.0.113.${Math.floor(Math.random() * 250)}-${randomBytes(3).toString('hex')}`
        const outcomes = await Promise.all(
          Array.from({ length: API_PARALLEL }, (_, i) =>
            (pair[i % 2] as SessionManager).security.limitCreation('ip', ip).then(
              () => 'ok',
              (error) => (error instanceof RateLimitError ? 'limited' : Promise.reject(error)),
            ),
          ),
        )
        assert.deepEqual([count(outcomes, 'ok'), count(outcomes, 'limited')], [3, API_PARALLEL - 3])
      })
    })

    it(`rateLimit.create race over Express: ${HTTP_PARALLEL} parallel cookieless writes on two apps, 3 × 200 and the rest 429`, async () => {
      // trustProxy: true keys the bucket on the right-most X-Forwarded-For entry (the address the
      // proxy saw), fresh per run; a forged left-most entry per request must not split the bucket.
      await apps({ rateLimit: { create: { points: 3, duration: '1h' } }, binding: { ip: true, trustProxy: true } }, async (pair) => {
        const ip = `198.51.100.${1 + Math.floor(Math.random() * 250)}`
        const statuses = await Promise.all(
          Array.from({ length: HTTP_PARALLEL }, async (_, i) => {
            const response = await fetch(`${(pair[i % 2] as TestApp).url}/put`, {
              method: 'POST',
              // A forged left-most entry must not give each request a bucket of its own.
              headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.9.${i}.1, ${ip}` },
              body: JSON.stringify({ n: i }),
            })
            await response.arrayBuffer()
            return response.status
          }),
        )
        assert.deepEqual([count(statuses, 200), count(statuses, 429)], [3, HTTP_PARALLEL - 3])
      })
    })
  })
}
