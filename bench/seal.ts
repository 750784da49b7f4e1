/**
 * Seal + open throughput of one typical session: Tessera's sealed cookie driver (through its real
 * request-bound code path: serialize, seal into cookies, parse them back, open) vs iron-session's
 * sealData/unsealData. Both run in this process, interleaved, medians of several rounds.
 */
import { randomBytes } from 'node:crypto'
import { sealData, unsealData } from 'iron-session'
import type { CookieJar, StoredRecord } from 'tessera/driver'
// Internals the benchmark drives directly (not part of the public API), from the sources.
import { CookieDriver } from '../src/drivers/cookie.js'
import { Keyring } from '../src/lib/crypto.js'
import { typedJsonSerializer } from '../src/lib/serializer.js'
import { SessionCodec } from '../src/session/codec.js'

const PASSWORD = 'bench-secret-bench-secret-bench-secret-0123456789'
const DATA = { user: { id: 42, name: 'Ada Lovelace', roles: ['admin', 'editor'] }, views: 17, _csrf: randomBytes(32).toString('base64url') }
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const MS_PER_ROUND = 1_000

class MapJar implements CookieJar {
  readonly cookies = new Map<string, string>()
  get(name: string): string | undefined {
    return this.cookies.get(name)
  }
  set(name: string, value: string): void {
    this.cookies.set(name, value)
  }
  delete(name: string): void {
    this.cookies.delete(name)
  }
}

async function opsPerSecond(work: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + MS_PER_ROUND
  let ops = 0
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await work()
    ops += 50
  }
  return ops / (MS_PER_ROUND / 1000)
}

export async function runSealBench(): Promise<void> {
  const keyring = new Keyring([PASSWORD])
  const driver = new CookieDriver({ keyring }, { cookieName: 'bench' })
  // A second driver opens: the writer keeps what it sealed, and a real open is what is measured.
  const reader = new CookieDriver({ keyring }, { cookieName: 'bench' })
  const codec = new SessionCodec(typedJsonSerializer)
  const now = Date.now()
  const record: StoredRecord = {
    data: Object.assign(
      Object.create(null) as Record<string, string>,
      Object.fromEntries(Object.entries(DATA).map(([k, v]) => [k, codec.encode(v, k)])),
    ),
    flash: null,
    meta: { createdAt: now, lastSeenAt: now, expiresAt: now + 3_600_000, version: 1 },
  }
  const key = 'k'.repeat(43)

  const tessera = async () => {
    const jar = new MapJar()
    await driver.forRequest(jar).write(key, record, 3_600_000)
    const opened = await reader.forRequest(jar).read(key)
    if (!opened) throw new Error('tessera: open failed')
  }
  const iron = async () => {
    const sealed = await sealData(DATA, { password: PASSWORD, ttl: 3600 })
    const opened = await unsealData<typeof DATA>(sealed, { password: PASSWORD, ttl: 3600 })
    if (!opened.user) throw new Error('iron-session: unseal failed')
  }

  const results = { tessera: [] as number[], iron: [] as number[] }
  await tessera()
  await iron()
  for (let round = 0; round < ROUNDS; round++) {
    results.tessera.push(await opsPerSecond(tessera))
    results.iron.push(await opsPerSecond(iron))
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number
  const t = median(results.tessera)
  const i = median(results.iron)
  console.log(`\n### seal + open of one session (${ROUNDS} rounds × ${MS_PER_ROUND} ms, medians)\n`)
  console.log('| implementation           | seal+open ops/s | ratio |')
  console.log('| ------------------------ | --------------- | ----- |')
  console.log(`| tessera (cookie driver)  | ${String(Math.round(t)).padEnd(15)} | ${(t / i).toFixed(1).padEnd(5)} |`)
  console.log(`| iron-session 8           | ${String(Math.round(i)).padEnd(15)} | 1.0   |`)
}
