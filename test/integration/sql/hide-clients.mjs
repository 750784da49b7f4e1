// Preload for a child process: makes `better-sqlite3`, `pg` and `ioredis` unresolvable, as in an app that
// never installed them, so the missing-client error can be tested for real.
import { register } from 'node:module'

const hook = `
export async function resolve(specifier, context, next) {
  if (specifier === 'better-sqlite3' || specifier === 'pg' || specifier === 'ioredis') {
    const error = new Error("Cannot find package '" + specifier + "'")
    error.code = 'ERR_MODULE_NOT_FOUND'
    throw error
  }
  return next(specifier, context)
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
