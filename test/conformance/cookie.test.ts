import { after, describe, it } from 'node:test'
import type { SessionDriver } from '../../src/drivers/contract.js'
import { CookieDriver } from '../../src/drivers/cookie.js'
import { Keyring } from '../../src/lib/crypto.js'
import { runDriverConformance } from '../../src/testing/conformance.js'
import { MemoryJar } from '../helpers/memory-jar.js'

// Each browser holds one session, so the suite's many keys get one jar each; every call binds a
// fresh request driver to that jar, so every read really opens the sealed cookies.
function perBrowser(template: CookieDriver): SessionDriver {
  const jars = new Map<string, MemoryJar>()
  const bind = (key: string): ReturnType<CookieDriver['forRequest']> => {
    let jar = jars.get(key)
    if (!jar) jars.set(key, (jar = new MemoryJar()))
    return template.forRequest(jar)
  }
  return {
    name: 'cookie',
    read: (key) => bind(key).read(key),
    write: (key, record, ttl) => bind(key).write(key, record, ttl),
    destroy: (key) => bind(key).destroy(key),
    touch: (key, ttl) => bind(key).touch(key, ttl),
    gc: () => template.gc(),
  }
}

runDriverConformance({
  name: 'cookie',
  create: () => perBrowser(new CookieDriver({ keyring: new Keyring(['k'.repeat(32)]) }, { cookieName: 'sid' })),
  describe,
  it,
  after,
})
