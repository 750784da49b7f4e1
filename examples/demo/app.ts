import { readFileSync } from 'node:fs'
import express, { type NextFunction, type Request, type Response } from 'express'
import { errors, rememberMe, SessionManager, type Session } from 'tessera'
import { csrf, rememberMeMiddleware, session, type SessionRequest } from 'tessera/express'
import { adminRouter } from './admin.js'
import { DEMO_ONLY_KEY, managerOptions, type DemoEnv } from './config.js'
import { deviceName } from './devices.js'
import { dashboardPage, devicesPage, errorPage, loginPage, type Flash } from './views.js'

export interface DemoOptions {
  env?: DemoEnv & { ADMIN_PASSWORD?: string | undefined }
}

type Req = Request & SessionRequest

const CSS = readFileSync(new URL('./public/style.css', import.meta.url))
const ADMIN_JS = readFileSync(new URL('./public/admin.js', import.meta.url))

/** Reads this request's flash message (set by the previous request). */
function flashOf(session: Session): Flash | undefined {
  const flash = session.flashMessages.get('flash') as Flash | undefined
  return flash && typeof flash.text === 'string' ? flash : undefined
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return rest.join('=')
  }
  return undefined
}

function deviceOf(req: Request) {
  const userAgent = req.get('user-agent')
  // An IPv4 client on a dual-stack socket shows as ::ffff:1.2.3.4; show it as 1.2.3.4.
  const ip = req.socket.remoteAddress?.replace(/^::ffff:/, '')
  return { name: deviceName(userAgent), ...(ip ? { ip } : {}), ...(userAgent ? { userAgent } : {}) }
}

