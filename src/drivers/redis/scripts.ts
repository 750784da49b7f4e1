import { createHash } from 'node:crypto'
import type { Change } from '../contract.js'

/**
 * The Lua scripts behind the Redis driver. Each touches exactly one key, so every script call is
 * valid on Redis Cluster. Scripts compute first and write last: Redis does not roll a script
 * back when it stops halfway, so nothing is written unless the whole change log applies.
 */

/**
 * Lua that replaces the hash at `key` with the field/value pairs from ARGV[firstPair] on (HSET in
 * slices of 200 arguments, under Lua's unpack limit) and sets its expiry from ARGV[ttlArg].
 */
function replaceHash(firstPair: number, ttlArg: number): string {
  return `redis.call('DEL', key)
local n = #ARGV
local i = ${firstPair}
while i <= n do
  local last = math.min(i + 199, n)
  redis.call('HSET', key, unpack(ARGV, i, last))
  i = last + 1
end
redis.call('PEXPIRE', key, ARGV[${ttlArg}])`
}

/** Replaces the session hash. ARGV: ttl, then field/value pairs. Returns the previous user id. */
const WRITE = `
local key = KEYS[1]
local previous = redis.call('HGET', key, '_u')
${replaceHash(2, 1)}
return previous
`

/** Re-arms expiry of a live session. ARGV: now, expiresAt, ttl. Returns 1, or 0 when missing. */
const TOUCH = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, '_l', ARGV[1], '_e', ARGV[2])
redis.call('PEXPIRE', key, ARGV[3])
return 1
`

/**
 * Applies a change log to a live session. ARGV: now, expiresAt, ttl, native ('1' when values are
 * plain JSON text), then triples (op, a, b):
 *   s key value · d key · c · i key by · p key value · f value · F · u userId device · U device
 * Returns {'missing'}; {'fallback', hgetall} when an increment/push cannot be done on the stored
 * text (sealed or non-integer values: the driver then merges in JavaScript); or
 * {'applied', previousUser, currentUser}.
 */
const PATCH = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {'missing'} end
local native = ARGV[4] == '1'
local pending = {}
local meta = {}
local cleared = false
local function current(field)
  local value = pending[field]
  if value ~= nil then return value or nil end
  if cleared then return nil end
  return redis.call('HGET', key, field) or nil
end
local function fallback()
  return {'fallback', redis.call('HGETALL', key)}
end
local limit = 9007199254740991
local i = 5
while i <= #ARGV do
  local op, a, b = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  if op == 's' then
    pending['d:' .. a] = b
  elseif op == 'd' then
    pending['d:' .. a] = false
  elseif op == 'c' then
    cleared = true
    pending = {}
  elseif op == 'i' then
    if not native then return fallback() end
    local stored = current('d:' .. a)
    local base = 0
    if stored ~= nil and stored ~= 'null' then
      if #stored > 17 or not string.match(stored, '^%-?%d+$') then return fallback() end
      base = tonumber(stored)
    end
    local sum = base + tonumber(b)
    if base > limit or base < -limit or sum > limit or sum < -limit then return fallback() end
    if sum == 0 then pending['d:' .. a] = '0' else pending['d:' .. a] = string.format('%.0f', sum) end
  elseif op == 'p' then
    if not native then return fallback() end
    local stored = current('d:' .. a)
    if stored == nil or stored == 'null' or string.match(stored, '^%[%s*%]$') then
      pending['d:' .. a] = '[' .. b .. ']'
    elseif string.sub(stored, 1, 1) == '[' and string.sub(stored, -1) == ']' then
      pending['d:' .. a] = string.sub(stored, 1, -2) .. ',' .. b .. ']'
    else
      return fallback()
    end
  elseif op == 'f' then
    meta['_f'] = a
  elseif op == 'F' then
    meta['_f'] = false
  elseif op == 'u' then
    meta['_u'] = a
    if b ~= '' then meta['_d'] = b end
  elseif op == 'U' then
    meta['_u'] = false
    if b ~= '' then meta['_d'] = b end
  end
end
local previous = redis.call('HGET', key, '_u') or ''
if cleared then
  local fields = redis.call('HKEYS', key)
  for _, field in ipairs(fields) do
    if string.sub(field, 1, 2) == 'd:' and pending[field] == nil then redis.call('HDEL', key, field) end
  end
end
for field, value in pairs(pending) do
  if value then redis.call('HSET', key, field, value) else redis.call('HDEL', key, field) end
end
for field, value in pairs(meta) do
  if value then redis.call('HSET', key, field, value) else redis.call('HDEL', key, field) end
end
redis.call('HINCRBY', key, '_v', 1)
redis.call('HSET', key, '_l', ARGV[1], '_e', ARGV[2])
redis.call('PEXPIRE', key, ARGV[3])
return {'applied', previous, redis.call('HGET', key, '_u') or ''}
`

/**
 * Compare-and-set for changes merged in JavaScript: replaces the hash only if its version is
 * still the one that was read. ARGV: expected version, ttl, then field/value pairs.
 * Returns {'missing'}, {'conflict', hgetall} or {'applied', previousUser}.
 */
const REPLACE_IF_VERSION = `
local key = KEYS[1]
local version = redis.call('HGET', key, '_v')
if not version then return {'missing'} end
if version ~= ARGV[1] then return {'conflict', redis.call('HGETALL', key)} end
local previous = redis.call('HGET', key, '_u') or ''
${replaceHash(3, 2)}
return {'applied', previous}
`

/** Deletes a session. ARGV[1]: when given, delete only if the session belongs to this user. Returns {deleted, userId}. */
const DESTROY = `
local key = KEYS[1]
local user = redis.call('HGET', key, '_u') or ''
if ARGV[1] ~= nil and ARGV[1] ~= '' and user ~= ARGV[1] then return {0, user} end
return {redis.call('DEL', key), user}
`

/** Releases a lock only if the caller still holds it (its token), so an expired lease taken over by another holder is left alone. */
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/** A Lua script called by SHA (EVALSHA), loaded with EVAL when the server does not know it yet. */
export class Script {
  readonly sha: string
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex')
  }
}

export const SCRIPTS = {
  write: new Script(WRITE),
  touch: new Script(TOUCH),
  patch: new Script(PATCH),
  replaceIfVersion: new Script(REPLACE_IF_VERSION),
  destroy: new Script(DESTROY),
  unlock: new Script(UNLOCK),
} as const

/** The user a change log leaves the session bound to, when it binds one. */
export function finalUser(changes: readonly Change[]): string | null {
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i] as Change
    if (change.op === 'user') return change.userId
  }
  return null
}

/** The change log as the PATCH script's (op, a, b) triples. */
export function encodeChanges(changes: readonly Change[]): string[] {
  const args: string[] = []
  for (const change of changes) {
    switch (change.op) {
      case 'set':
        args.push('s', change.key, change.value)
        break
      case 'delete':
        args.push('d', change.key, '')
        break
      case 'clear':
        args.push('c', '', '')
        break
      case 'increment':
        args.push('i', change.key, String(change.by))
        break
      case 'push':
        args.push('p', change.key, change.value)
        break
      case 'flash':
        if (change.value === null) args.push('F', '', '')
        else args.push('f', change.value, '')
        break
      case 'user': {
        const device = change.device ? JSON.stringify(change.device) : ''
        if (change.userId === null) args.push('U', '', device)
        else args.push('u', change.userId, device)
        break
      }
    }
  }
  return args
}
