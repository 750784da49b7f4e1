import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { Client, DRIVERS, startApp, type TestApp } from './helpers.js'

const FUZZ_RUNS = Number(process.env.TESSERA_FUZZ_RUNS ?? 10_000)
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code))
const text = (max: number) => fc.string({ unit: printable, maxLength: max })

for (const [driver, make] of Object.entries(DRIVERS)) {
  describe(`adversarial suite: Express + ${driver} driver`, () => {
    let app: TestApp
    before(async () => {
      // No reuse grace: the theft test replays the token right away. No creation limit here: every
      // client of this suite is 127.0.0.1, so it would soon refuse new sessions (tested below).
      const { config, cleanup } = make({ rememberMe: { reuseGrace: 0 } })
      app = await startApp(config, cleanup)
    })
    after(() => app.close())

    it(`${FUZZ_RUNS} random and malformed cookie headers: no 5xx, never an adopted session`, async () => {
      const victim = new Client(app.url)
      await victim.request('/put', {
        method: 'POST',
        body: { secret: 'victim' },
        headers: { 'x-csrf-token': (await victim.json<{ token: string }>('/token')).token },
      })
      const valid = [...victim.jar.entries()]
      assert.ok(valid.length > 0)
      const name = valid[0]?.[0] as string
      // Inputs: pure noise, our cookie names with noise, and the victim's real cookies with one character changed.
      const mutated = fc.tuple(fc.nat(), printable, fc.constantFrom(...valid)).map(([at, char, [cookie, value]]) => {
        const index = at % value.length
        const next = value.slice(0, index) + (value[index] === char ? (char === 'A' ? 'B' : 'A') : char) + value.slice(index + 1)
        return `${cookie}=${next}`
      })
      const header = fc.oneof(
        text(200),
        text(120).map((value) => `${name}=${value}`),
        fc
          .array(fc.tuple(fc.constantFrom(name, `${name}.data`, `${name}.data.1`, '__proto__', 'constructor'), text(80)), { maxLength: 6 })
          .map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join('; ')),
        mutated,
        fc.constantFrom(`${name}=`, `${name}=;;;`, `=${name}`, `${name}=%00`, `${name}="${'"'.repeat(10)}"`, ';'.repeat(500)),
      )
      await fc.assert(
        fc.asyncProperty(header, async (cookie) => {
          const response = await fetch(`${app.url}/whoami`, { headers: { cookie } })
          assert.ok(response.status < 500, `status ${response.status}`)
          const body = (await response.json()) as { fresh: boolean; data: Record<string, unknown> }
          assert.equal(body.fresh, true, 'a forged, malformed or tampered cookie never names a live session')
          assert.equal(body.data.secret, undefined)
        }),
        { numRuns: FUZZ_RUNS },
      )
      assert.equal((await victim.json<{ data: { secret: string } }>('/whoami')).data.secret, 'victim', 'the real cookie still works')
    })

    it('an attacker-chosen session id is not adopted', async () => {
      const chosen = 'A'.repeat(43)
      for (const cookie of [`tessera_session=${chosen}`, `tessera_session=${chosen}.${'B'.repeat(48)}`]) {
        const response = await fetch(`${app.url}/whoami`, { headers: { cookie } })
        const body = (await response.json()) as { fresh: boolean }
        assert.equal(body.fresh, true)
        for (const line of response.headers.getSetCookie()) assert.ok(!line.includes(chosen), 'the chosen id is never echoed back')
      }
    })

    it('the old id is dead after regenerate (login)', async () => {
      const client = new Client(app.url)
      await client.post('/put', { cart: 3 })
      const before = new Map(client.jar)
      assert.equal((await client.post('/login', { user: `u-${driver}-1` })).status, 200)
      assert.equal((await client.json<{ user: string }>('/whoami')).user, `u-${driver}-1`)
      const stale = new Client(app.url)
      for (const [name, value] of before) stale.jar.set(name, value)
      const body = await stale.json<{ fresh: boolean; user: string | null }>('/whoami')
      if (driver !== 'cookie') {
        assert.equal(body.fresh, true, 'the pre-login id names no session any more')
      }
      assert.equal(body.user, null, 'the pre-login cookie never carries the login')
    })

    it('a token from another session gets 403; the right one passes', async () => {
      const alice = new Client(app.url)
      const mallory = new Client(app.url)
      const { token: malloryToken } = await mallory.json<{ token: string }>('/token')
      await alice.json('/token')
      const forged = await alice.request('/put', { method: 'POST', body: { x: 1 }, headers: { 'x-csrf-token': malloryToken } })
      assert.equal(forged.status, 403)
      assert.equal((await alice.post('/put', { x: 1 })).status, 200)
    })

    it('a cross-site POST without a token gets 403 (also as a form post), never 500', async () => {
      const victim = new Client(app.url)
      await victim.post('/put', { balance: 100 })
      const cases: Record<string, string>[] = [
        { 'sec-fetch-site': 'cross-site', origin: 'https://evil.test' },
        { origin: 'https://evil.test' },
        {}, // no fetch metadata, no origin (old browser or a script): the token is still required
      ]
      for (const headers of cases) {
        const response = await fetch(`${app.url}/put`, {
          method: 'POST',
          headers: {
            ...headers,
            cookie: [...victim.jar].map(([k, v]) => `${k}=${v}`).join('; '),
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'balance=0',
        })
        assert.equal(response.status, 403, JSON.stringify(headers))
      }
      assert.equal((await victim.json<{ data: { balance: number } }>('/whoami')).data.balance, 100)
    })

    it('__proto__ and constructor keys in session data and flash bodies do not pollute prototypes', async () => {
      const client = new Client(app.url)
      const payload = JSON.parse(
        '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "plain": 1}',
      ) as unknown
      assert.equal((await client.post('/put', payload)).status, 200)
      assert.equal((await client.post('/flash', payload)).status, 200)
      const flash = await client.json<{ keys: string[]; polluted: unknown }>('/flash')
      assert.equal(flash.polluted, null)
      assert.ok(flash.keys.includes('plain'))
      const who = await client.json<{ data: Record<string, unknown> }>('/whoami')
      assert.equal(who.data.plain, 1)
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
      assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined)
    })

    it('a 16 KB cookie header is handled without a 5xx', async () => {
      const big = `tessera_session=${'x'.repeat(8_000)}; other=${'y'.repeat(8_000)}`
      const response = await fetch(`${app.url}/whoami`, { headers: { cookie: big } })
      assert.ok(response.status < 500, `status ${response.status}`)
      if (response.status === 200) assert.equal(((await response.json()) as { fresh: boolean }).fresh, true)
    })

    it('remember-me theft: replaying a rotated token revokes all of the user’s tokens and sessions', async () => {
      const user = `victim-${driver}`
      const owner = new Client(app.url)
      await owner.post('/login', { user, remember: true })
      const stolen = owner.jar.get('remember_me')
      assert.ok(stolen)
      // The owner's session ends; the browser signs back in from the cookie, rotating it.
      const returning = new Client(app.url)
      returning.jar.set('remember_me', stolen)
      assert.equal((await returning.json<{ user: string }>('/whoami')).user, user)
      assert.notEqual(returning.jar.get('remember_me'), stolen, 'the token was rotated')
      // The thief replays the copy of the old token.
      const thief = new Client(app.url)
      thief.jar.set('remember_me', stolen)
      assert.equal((await thief.json<{ user: string | null }>('/whoami')).user, null)
      assert.equal(thief.jar.has('remember_me'), false, 'the cookie is cleared')
      // Everyone is out: the owner's sessions and the rotated token.
      assert.equal((await owner.json<{ user: string | null }>('/whoami')).user, null)
      assert.equal((await returning.json<{ user: string | null }>('/whoami')).user, null)
      const rotated = new Client(app.url)
      rotated.jar.set('remember_me', returning.jar.get('remember_me') ?? 'gone')
      assert.equal((await rotated.json<{ user: string | null }>('/whoami')).user, null)
    })

    const limited = async (run: (app: TestApp) => Promise<void>): Promise<void> => {
      const { config, cleanup } = make({ rateLimit: { create: { points: 3, duration: '1h' } } })
      const own = await startApp(config, cleanup, { csrf: false })
      try {
        await run(own)
      } finally {
        await own.close()
      }
    }

    it('rate limit: users.create over the per-user budget gets 429 with Retry-After', {
      skip: driver === 'cookie' && 'users.create needs a server-side store',
    }, async () => {
      await limited(async (own) => {
        const statuses: number[] = []
        let retryAfter: string | null = null
        for (let i = 0; i < 5; i += 1) {
          const response = await fetch(`${own.url}/api/sessions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ user: `rl-${driver}` }),
          })
          statuses.push(response.status)
          if (response.status === 429) retryAfter = response.headers.get('retry-after')
        }
        assert.deepEqual(statuses, [200, 200, 200, 429, 429])
        assert.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`)
      })
    })

    it('rate limit: new web sessions from one IP over the budget get 429 with Retry-After; existing ones still work', async () => {
      await limited(async (own) => {
        const clients = Array.from({ length: 5 }, () => new Client(own.url))
        const statuses: number[] = []
        let retryAfter: string | null = null
        for (const client of clients) {
          const response = await client.request('/put', { method: 'POST', body: { n: 1 } })
          statuses.push(response.status)
          if (response.status === 429) retryAfter = response.headers.get('retry-after')
        }
        assert.deepEqual(statuses, [200, 200, 200, 429, 429])
        assert.ok(Number(retryAfter) >= 3600 / 3 - 1, `Retry-After ${retryAfter}`)
        assert.equal(clients[4]?.jar.size, 0, 'a refused session sets no cookie')
        const existing = clients[0] as Client
        assert.equal(
          (await existing.request('/put', { method: 'POST', body: { n: 2 } })).status,
          200,
          'sessions that exist are not limited',
        )
        assert.equal((await existing.json<{ data: { n: number } }>('/whoami')).data.n, 2)
      })
    })
  })
}

