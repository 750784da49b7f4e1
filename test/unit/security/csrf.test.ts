import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SessionManager } from '../../../src/manager/manager.js'
import { CSRF_SESSION_KEY, type Session } from '../../../src/session/session.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { CsrfError } from '../../../src/lib/errors.js'
import {
  doubleSubmitBinding,
  issueDoubleSubmitToken,
  isSignedDoubleSubmitToken,
  resolveCsrfOptions,
  verifyCsrf,
  type CsrfRequest,
} from '../../../src/security/csrf.js'

const keyring = new Keyring([randomBytes(32)])

function request(init: Partial<CsrfRequest> & { headers?: Record<string, string>; cookies?: Record<string, string> }): CsrfRequest {
  const headers = { host: 'app.test', ...init.headers }
  return {
    method: init.method ?? 'POST',
    header: (name) => headers[name as keyof typeof headers],
    body: init.body,
    session: init.session,
    cookie: (name) => init.cookies?.[name],
  }
}

async function startedSession(): Promise<Session> {
  const manager = new SessionManager()
  return manager.open()
}

describe('session.csrfToken()', () => {
  it('is created once, kept in the session, and survives a reload', async () => {
    const manager = new SessionManager()
    const session = await manager.open()
    const token = session.auth.csrfToken()
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(session.auth.csrfToken(), token)
    await session.save()
    const again = await manager.open({ id: session.sessionId })
    assert.equal(again.auth.csrfToken(), token)
  })

  it('rotates on regenerate and disappears on invalidate', async () => {
    const manager = new SessionManager()
    const session = await manager.open()
    const before = session.auth.csrfToken()
    await session.save()
    await session.regenerate()
    const after = session.auth.csrfToken()
    assert.notEqual(after, before)
    const reloaded = await manager.open({ id: session.sessionId })
    assert.equal(reloaded.get(CSRF_SESSION_KEY), after, 'the rotated token is what is stored')
    await reloaded.invalidate()
    assert.equal(reloaded.get(CSRF_SESSION_KEY), undefined)
  })

  it('different sessions get different tokens', async () => {
    const a = await startedSession()
    const b = await startedSession()
    assert.notEqual(a.auth.csrfToken(), b.auth.csrfToken())
  })
})

describe('verifyCsrf (session mode)', () => {
  const options = resolveCsrfOptions()

  it('lets safe methods through without a token', async () => {
    const session = await startedSession()
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get']) assert.equal(verifyCsrf(request({ method, session }), options), null)
  })

  it('accepts the token from the header or the form field', async () => {
    const session = await startedSession()
    const token = session.auth.csrfToken()
    assert.equal(verifyCsrf(request({ session, headers: { 'x-csrf-token': token } }), options), null)
    assert.equal(verifyCsrf(request({ session, body: { _csrf: token } }), options), null)
  })

  it('an app calls verifyCsrf with the options it gives csrf(): raw options are checked and resolved once', async () => {
    const session = await startedSession()
    const token = session.auth.csrfToken()
    const raw = { header: 'X-App-Token' }
    assert.equal(verifyCsrf(request({ session, headers: { 'x-app-token': token } }), raw), null)
    assert.ok(verifyCsrf(request({ session }), raw) instanceof CsrfError)
    assert.ok(verifyCsrf(request({ session }), {}) instanceof CsrfError, 'no options: the session token check')
    assert.throws(() => verifyCsrf(request({ session }), { mode: 'double-submit' }), /pass \{ manager \}/)
  })

  it('refuses a missing token, another session’s token and a session that never issued one', async () => {
    const session = await startedSession()
    session.auth.csrfToken()
    const other = await startedSession()
    const missing = verifyCsrf(request({ session }), options)
    assert.ok(missing instanceof CsrfError)
    assert.equal(missing.status, 403)
    assert.equal(missing.code, 'E_SESSION_CSRF')
    assert.equal(missing.reason, 'token')
    assert.ok(verifyCsrf(request({ session, headers: { 'x-csrf-token': other.auth.csrfToken() } }), options) instanceof CsrfError)
    const blank = await startedSession()
    assert.ok(verifyCsrf(request({ session: blank, headers: { 'x-csrf-token': 'x'.repeat(43) } }), options) instanceof CsrfError)
  })

  it('refuses any token that is not exactly the session’s (property)', async () => {
    const session = await startedSession()
    const token = session.auth.csrfToken()
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (guess) => {
        fc.pre(guess !== token)
        assert.ok(verifyCsrf(request({ session, headers: { 'x-csrf-token': guess } }), options) instanceof CsrfError)
        assert.ok(verifyCsrf(request({ session, body: { _csrf: guess } }), options) instanceof CsrfError)
      }),
      { numRuns: 500 },
    )
  })

  it('ignores inherited and non-string form fields', async () => {
    const session = await startedSession()
    const token = session.auth.csrfToken()
    const inherited = Object.create({ _csrf: token }) as Record<string, unknown>
    assert.ok(verifyCsrf(request({ session, body: inherited }), options) instanceof CsrfError)
    assert.ok(verifyCsrf(request({ session, body: { _csrf: [token] } }), options) instanceof CsrfError)
  })

  it('refuses cross-site requests before looking at the token', async () => {
    const session = await startedSession()
    const token = session.auth.csrfToken()
    const headers = { 'x-csrf-token': token }
    const crossSite = verifyCsrf(request({ session, headers: { ...headers, 'sec-fetch-site': 'cross-site' } }), options)
    assert.equal(crossSite?.reason, 'origin')
    assert.equal(verifyCsrf(request({ session, headers: { ...headers, 'sec-fetch-site': 'same-site' } }), options)?.reason, 'origin')
    assert.equal(verifyCsrf(request({ session, headers: { ...headers, origin: 'https://evil.test' } }), options)?.reason, 'origin')
    assert.equal(verifyCsrf(request({ session, headers: { ...headers, origin: 'null' } }), options)?.reason, 'origin')
    assert.equal(
      verifyCsrf(request({ session, headers: { ...headers, origin: 'https://app.test', 'sec-fetch-site': 'same-origin' } }), options),
      null,
    )
  })

  it('trustedOrigins and allowSameSite widen the origin check', async () => {
    const session = await startedSession()
    const token = session.auth.csrfToken()
    const trusting = resolveCsrfOptions({ trustedOrigins: ['https://admin.test'], allowSameSite: true })
    assert.equal(
      verifyCsrf(
        request({ session, headers: { 'x-csrf-token': token, origin: 'https://admin.test', 'sec-fetch-site': 'cross-site' } }),
        trusting,
      ),
      null,
    )
    assert.equal(verifyCsrf(request({ session, headers: { 'x-csrf-token': token, 'sec-fetch-site': 'same-site' } }), trusting), null)
    assert.throws(() => resolveCsrfOptions({ trustedOrigins: ['not a url'] }), /trustedOrigins entries must be origins/)
  })
})

