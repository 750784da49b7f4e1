import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { parseSetCookie } from 'cookie'
import { cookieAttributes, parseCookies, RequestCookies, signId, verifyId } from '../../../src/http/cookies.js'
import { resolveConfig } from '../../../src/config/resolve.js'
import { Keyring } from '../../../src/lib/crypto.js'
import { SessionConfigError } from '../../../src/lib/errors.js'
import { generateSessionId } from '../../../src/lib/ids.js'

const ring = new Keyring(['k'.repeat(32)])

describe('signed id cookies', () => {
  it('verifies its own signature and nothing else', () => {
    const id = generateSessionId()
    const value = signId(ring, id)
    assert.deepEqual(verifyId(ring, value), { id, rotated: false })
    assert.equal(verifyId(ring, id), null, 'unsigned')
    assert.equal(verifyId(ring, `${id}.`), null)
    assert.equal(verifyId(ring, `${value}A`), null, 'extra characters')
    assert.equal(verifyId(ring, `${generateSessionId()}${value.slice(43)}`), null, 'signature of another id')
    assert.equal(verifyId(new Keyring(['z'.repeat(32)]), value), null, 'unknown key')
  })

  it('accepts an older key of the ring and says it must be re-signed', () => {
    const id = generateSessionId()
    const rotated = new Keyring(['n'.repeat(32), 'k'.repeat(32)])
    assert.deepEqual(verifyId(rotated, signId(ring, id)), { id, rotated: true })
    assert.deepEqual(verifyId(rotated, signId(rotated, id)), { id, rotated: false })
  })

  it('property: arbitrary Cookie headers never throw and are never adopted', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (header) => {
        const cookies = parseCookies(header)
        for (const value of Object.values(cookies)) assert.equal(verifyId(ring, value), null)
        assert.equal(verifyId(ring, header), null)
      }),
      { numRuns: 2000 },
    )
  })

  it('property: any change to a signed value is rejected', () => {
    const value = signId(ring, generateSessionId())
    fc.assert(
      fc.property(fc.nat(value.length - 1), fc.string({ minLength: 1, maxLength: 3 }), (at, insert) => {
        const changed = value.slice(0, at) + insert + value.slice(at + 1)
        fc.pre(changed !== value)
        assert.equal(verifyId(ring, changed), null)
      }),
      { numRuns: 2000 },
    )
  })

  it('parses a 16 KB header, taking the first of duplicate names and values verbatim', () => {
    const big = `${Array.from({ length: 400 }, (_, i) => `n${i}=${'v'.repeat(36)}`).join('; ')}; sid=first; sid=second; enc=%41`
    assert.ok(big.length > 16_000)
    const cookies = parseCookies(big)
    assert.equal(cookies.sid, 'first')
    assert.equal(cookies.enc, '%41', 'no percent-decoding: a value means exactly what was sent')
    const hostile = parseCookies('__proto__=1; constructor=2')
    assert.equal(hostile['__proto__'], '1', '__proto__ is a plain cookie name')
    assert.equal(hostile.constructor, '2')
    assert.equal(parseCookies('x=1').toString, undefined, 'no Object.prototype behind the result')
  })
})

describe('RequestCookies (the jar)', () => {
  const attributes = cookieAttributes(resolveConfig({ cookie: { name: 'sid', secure: true, sameSite: 'strict' } }).cookie)

  it('serializes with the configured attributes and records changes once per name', () => {
    const jar = new RequestCookies('sid=old; other=1', attributes, false)
    assert.equal(jar.get('sid'), 'old')
    jar.set('sid', 'a', { maxAge: 60 })
    jar.set('sid', 'b', { maxAge: 60 })
    assert.equal(jar.get('sid'), 'b')
    const [line, ...rest] = jar.setCookies()
    assert.equal(rest.length, 0)
    const parsed = parseSetCookie(line as string)
    assert.deepEqual(
      {
        name: parsed.name,
        value: parsed.value,
        maxAge: parsed.maxAge,
        path: parsed.path,
        secure: parsed.secure,
        httpOnly: parsed.httpOnly,
        sameSite: parsed.sameSite,
      },
      { name: 'sid', value: 'b', maxAge: 60, path: '/', secure: true, httpOnly: true, sameSite: 'strict' },
    )
  })

  it('deletes only cookies that exist, with Max-Age=0', () => {
    const jar = new RequestCookies('sid=old', attributes, false)
    jar.delete('missing')
    assert.deepEqual(jar.setCookies(), [])
    jar.delete('sid')
    assert.equal(jar.get('sid'), undefined)
    assert.match(jar.setCookies()[0] as string, /^sid=; Max-Age=0;/)
  })

  it('browser-session mode drops Max-Age', () => {
    const jar = new RequestCookies(undefined, attributes, true)
    jar.set('sid', 'x', { maxAge: 60 })
    assert.doesNotMatch(jar.setCookies()[0] as string, /Max-Age/)
  })
})

describe('cookie options are validated when the manager is built', () => {
  const bad: [string, Parameters<typeof resolveConfig>[0], RegExp][] = [
    ['a ; in the path', { cookie: { path: '/a;b' } }, /cookie\.path/],
    ['CR LF in the domain', { cookie: { domain: 'a.test\r\nSet-Cookie: x=1' } }, /cookie\.domain/],
    ['__Host- without Secure', { cookie: { name: '__Host-sid', secure: false } }, /__Host-/],
    ['__Host- with a Domain', { cookie: { name: '__Host-sid', domain: 'a.test' } }, /__Host-/],
    ['__Host- with a Path', { cookie: { name: '__Host-sid', path: '/app' } }, /__Host-/],
    ['SameSite=None without Secure', { cookie: { sameSite: 'none', secure: false } }, /Secure|secure/],
    ['a lifetime past 400 days', { age: '401d' }, /400 days/],
    ['a bad name', { cookie: { name: 'sid;x' } }, /cookie\.name/],
  ]
  for (const [label, config, message] of bad) {
    it(`rejects ${label}`, () => {
      assert.throws(
        () => resolveConfig(config),
        (error: unknown) => error instanceof SessionConfigError && message.test(error.message),
      )
    })
  }

  it('accepts a __Host- cookie and a long browser-session lifetime', () => {
    assert.equal(resolveConfig({ cookie: { name: '__Host-sid' } }).cookie.secure, true)
    assert.doesNotThrow(() => resolveConfig({ age: '401d', clearWithBrowser: true }))
  })
})
