import { createHash, timingSafeEqual } from 'node:crypto'
import express, { type NextFunction, type Request, type Response } from 'express'
import { SessionManager } from 'tessera'
import { renderDashboard, html } from 'tessera/admin'
import { csrf, session, type SessionRequest } from 'tessera/express'
import { layout, errorPage, type Flash } from './views.js'

type Req = Request & SessionRequest

/**
 * /admin: its own sign-in (ADMIN_PASSWORD; "admin" by default, DEMO ONLY) on a second session
 * manager with its own cookie, so an admin sign-in and a user sign-in never share a session.
 * Everything shown comes from `manager.metrics()`.
 */
export function adminRouter(manager: SessionManager, options: { password: string; key: string }) {
  const admins = new SessionManager({
    driver: 'memory',
    lifetime: 30,
    keys: [options.key],
    cookie: { name: 'tessera_admin', path: '/admin', sameSite: 'strict' },
  })
  const router = express.Router()
  router.use(session(admins))
  router.use(express.urlencoded({ extended: false, limit: '4kb' }))
  router.use(csrf())

  const flashOf = (req: Req): Flash | undefined => req.session.flashMessages.get('flash') as Flash | undefined
  const isAdmin = (req: Req) => req.session.get('admin') === true
  const guard = (req: Request, res: Response, next: NextFunction) => (isAdmin(req as Req) ? next() : res.redirect(303, '/admin/login'))

  router.get('/login', (req, res) => {
    const r = req as Req
    if (isAdmin(r)) return res.redirect(303, '/admin')
    const body = html`<div class="auth single">
  <section class="panel" aria-labelledby="admin-signin">
    <h1 id="admin-signin">Admin sign-in</h1>
    <p class="lead">The demo’s admin password is <kbd>admin</kbd> unless <code>ADMIN_PASSWORD</code> is set.</p>
    <form method="post" action="/admin/login" class="stack">
      <input type="hidden" name="_csrf" value="${r.session.auth.csrfToken()}">
      <div class="field"><label for="admin-password">Admin password</label>
      <input id="admin-password" name="password" type="password" autocomplete="current-password" required autofocus></div>
      <button type="submit" class="button primary">Sign in</button>
    </form>
  </section>
</div>`
    res.type('html').send(layout(body, { title: 'Admin sign-in', area: 'admin', flash: flashOf(r) }))
  })

  router.post('/login', async (req, res) => {
    const r = req as Req
    const given = typeof req.body?.password === 'string' ? req.body.password : ''
    if (!samePassword(given, options.password)) {
      r.session.flash('flash', { kind: 'error', text: 'Wrong admin password.' })
      return res.redirect(303, '/admin/login')
    }
    await r.session.regenerate()
    r.session.put('admin', true)
    res.redirect(303, '/admin')
  })

  router.post('/logout', async (req, res) => {
    await (req as Req).session.invalidate()
    res.redirect(303, '/admin/login')
  })

  router.get('/', guard, (req, res) => {
    const r = req as Req
    const token = r.session.auth.csrfToken()
    const body = html`<h1>Sessions</h1>${renderDashboard(manager.metrics({ topUsers: 20 }), { csrfToken: token, revokeAction: '/admin/revoke' })}`
    res.type('html').send(
      layout(body, {
        title: 'Admin',
        area: 'admin',
        user: 'admin',
        csrfToken: token,
        current: 'admin',
        flash: flashOf(r),
        scripts: ['/assets/admin.js'],
      }),
    )
  })

  router.get('/metrics.json', guard, (_req, res) => {
    res.set('cache-control', 'no-store').json(manager.metrics({ topUsers: 20 }))
  })

  router.post('/revoke', guard, async (req, res) => {
    const r = req as Req
    const userId = typeof req.body?.userId === 'string' ? req.body.userId : ''
    const removed = userId === '' ? 0 : await manager.users.revokeAll(userId)
    r.session.flash('flash', { kind: 'success', text: `Revoked ${removed} ${removed === 1 ? 'session' : 'sessions'} of ${userId}.` })
    res.redirect(303, '/admin')
  })

  router.use(
    (_req, res) =>
      void res
        .status(404)
        .type('html')
        .send(errorPage(404, 'Page not found', 'There is nothing at this address.', '/admin')),
  )
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : 500
    if (status >= 500) console.error(error)
    if (!res.headersSent)
      res
        .status(status)
        .type('html')
        .send(
          errorPage(
            status,
            status === 403 ? 'Request refused' : 'Something went wrong',
            status === 403 ? 'The form was sent from another site or with an expired token.' : 'The request could not be completed.',
            '/admin',
          ),
        )
  })

  return { router, close: () => admins.close() }
}

/** Compares in constant time (over fixed-length digests), so the answer time says nothing about the password. */
function samePassword(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(given), digest(expected))
}