describe('verifyCsrf (double-submit mode)', () => {
  const options = resolveCsrfOptions({ mode: 'double-submit', keyring })
  const name = options.cookie.name
  const browser = { 'sec-fetch-site': 'same-origin' }

  it('accepts a signed cookie echoed in the header', () => {
    const token = issueDoubleSubmitToken(keyring)
    assert.equal(verifyCsrf(request({ headers: { ...browser, 'x-csrf-token': token }, cookies: { [name]: token } }), options), null)
  })

  it('without a session nothing is bound, so the Origin or Sec-Fetch-Site header is required', () => {
    const token = issueDoubleSubmitToken(keyring)
    const bare = verifyCsrf(request({ headers: { 'x-csrf-token': token }, cookies: { [name]: token } }), options)
    assert.equal(bare?.reason, 'origin')
    assert.equal(
      verifyCsrf(request({ headers: { origin: 'http://app.test', 'x-csrf-token': token }, cookies: { [name]: token } }), options),
      null,
    )
  })

  it('RACE planted token: a token minted for another session, planted with its cookie, is refused (no Origin sent)', async () => {
    const victim = await startedSession()
    const victimToken = issueDoubleSubmitToken(keyring, doubleSubmitBinding(victim, true))
    assert.equal(
      verifyCsrf(request({ session: victim, headers: { 'x-csrf-token': victimToken }, cookies: { [name]: victimToken } }), options),
      null,
    )
    const attackers = await Promise.all(Array.from({ length: 50 }, () => startedSession()))
    const results = await Promise.all(
      attackers.map(async (attacker) => {
        const planted = issueDoubleSubmitToken(keyring, doubleSubmitBinding(attacker, true))
        return verifyCsrf(request({ session: victim, headers: { 'x-csrf-token': planted }, cookies: { [name]: planted } }), options)
      }),
    )
    assert.equal(results.filter((error) => error === null).length, 0, 'an attacker token was accepted')
    const unbound = issueDoubleSubmitToken(keyring)
    assert.ok(verifyCsrf(request({ session: victim, headers: { 'x-csrf-token': unbound }, cookies: { [name]: unbound } }), options))
  })

  it('a session that never issued a token accepts none; a token issued before regenerate (login) fails after it', async () => {
    const fresh = await startedSession()
    const guess = issueDoubleSubmitToken(keyring, 'x'.repeat(43))
    assert.ok(verifyCsrf(request({ session: fresh, headers: { 'x-csrf-token': guess }, cookies: { [name]: guess } }), options))
    assert.equal(fresh.get(CSRF_SESSION_KEY), undefined, 'verifying creates no secret')
    const before = issueDoubleSubmitToken(keyring, doubleSubmitBinding(fresh, true))
    await fresh.save()
    await fresh.regenerate()
    assert.ok(verifyCsrf(request({ session: fresh, headers: { 'x-csrf-token': before }, cookies: { [name]: before } }), options))
    const after = issueDoubleSubmitToken(keyring, doubleSubmitBinding(fresh, true))
    assert.equal(verifyCsrf(request({ session: fresh, headers: { 'x-csrf-token': after }, cookies: { [name]: after } }), options), null)
  })

  it('refuses unsigned or foreign-signed cookies even when header and cookie match', () => {
    const forged = `${randomBytes(24).toString('base64url')}.${randomBytes(36).toString('base64url')}`
    const foreign = issueDoubleSubmitToken(new Keyring([randomBytes(32)]))
    for (const token of [forged, foreign, 'plain']) {
      assert.equal(isSignedDoubleSubmitToken(keyring, token), false)
      assert.ok(
        verifyCsrf(request({ headers: { ...browser, 'x-csrf-token': token }, cookies: { [name]: token } }), options) instanceof CsrfError,
      )
    }
  })

  it('refuses a header that differs from the cookie', () => {
    const token = issueDoubleSubmitToken(keyring)
    const other = issueDoubleSubmitToken(keyring)
    assert.ok(
      verifyCsrf(request({ headers: { ...browser, 'x-csrf-token': other }, cookies: { [name]: token } }), options) instanceof CsrfError,
    )
  })

  it('needs keys', () => {
    assert.throws(() => resolveCsrfOptions({ mode: 'double-submit' }), /signs its cookie/)
  })
})
