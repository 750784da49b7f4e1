import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SessionEvents } from '../../../src/session/events.js'
import { SessionManager } from '../../../src/manager/manager.js'
import {
  BINDING_SESSION_KEY,
  bindSession,
  clientIp,
  enforceBinding,
  normalizeIp,
  subnetOf,
  type ClientFacts,
} from '../../../src/security/binding.js'

describe('client IP and subnets', () => {
  it('trustProxy decides where the IP comes from', () => {
    const facts: ClientFacts = { remoteAddress: '10.0.0.9', forwardedFor: '203.0.113.7, 198.51.100.2' }
    assert.equal(clientIp(facts, false), '10.0.0.9', 'forwarded headers are ignored unless trusted')
    assert.equal(clientIp(facts, true), '198.51.100.2', 'true is one trusted proxy: the right-most entry')
    assert.equal(clientIp(facts, 1), '198.51.100.2', 'one trusted proxy: the hop before it')
    assert.equal(clientIp(facts, 2), '203.0.113.7')
    assert.equal(clientIp(facts, 9), '203.0.113.7', 'clamped to the left-most entry')
    assert.equal(clientIp({ remoteAddress: '10.0.0.9', forwardedFor: 'garbage' }, true), '10.0.0.9')
  })

  it('trustProxy true takes the right-most X-Forwarded-For entry, never a client-forged left-most one', () => {
    // The client sends a forged header; the proxy appends the address it really saw.
    const forged: ClientFacts = { remoteAddress: '10.0.0.1', forwardedFor: '198.51.100.7, 203.0.113.50' }
    assert.equal(clientIp(forged, true), '203.0.113.50')
    assert.equal(clientIp({ remoteAddress: '10.0.0.1', forwardedFor: '203.0.113.50' }, true), '203.0.113.50')
    assert.equal(clientIp({ remoteAddress: '10.0.0.1', forwardedFor: ' , ' }, true), '10.0.0.1', 'an empty header is the socket')
  })

  it('normalizes IPv4-mapped and abbreviated IPv6', () => {
    assert.equal(normalizeIp('::ffff:192.0.2.1'), '192.0.2.1')
    assert.equal(normalizeIp('2001:db8::1'), '2001:0db8:0000:0000:0000:0000:0000:0001')
    assert.equal(normalizeIp('[::1]'), '0000:0000:0000:0000:0000:0000:0000:0001')
    assert.equal(normalizeIp('fe80::1%eth0'), 'fe80:0000:0000:0000:0000:0000:0000:0001')
    assert.equal(normalizeIp('not-an-ip'), undefined)
  })

  it('subnets are /24 for IPv4 and /64 for IPv6', () => {
    assert.equal(subnetOf('192.0.2.77'), '192.0.2.0/24')
    assert.equal(subnetOf(normalizeIp('2001:db8:1:2:aaaa::1') as string), '2001:0db8:0001:0002::/64')
  })

  it('any IPv6 address expands to 8 groups that parse back to itself (property)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const expanded = normalizeIp(ip)
        assert.ok(expanded, ip)
        if (!/^::ffff:\d/i.test(ip)) {
          assert.equal(expanded.split(':').length, 8, ip)
          assert.equal(normalizeIp(expanded), expanded)
        }
      }),
      { numRuns: 500 },
    )
  })
})

async function boundSession(manager: SessionManager, facts: ClientFacts) {
  const session = await manager.open()
  session.put('user', 'alice')
  bindSession(session, facts, manager.config.security.binding)
  await session.save()
  return session.sessionId
}

describe('enforceBinding', () => {
  const alice: ClientFacts = { remoteAddress: '192.0.2.10', userAgent: 'Firefox' }

  it('reject: another IP destroys the session and starts a fresh one', async () => {
    const manager = new SessionManager({ binding: { ip: true, userAgent: true } })
    const seen: unknown[] = []
    manager.on(SessionEvents.BINDING_MISMATCH, (_session, mismatch) => seen.push(mismatch))
    const id = await boundSession(manager, alice)
    const same = await manager.open({ id })
    assert.equal(await enforceBinding(same, alice, manager.config.security.binding, manager.events), 'match')
    const thief = await manager.open({ id })
    assert.equal(
      await enforceBinding(thief, { remoteAddress: '198.51.100.1', userAgent: 'Firefox' }, manager.config.security.binding, manager.events),
      'rejected',
    )
    assert.notEqual(thief.sessionId, id)
    assert.equal(thief.get('user'), undefined)
    assert.equal((await manager.open({ id })).status.fresh, true, 'the stolen session is gone for everyone')
    assert.deepEqual(seen, [{ fields: ['ip'], action: 'reject' }])
  })

  it('the stored fingerprint keeps only a hash of the User-Agent', async () => {
    const manager = new SessionManager({ binding: { userAgent: true } })
    const id = await boundSession(manager, { userAgent: 'Mozilla/5.0 Secret' })
    const session = await manager.open({ id })
    assert.ok(!JSON.stringify(session.get(BINDING_SESSION_KEY)).includes('Secret'))
    assert.equal(await enforceBinding(session, { userAgent: 'curl/8' }, manager.config.security.binding, manager.events), 'rejected')
  })

  it('subnet: the same /24 passes, another one does not', async () => {
    const manager = new SessionManager({ binding: { ip: 'subnet' } })
    const id = await boundSession(manager, alice)
    assert.equal(
      await enforceBinding(await manager.open({ id }), { remoteAddress: '192.0.2.200' }, manager.config.security.binding),
      'match',
    )
    assert.equal(
      await enforceBinding(await manager.open({ id }), { remoteAddress: '192.0.3.10' }, manager.config.security.binding),
      'rejected',
    )
  })

  it('log: emits the event and keeps the session', async () => {
    const manager = new SessionManager({ binding: { ip: true, onMismatch: 'log' } })
    const seen: unknown[] = []
    manager.on(SessionEvents.BINDING_MISMATCH, (_session, mismatch) => seen.push(mismatch))
    const id = await boundSession(manager, alice)
    const session = await manager.open({ id })
    assert.equal(
      await enforceBinding(session, { remoteAddress: '198.51.100.1' }, manager.config.security.binding, manager.events),
      'mismatch-logged',
    )
    assert.equal(session.sessionId, id)
    assert.equal(session.get('user'), 'alice')
    assert.deepEqual(seen, [{ fields: ['ip'], action: 'log' }])
  })

  it('bindSession does not make an empty session persist', async () => {
    const manager = new SessionManager({ binding: { ip: true } })
    const session = await manager.open()
    bindSession(session, alice, manager.config.security.binding)
    assert.equal(session.status.hasPendingWrites, false)
    await session.save()
    assert.equal(session.status.persisted, false)
  })
})
