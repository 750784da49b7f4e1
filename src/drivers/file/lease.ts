import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { safeEqual, sha256 } from '../../lib/crypto.js'
import type { LeaseBackend } from '../lease.js'

/** A lease file not written within this long of its creation belongs to a crashed holder. */
const UNWRITTEN_STALE_MS = 10_000

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException)?.code

/**
 * Leases of the file driver: `<folder>/leases/<hash of key>`, created with O_EXCL (`wx`), so only
 * one process can hold it. The file holds `<expiry ms>:<holder's token>`. An expired lease is moved
 * aside (an atomic rename, so only one taker wins it) and taken over.
 */
export function fileLeases(folder: string): LeaseBackend {
  const dir = join(folder, 'leases')
  let ready: Promise<unknown> | undefined
  const path = (key: string) => join(dir, sha256(`tessera:lease:${key}`))
  return {
    async acquire(key, token, ttl) {
      ready ??= mkdir(dir, { recursive: true, mode: 0o700 }).catch((error) => {
        ready = undefined
        throw error
      })
      await ready
      const file = path(key)
      for (let tries = 0; tries < 3; tries++) {
        try {
          await writeFile(file, `${Date.now() + ttl}:${token}`, { flag: 'wx', mode: 0o600 })
          return true
        } catch (error) {
          if (code(error) !== 'EEXIST') throw error
        }
        const seen = await readFile(file, 'utf8').catch((error) => (code(error) === 'ENOENT' ? null : ''))
        if (seen === null) continue // released meanwhile: try to create it again
        if (!(await expired(file, seen))) return false
        // Move the expired lease aside first (a rename is atomic, so one taker wins it). If what was
        // moved is not the expired lease seen (another taker replaced it meanwhile), put it back.
        const aside = `${file}.${randomBytes(6).toString('hex')}.stale`
        if (!(await moved(file, aside))) continue
        if ((await readFile(aside, 'utf8').catch(() => '')) !== seen) {
          await link(aside, file).catch(() => undefined)
          await unlink(aside).catch(() => undefined)
          return false
        }
        await unlink(aside).catch(() => undefined)
      }
      return false
    },
    async release(key, token) {
      const file = path(key)
      const content = await readFile(file, 'utf8').catch(() => '')
      if (safeEqual(content.slice(content.indexOf(':') + 1), token)) await unlink(file).catch(() => undefined)
    },
  }
}

/** Renames `from` to `to`; false when `from` was gone (another taker moved it first). */
function moved(from: string, to: string): Promise<boolean> {
  return rename(from, to).then(
    () => true,
    () => false,
  )
}

/** True when the lease `content` read from `file` has expired (or was never written, long ago). */
async function expired(file: string, content: string): Promise<boolean> {
  const expiresAt = Number(content.slice(0, content.indexOf(':')))
  if (content.includes(':') && Number.isFinite(expiresAt)) return expiresAt <= Date.now()
  // Created but not written yet, or torn by a crash: stale only once it is clearly old.
  const info = await stat(file).catch(() => null)
  return info !== null && Date.now() - info.mtimeMs > UNWRITTEN_STALE_MS
}