describe('sealed cookie replay after expiry', () => {
  it('a copy of a sealed cookie replayed after its expiry is rejected', async () => {
    const { config, cleanup } = DRIVERS.cookie?.({ age: 1_000 }) ?? assert.fail('cookie driver missing')
    const app = await startApp(config, cleanup)
    try {
      const client = new Client(app.url)
      await client.post('/put', { secret: 'old' })
      const copy = new Map(client.jar)
      assert.equal((await client.json<{ data: { secret: string } }>('/whoami')).data.secret, 'old')
      await sleep(1_100)
      const replay = new Client(app.url)
      for (const [name, value] of copy) replay.jar.set(name, value)
      const body = await replay.json<{ fresh: boolean; data: Record<string, unknown> }>('/whoami')
      assert.equal(body.fresh, true)
      assert.equal(body.data.secret, undefined)
    } finally {
      await app.close()
    }
  })

  it('revokeAll ends sealed cookie sessions through the server-side revocation record', async () => {
    const { config, cleanup } = DRIVERS.cookie?.({}) ?? assert.fail('cookie driver missing')
    const app = await startApp(config, cleanup)
    try {
      const phone = new Client(app.url)
      await phone.post('/login', { user: 'zoe' })
      assert.equal((await phone.json<{ user: string }>('/whoami')).user, 'zoe')
      await sleep(5) // the revocation must come strictly after the session's creation time
      await app.manager.users.revokeAll('zoe')
      assert.equal((await phone.json<{ user: string | null }>('/whoami')).user, null)
      const again = new Client(app.url)
      await again.post('/login', { user: 'zoe' })
      assert.equal((await again.json<{ user: string }>('/whoami')).user, 'zoe', 'signing in again works')
    } finally {
      await app.close()
    }
  })
})
