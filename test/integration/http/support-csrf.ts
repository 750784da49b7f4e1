// CSRF scenarios of the adapter suite (support.ts runs them for every adapter that has csrf()).
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { MemoryDriver } from '../../../src/drivers/memory.js'
import type { SessionManager } from '../../../src/index.js'
import { issueDoubleSubmitToken, resolveCsrfOptions, type CsrfOptions } from '../../../src/security/csrf.js'
import { Browser, COOKIE, makeManager, type ServeFeatures } from './support.js'

export function csrfScenarios(serve: (manager: SessionManager, features?: ServeFeatures) => Promise<Browser>): void {
  it('RACE planted double-submit token: 20 parallel posts with a token minted for another client and its cookie planted get 403', async () => {
    const manager = makeManager(new MemoryDriver())
    const csrfOptions: CsrfOptions = { mode: 'double-submit', manager }
    const cookieName = resolveCsrfOptions(csrfOptions).cookie.name
    const victim = await serve(manager, { csrf: true, csrfOptions })
    const attacker = new Browser(victim.base)
    // What the server issues for a session (req.csrfToken()): a token bound to the session's secret.
    const issue = async (browser: Browser) => issueDoubleSubmitToken(manager.keyring, (await browser.json('/token')).token as string)
    const own = await issue(victim)
    victim.cookies.set(cookieName, own)
    assert.equal((await victim.json('/count', { method: 'POST', headers: { 'x-csrf-token': own } })).n, 1, 'the own token passes')
    const planted = await issue(attacker)
    const sessionCookie = `${COOKIE}=${victim.cookies.get(COOKIE)}`
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(`${victim.base}/count`, {
          method: 'POST',
          headers: { cookie: `${cookieName}=${planted}; ${sessionCookie}`, 'x-csrf-token': planted },
        })
        await response.body?.cancel()
        return response.status
      }),
    )
    assert.deepEqual(statuses, Array(20).fill(403))
    assert.equal((await victim.json('/count', { method: 'POST', headers: { 'x-csrf-token': own } })).n, 2, 'refused posts changed nothing')
  })
}
