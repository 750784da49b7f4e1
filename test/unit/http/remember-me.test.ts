import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SessionManager } from '../../../src/manager/manager.js'
import { rememberMeMiddleware } from '../../../src/http/remember-me.js'
import { rememberMe } from '../../../src/security/remember-me.js'

function response() {
  const headers: Record<string, string[]> = { 'set-cookie': ['other=1'] }
  return {
    headers,
    getHeader: (name: string) => headers[name],
    setHeader: (name: string, value: readonly string[]) => void (headers[name] = [...value]),
  }
}

function run(middleware: ReturnType<typeof rememberMeMiddleware>, req: Parameters<typeof middleware>[0], res: ReturnType<typeof response>) {
  return new Promise<unknown>((resolve) => middleware(req, res, resolve))
}

describe('rememberMeMiddleware()', () => {
  it('signs a session in from the cookie, rotates the cookie and keeps other Set-Cookie values', async () => {
    const manager = new SessionManager()
    const remember = rememberMe(manager)
    const issued = await remember.issue('u1')
    const session = await manager.open()
    const res = response()
    const headers = { cookie: `a=b; ${issued.name}=${issued.value}`, 'user-agent': 'UA' }
    assert.equal(await run(rememberMeMiddleware(remember), { headers, session, socket: { remoteAddress: '192.0.2.1' } }, res), undefined)
    assert.equal(session.auth.userId, 'u1')
    assert.equal(res.headers['set-cookie']?.[0], 'other=1')
    assert.match(res.headers['set-cookie']?.[1] ?? '', new RegExp(`^${issued.name}=(?!${issued.value})[^;]+;.*HttpOnly`))
    await manager.close()
  })

  it('clears a bad token, and leaves signed-in sessions and requests without the cookie alone', async () => {
    const manager = new SessionManager()
    const remember = rememberMe(manager)
    const middleware = rememberMeMiddleware(remember)
    const bad = response()
    const session = await manager.open()
    await run(middleware, { headers: { cookie: `${remember.cookieName}=nonsense` }, session }, bad)
    assert.equal(session.auth.userId, undefined)
    assert.match(bad.headers['set-cookie']?.[1] ?? '', new RegExp(`^${remember.cookieName}=; Max-Age=0`))

    const untouched = response()
    await run(middleware, { headers: {}, session }, untouched)
    session.auth.setUser('u2')
    await run(middleware, { headers: { cookie: `${remember.cookieName}=${(await remember.issue('u3')).value}` }, session }, untouched)
    assert.equal(session.auth.userId, 'u2')
    assert.deepEqual(untouched.headers['set-cookie'], ['other=1'])
    await manager.close()
  })
})