/** The demo app: sign in (with remember-me), a dashboard, your devices, and /admin. */
export function createDemoApp(options: DemoOptions = {}) {
  const env = options.env ?? process.env
  const manager = new SessionManager(managerOptions(env))
  const remember = rememberMe(manager)
  const driver = String((managerOptions(env).drivers as Record<string, { driver: string }>).main?.driver)
  const admin = adminRouter(manager, { password: env.ADMIN_PASSWORD ?? 'admin', key: env.SESSION_KEY ?? DEMO_ONLY_KEY })

  const app = express()
  app.disable('x-powered-by')
  app.use((_req, res, next) => {
    // Everything is served from this origin: no CDN, no web font, no inline script.
    res.set(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    res.set('referrer-policy', 'same-origin')
    res.set('x-content-type-options', 'nosniff')
    next()
  })
  app.get('/assets/style.css', (_req, res) => void res.type('text/css').set('cache-control', 'no-cache').send(CSS))
  app.get('/assets/admin.js', (_req, res) => void res.type('text/javascript').set('cache-control', 'no-cache').send(ADMIN_JS))
  app.use('/admin', admin.router)

  app.use(session(manager))
  app.use(express.urlencoded({ extended: false, limit: '8kb' }))
  app.use(rememberMeMiddleware(remember))
  app.use(csrf())

  const signedIn = (req: Request, res: Response, next: NextFunction) => {
    if ((req as Req).session.auth.userId === undefined) return res.redirect(303, '/login')
    next()
  }
  const say = (session: Session, kind: Flash['kind'], text: string) => session.flash('flash', { kind, text })

  app.get('/login', (req, res) => {
    const { session } = req as Req
    if (session.auth.userId !== undefined) return res.redirect(303, '/')
    res.type('html').send(
      loginPage(session.auth.csrfToken(), {
        flash: flashOf(session),
        username: session.flashMessages.get('username') as string | undefined,
      }),
    )
  })

  app.post('/login', async (req, res) => {
    const { session } = req as Req
    const username = typeof req.body?.username === 'string' ? req.body.username.trim().slice(0, 40) : ''
    if (username === '' || req.body?.password !== 'demo') {
      say(session, 'error', 'That username and password did not match. The password is “demo”.')
      session.flash('username', username)
      return res.redirect(303, '/login')
    }
    const device = deviceOf(req)
    // A new id at every privilege change: a session id planted before login is now worthless.
    await session.regenerate()
    session.auth.setUser(username, device)
    if (req.body.remember === '1') res.append('set-cookie', remember.setCookie(await remember.issue(username, { device })))
    say(session, 'success', `Welcome, ${username}. You are signed in.`)
    res.redirect(303, '/')
  })

  app.get('/', signedIn, (req, res) => {
    const { session } = req as Req
    const visits = session.increment('visits')
    res.type('html').send(
      dashboardPage({
        user: session.auth.userId as string,
        csrfToken: session.auth.csrfToken(),
        visits,
        notes: session.get('notes', []) as string[],
        flash: flashOf(session),
        sessionStartedAt: session.status.meta?.createdAt,
        driver,
      }),
    )
  })

  app.post('/notes', signedIn, (req, res) => {
    const { session } = req as Req
    const note = typeof req.body?.note === 'string' ? req.body.note.trim().slice(0, 200) : ''
    if (note === '') say(session, 'error', 'Write something first: the note was empty.')
    else {
      session.push('notes', note)
      say(session, 'success', 'Note saved.')
    }
    res.redirect(303, '/')
  })

  app.get('/devices', signedIn, async (req, res) => {
    const { session } = req as Req
    const sessions = await manager.users.list(session.auth.userId as string)
    res.type('html').send(
      devicesPage({
        user: session.auth.userId as string,
        csrfToken: session.auth.csrfToken(),
        sessions,
        currentKey: session.status.storageKey,
        flash: flashOf(session),
      }),
    )
  })

  app.post('/devices/revoke', signedIn, async (req, res) => {
    const { session } = req as Req
    const key = typeof req.body?.key === 'string' ? req.body.key : ''
    // { userId } makes sure people can only sign out their own devices.
    const revoked = key !== session.status.storageKey && (await manager.users.revoke(key, { userId: session.auth.userId as string }))
    say(session, revoked ? 'success' : 'info', revoked ? 'That device is signed out.' : 'That device was already signed out.')
    res.redirect(303, '/devices')
  })

  app.post('/devices/revoke-all', signedIn, async (req, res) => {
    const { session } = req as Req
    const count = await manager.users.revokeAll(session.auth.userId as string)
    await session.invalidate()
    res.append('set-cookie', remember.clearCookie())
    say(session, 'success', `Signed out everywhere (${count} ${count === 1 ? 'session' : 'sessions'} ended).`)
    res.redirect(303, '/login')
  })

  app.post('/logout', async (req, res) => {
    const { session } = req as Req
    await remember.revoke(cookieOf(req, remember.cookieName))
    res.append('set-cookie', remember.clearCookie())
    await session.invalidate()
    say(session, 'info', 'You are signed out.')
    res.redirect(303, '/login')
  })

  app.use(
    (_req, res) =>
      void res
        .status(404)
        .type('html')
        .send(errorPage(404, 'Page not found', 'There is nothing at this address.')),
  )
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = error instanceof errors.SessionError ? error.status : 500
    if (status >= 500) console.error(error instanceof errors.SessionError ? `${error.code}: ${error.message}` : error)
    const [title, text] =
      status === 403
        ? ['Request refused', 'This form was sent from another site or with an expired token. Go back, reload the page and try again.']
        : status === 429
          ? ['Too many attempts', 'Wait a moment, then try again.']
          : status === 503
            ? ['Session store unavailable', 'The session store could not be reached. Try again shortly.']
            : ['Something went wrong', 'The request could not be completed.']
    if (!res.headersSent)
      res
        .status(status)
        .type('html')
        .send(errorPage(status, title, text))
  })

  return {
    app,
    manager,
    async close() {
      await Promise.all([manager.close(), admin.close()])
    },
  }
}
