/**
 * Express adapter (Express 4 and 5): `app.use(session(manager))`, then `req.session`.
 * Express middleware is connect middleware, so this is the connect adapter under its own name.
 */
export { session } from './connect.js'
export type { ConnectMiddleware, SessionRequest } from './connect.js'
export { csrf } from './csrf.js'
export { verifyCsrf } from '../security/csrf.js'
export { rememberMeMiddleware } from './remember-me.js'
export type { CsrfOptions } from '../security/csrf.js'
export { readonlySession } from './lifecycle.js'
export type { SessionMiddlewareOptions } from './lifecycle.js'
