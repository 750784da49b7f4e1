import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { SessionManager } from '../../../src/manager/manager.js'
import { csrf } from '../../../src/http/csrf.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { CsrfError } from '../../../src/lib/errors.js'
import { isSignedDoubleSubmitToken } from '../../../src/security/csrf.js'

const keyring = new Keyring([randomBytes(32)])

async function startedSession() {
  return new SessionManager().open()
}

describe('csrf() middleware', () => {
  it('passes a CsrfError to next, never throws, and sets req.csrfToken', async () => {
    const session = await startedSession()
    const middleware = csrf()
    const req = {
      method: 'POST',
      headers: { host: 'app.test' } as Record<string, string>,
      session,
      csrfToken: undefined as undefined | (() => string),
    }
    const res = { getHeader: () => undefined, setHeader: () => undefined }
    let passed: unknown = 'not called'
    middleware(req, res, (error) => (passed = error))
    assert.ok(passed instanceof CsrfError)
    assert.equal(req.csrfToken?.(), session.auth.csrfToken())
    req.headers['x-csrf-token'] = session.auth.csrfToken()
    middleware(req, res, (error) => (passed = error))
    assert.equal(passed, undefined)
  })

  it('double-submit: req.csrfToken() sets a signed cookie once', () => {
    const middleware = csrf({ mode: 'double-submit', keyring, cookie: { secure: true } })
    const headers: Record<string, string[]> = {}
    const res = {
      getHeader: (name: string) => headers[name],
      setHeader: (name: string, value: readonly string[]) => void (headers[name] = [...value]),
    }
    const req = { method: 'GET', headers: {} as Record<string, string>, csrfToken: undefined as undefined | (() => string) }
    middleware(req, res, () => undefined)
    const token = req.csrfToken?.() as string
    assert.equal(req.csrfToken?.(), token)
    assert.equal(headers['set-cookie']?.length, 1)
    assert.match(headers['set-cookie']?.[0] ?? '', /^__Host-csrf=.+; Path=\/; Secure; SameSite=Strict$/)
    assert.ok(isSignedDoubleSubmitToken(keyring, token))
  })

  it('double-submit with a session: req.csrfToken() is bound to it, another session refuses it, and login re-issues it', async () => {
    const manager = new SessionManager()
    const middleware = csrf({ mode: 'double-submit', keyring })
    const issue = (session: unknown, cookie?: string) => {
      const lines: string[] = []
      const res = {
        getHeader: () => lines,
        setHeader: (_name: string, value: readonly string[]) => void lines.splice(0, lines.length, ...value),
      }
      const req = {
        method: 'GET',
        headers: { cookie } as Record<string, string | undefined>,
        session,
        csrfToken: undefined as undefined | (() => string),
      }
      middleware(req, res, () => undefined)
      return { req, lines }
    }
    const victim = await manager.open()
    const attacker = await manager.open()
    const { req, lines } = issue(victim)
    const token = req.csrfToken?.() as string
    assert.equal(lines.length, 1)
    const post = (session: unknown, presented: string) => {
      let passed: unknown = 'not called'
      const headers = { host: 'app.test', cookie: `tessera_csrf=${presented}`, 'x-csrf-token': presented }
      middleware(
        { method: 'POST', headers, session },
        { getHeader: () => undefined, setHeader: () => undefined },
        (error) => (passed = error),
      )
      return passed
    }
    assert.equal(post(victim, token), undefined)
    assert.ok(post(attacker, token) instanceof CsrfError, 'bound to the victim’s session')
    await victim.save()
    await victim.regenerate()
    assert.ok(post(victim, token) instanceof CsrfError, 'login (regenerate) rotates the secret')
    const renewed = req.csrfToken?.() as string
    assert.notEqual(renewed, token)
    assert.equal(lines.length, 2, 'a new cookie is set for the new secret')
    assert.equal(post(victim, renewed), undefined)
  })
})
